#    Copyright 2026 gpupassthrough-osc developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Host checks and config on fake sysfs trees: each check fires and not."""

import os
import shutil

import fixtures
import testtools

from gpupassthrough_osc.host import checks
from gpupassthrough_osc.host import config
from gpupassthrough_osc.host import sysfs
from gpupassthrough_osc import severity
from tests import hostfixture


class HostTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path

    def facts(self, build=None, **kw):
        if build:
            build(self.root)
        return sysfs.read_host(self.root)

    def results(self, facts, name, wanted=()):
        return [r for r in checks.run(facts, wanted) if r.check == name]

    def status(self, facts, name):
        return [r.status for r in self.results(facts, name)]


class TestCleanA40(HostTestCase):

    def test_everything_ok(self):
        facts = self.facts(hostfixture.a40_amd_clean)
        results = checks.run(facts)
        self.assertEqual({'ok'}, {r.status for r in results},
                         [r for r in results if r.status != 'ok'])
        self.assertEqual('ok', severity.worst(r.status for r in results))

    def test_nova_will_record_type_pf(self):
        facts = self.facts(hostfixture.a40_amd_clean)
        [row] = self.results(facts, 'nova-dev-type')
        self.assertIn('type-PF', row.seen)
        self.assertIn('"device_type": "type-PF"', row.seen)

    def test_bridge_in_group_is_not_a_companion(self):
        host = hostfixture.a40_amd_clean(self.root)
        host.add('0000:21:00.9', '1022:1484', '060400', driver='pcieport',
                 group=13)
        facts = sysfs.read_host(self.root)
        self.assertEqual(['ok'], self.status(facts, 'iommu-group'))

    def test_host_config_has_nothing_to_do(self):
        facts = self.facts(hostfixture.a40_amd_clean)
        changes = config.plan(facts, checks.select_gpus(facts))
        self.assertEqual([], [c.target for c in changes if c.needed])

    def test_vfs_enabled_warns(self):
        host = hostfixture.FakeHost(self.root, cmdline='iommu=pt')
        host.add('0000:21:00.0', '10de:2235', '030200', driver='vfio-pci',
                 group=1, totalvfs=16, numvfs=4)
        self.assertEqual(['warning'], self.status(sysfs.read_host(
            self.root), 'sriov-vfs'))

    def test_amd_iommu_on_not_needed(self):
        hostfixture.FakeHost(self.root, cpu=hostfixture.AMD,
                             cmdline='amd_iommu=on')
        [row] = self.results(sysfs.read_host(self.root), 'iommu-cmdline')
        self.assertEqual('ok', row.status)
        self.assertIn('not needed', row.seen)


class TestTypeCTrap(HostTestCase):

    def test_group_not_viable_names_builtin_driver(self):
        facts = self.facts(hostfixture.rtx6000_intel_typec)
        [row] = self.results(facts, 'iommu-group')
        self.assertEqual('error', row.status)
        self.assertIn('0000:3b:00.2 10de:1ad6 held by xhci_hcd (built into '
                      'the kernel', row.seen)
        self.assertIn('vfio-pci.ids=10de:10f7,10de:1ad6,10de:1ad7,'
                      '10de:1e30', row.fix)

    def test_seed_modset_typo(self):
        facts = self.facts(hostfixture.rtx6000_intel_typec)
        self.assertIn('misspelt', ' '.join(
            r.seen for r in self.results(facts, 'nouveau')))

    def test_config_puts_ids_on_command_line(self):
        facts = self.facts(hostfixture.rtx6000_intel_typec)
        changes = {c.target: c for c in config.plan(
            facts, checks.select_gpus(facts))}
        kernel = changes[config.KERNEL]
        self.assertTrue(kernel.needed)
        self.assertIn('vfio-pci.ids=10de:10f7,10de:1ad6,10de:1ad7,'
                      '10de:1e30', kernel.lines)
        self.assertIn('rd.driver.pre=vfio-pci', kernel.lines)  # centos
        self.assertIn(config.DRACUT_CONF, changes)
        self.assertIn('grubby --update-kernel=ALL', changes['run'].lines[0])
        # a softdep cannot beat a built-in driver: none proposed for it
        self.assertEqual(['options vfio-pci ids=10de:10f7,10de:1ad6,'
                          '10de:1ad7,10de:1e30'],
                         changes[config.MODPROBE_VFIO].lines)

    def test_modprobe_method_when_asked(self):
        facts = self.facts(hostfixture.rtx6000_intel_typec)
        kernel = config.plan(facts, checks.select_gpus(facts),
                             how='modprobe')[0]
        self.assertFalse(any(a.startswith('vfio-pci.ids')
                             for a in kernel.lines))


class TestAudioOnHostDriver(HostTestCase):

    def test_fires(self):
        facts = self.facts(hostfixture.rtx3090_audio)
        [row] = self.results(facts, 'iommu-group')
        self.assertEqual('error', row.status)
        self.assertIn('held by snd_hda_intel', row.seen)
        self.assertNotIn('built into', row.seen)

    def test_config_uses_modprobe_and_softdep(self):
        facts = self.facts(hostfixture.rtx3090_audio)
        changes = {c.target: c for c in config.plan(
            facts, checks.select_gpus(facts))}
        self.assertEqual(['options vfio-pci ids=10de:1aef,10de:2204',
                          'softdep snd_hda_intel pre: vfio-pci'],
                         changes[config.MODPROBE_VFIO].lines)
        self.assertFalse(changes[config.KERNEL].needed)
        self.assertIn(config.INITRAMFS_MODULES, changes)  # debian


class TestIommuOffAndNouveau(HostTestCase):

    def test_fires(self):
        facts = self.facts(hostfixture.v100s_iommu_off)
        self.assertEqual(['error'], self.status(facts, 'iommu-active'))
        self.assertEqual(['error'], self.status(facts, 'iommu-cmdline'))
        self.assertEqual(['warning'], self.status(facts, 'iommu-pt'))
        self.assertEqual(['error', 'error'], self.status(facts, 'nouveau'))
        self.assertEqual(['error'], self.status(facts, 'vfio-modules'))
        self.assertEqual(['error'], self.status(facts, 'gpu-driver'))
        self.assertEqual([], self.status(facts, 'iommu-group'))

    def test_gpu_filter(self):
        facts = self.facts(hostfixture.v100s_iommu_off)
        self.assertEqual([], checks.select_gpus(facts, ['10de:2235']))
        self.assertEqual(1, len(checks.select_gpus(facts, ['10DE:1DF6'])))

    def test_no_gpu_warns(self):
        hostfixture.FakeHost(self.root)
        self.assertEqual(['warning'], self.status(sysfs.read_host(
            self.root), 'gpus'))


class TestConfigText(testtools.TestCase):

    def test_updated_text_replaces_old_ids_keeps_rest(self):
        old = '# mine\noptions vfio-pci ids=10de:2204\nsoftdep x pre: y\n'
        new = config.updated_text(old, [
            'options vfio-pci ids=10de:2204,10de:1aef'])
        self.assertEqual('# mine\nsoftdep x pre: y\n'
                         'options vfio-pci ids=10de:2204,10de:1aef\n', new)
        self.assertEqual(new, config.updated_text(new, [
            'options vfio-pci ids=10de:1aef,10de:2204']))

    def test_grub_default(self):
        text = 'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'
        self.assertEqual(
            'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=pt"\n',
            config.grub_default_update(text, ['quiet', 'iommu=pt']))
        self.assertIn('GRUB_CMDLINE_LINUX_DEFAULT="iommu=pt"',
                      config.grub_default_update('', ['iommu=pt']))

    def test_hostdev_xml(self):
        xml = config.hostdev_xml('0000:21:00.0')
        self.assertIn("<address domain='0x0000' bus='0x21' slot='0x00' "
                      "function='0x0'/>", xml)
        self.assertIn("<driver name='vfio'/>", xml)


class TestFactsOnly(HostTestCase):

    def test_config_plans_from_the_facts_alone(self):
        # host/config.py compares with what host/sysfs.py read; the tree
        # is gone by the time it plans
        facts = self.facts(hostfixture.a40_amd_clean)
        shutil.rmtree(self.root)
        changes = config.plan(facts, checks.select_gpus(facts))
        self.assertEqual([], [c.target for c in changes if c.needed])

    def test_config_files_by_path_under_root(self):
        facts = self.facts(hostfixture.a40_amd_clean)
        self.assertEqual(['vfio', 'vfio_pci', 'vfio_iommu_type1'],
                         facts.config_files['/etc/modules-load.d/vfio.conf'])
        self.assertIn((os.path.join(self.root, 'etc/modprobe.d/vfio.conf'),
                       'options vfio-pci ids=10de:2235'),
                      facts.modprobe_lines)

    def test_pci_ids(self):
        os.makedirs(os.path.join(self.root, 'usr/share/misc'))
        with open(os.path.join(self.root, 'usr/share/misc/pci.ids'),
                  'w') as f:
            f.write('# pci.ids\n144d  Samsung Electronics Co Ltd\n'
                    '\ta808  NVMe SSD Controller SM981/PM981/PM983\n'
                    '\t\t144d a801  SSD 970 EVO\nC 00  Unclassified\n'
                    '\t01  not a device\n')
        self.assertEqual(
            {('144d', 'a808'): 'NVMe SSD Controller SM981/PM981/PM983'},
            sysfs.read_pci_ids(self.root))
        self.assertEqual({}, sysfs.read_pci_ids(
            os.path.join(self.root, 'nothing')))
