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

"""`openstack gpu host ...` on fake host trees and on this machine."""

import os

import fixtures

from tests.functional import base
from tests import hostfixture


class HostTestCase(base.OpenStackTestCase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path

    def host(self, *args, **kw):
        return self.openstack('gpu', 'host', *args, '--root', self.root,
                              **kw)


class TestOnThisMachine(base.OpenStackTestCase):

    def test_commands_do_not_crash_on_root(self):
        for args in (['check'], ['iommu-groups'], ['config'],
                     ['iommu-groups', '--all']):
            result = self.openstack('gpu', 'host', *args, '-f', 'json')
            self.assertIn(result.rc, (0, 1), result.stderr)
            self.assertNotIn('Traceback', result.stderr)
            result.json()


class TestFixtures(HostTestCase):

    def test_clean_a40_exits_zero(self):
        hostfixture.a40_amd_clean(self.root)
        rows = self.host('check', '-f', 'json', check=0).json()
        self.assertEqual({'ok'}, {r['Status'] for r in rows})
        config = self.host('config', '-f', 'json', check=0).json()
        self.assertEqual({'nothing to do'}, {r['Action'] for r in config})

    def test_type_c_trap_found_and_config_proposed(self):
        hostfixture.rtx6000_intel_typec(self.root)
        result = self.host('check', '-f', 'json')
        self.assertEqual(1, result.rc)
        bad = [r for r in result.json() if r['Status'] == 'error']
        self.assertEqual(['iommu-group'], [r['Check'] for r in bad])
        self.assertIn('xhci_hcd (built into the kernel', bad[0]['Seen'])

        groups = self.host('iommu-groups', '-f', 'json', check=0).json()
        self.assertEqual(['GPU', 'companion', 'companion', 'companion'],
                         [g['Role'] for g in groups])

        self.host('config', '--write', '-f', 'json', check=0)
        with open(os.path.join(self.root, 'etc/modprobe.d/vfio.conf')) as f:
            self.assertEqual('options vfio-pci ids=10de:10f7,10de:1ad6,'
                             '10de:1ad7,10de:1e30\n', f.read())
        backups = os.listdir(os.path.join(self.root, 'etc/modprobe.d'))
        self.assertTrue(any(n.startswith('vfio.conf.') and
                            n.endswith('.bak') for n in backups), backups)
        again = self.host('config', '-f', 'json', check=0).json()
        needed = {r['Target'] for r in again if r['Action'] == 'needed'}
        # files are done; only the kernel command line waits for grubby
        self.assertEqual({'kernel command line', 'run'}, needed)

    def test_fail_on_never(self):
        hostfixture.v100s_iommu_off(self.root)
        self.host('check', '--fail-on', 'never', check=0)
        result = self.host('iommu-groups')
        self.assertEqual(0, result.rc)
        self.assertIn('the IOMMU is off', result.stderr)

    def test_bad_gpu_option(self):
        hostfixture.a40_amd_clean(self.root)
        self.assertCleanError(self.host('check', '--gpu', '10de2235'),
                              'VENDOR:DEVICE')

    def test_a_directory_that_is_no_host(self):
        empty = self.useFixture(fixtures.TempDir()).path
        result = self.openstack('gpu', 'host', 'check', '--root', empty)
        self.assertCleanError(result, "not a copy of a host's /proc and /sys "
                                      "(no proc/cmdline, sys/bus/pci/devices)")

    def test_missing_root(self):
        result = self.openstack('gpu', 'host', 'check', '--root',
                                '/nonexistent/root')
        self.assertCleanError(result, 'not a directory')

    def test_hostdev_xml(self):
        result = self.openstack('gpu', 'host', 'hostdev-xml', '21:00.0',
                                check=0)
        self.assertIn("bus='0x21' slot='0x00' function='0x0'",
                      result.stdout)
        self.assertCleanError(self.openstack('gpu', 'host', 'hostdev-xml',
                                             'xyz'), 'not a PCI address')
