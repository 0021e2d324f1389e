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

"""The plugin as an operator meets it: the real `openstack` executable."""

import json
import os

from tests import files
from tests.functional import base
from tests import paths


class TestPluginWiring(base.OpenStackTestCase):

    def test_version_still_works(self):
        result = self.openstack('--version', check=0)
        self.assertIn('openstack', result.stdout + result.stderr)

    def test_gpu_help_lists_commands(self):
        result = self.openstack('gpu', '--help')
        for command in ('gpu flavor create', 'gpu flavor list',
                        'gpu flavor show', 'gpu flavor set',
                        'gpu flavor unset', 'gpu alias list',
                        'gpu alias create', 'gpu device audit',
                        'gpu device list', 'gpu host check',
                        'gpu host iommu-groups', 'gpu host config',
                        'gpu host hostdev-xml'):
            self.assertIn(command, result.stdout + result.stderr)

    def test_flavor_create_help_documents_every_option(self):
        result = self.openstack('gpu', 'flavor', 'create', '--help', check=0)
        for option in ('--alias', '--vcpus', '--ram', '--disk',
                       '--ephemeral', '--swap', '--public', '--private',
                       '--project', '--property', '--description',
                       '--numa-affinity-policy', '--nova-conf',
                       '--no-alias-check'):
            self.assertIn(option, result.stdout)
        self.assertIn('deleted again', result.stdout)


class TestAliasList(base.OpenStackTestCase):

    def test_json(self):
        result = self.openstack(
            'gpu', 'alias', 'list', '--nova-conf',
            base.fixture('nova-mixed.conf'), '-f', 'json', check=0)
        rows = result.json()
        self.assertEqual(['gpuA40', 'gpuV100S', 'nvme155'],
                         [r['Name'] for r in rows])
        self.assertTrue(all(r['Valid'] for r in rows))
        self.assertEqual('type-PCI', rows[1]['Device Type'])
        self.assertNotIn('s3cret', result.stdout)

    def test_invalid_line_gets_novas_reason(self):
        result = self.openstack(
            'gpu', 'alias', 'list', '--nova-conf',
            base.fixture('nova-bad-alias.conf'), '-f', 'json', check=0)
        rows = result.json()
        self.assertEqual([True, False], [r['Valid'] for r in rows])
        self.assertIn("is not of type 'object'", rows[1]['Reason'])

    def test_two_files_each_labelled(self):
        result = self.openstack(
            'gpu', 'alias', 'list',
            '--nova-conf', base.fixture('nova-mixed.conf'),
            '--nova-conf', base.fixture('nova-bad-alias.conf'),
            '-f', 'value', '-c', 'Source', '-c', 'Name', check=0)
        lines = result.stdout.splitlines()
        self.assertEqual(5, len(lines))
        self.assertTrue(lines[3].endswith('nova-bad-alias.conf gpu3090'))

    def test_missing_file_is_one_line_error(self):
        result = self.openstack('gpu', 'alias', 'list', '--nova-conf',
                                '/nonexistent/nova.conf')
        self.assertCleanError(result, '/nonexistent/nova.conf: no such file')

    def test_unparsable_file_is_one_line_error(self):
        bad = self.useFixture(base.fixtures_tempdir()).join('nova.conf')
        with open(bad, 'w') as f:
            f.write('[pci\nalias = x\n')
        result = self.openstack('gpu', 'alias', 'list', '--nova-conf', bad)
        self.assertCleanError(result, 'cannot parse')


class TestFlavorBadInput(base.OpenStackTestCase):

    def test_bad_alias_grammar_needs_no_cloud(self):
        # refused before any authentication or REST call
        result = self.openstack(
            'gpu', 'flavor', 'create', 'x', '--vcpus', '1', '--ram', '512',
            '--disk', '1', '--alias', 'gpuA40: 1', '--no-alias-check',
            env={'OS_AUTH_TYPE': 'none', 'OS_ENDPOINT': 'http://127.0.0.1:9'})
        self.assertCleanError(result, "'gpuA40: 1'")

    def test_undefined_alias_refused(self):
        result = self.openstack(
            'gpu', 'flavor', 'create', 'x', '--vcpus', '1', '--ram', '512',
            '--disk', '1', '--alias', 'gpu3080:1', '--nova-conf',
            base.fixture('nova-mixed.conf'),
            env={'OS_AUTH_TYPE': 'none', 'OS_ENDPOINT': 'http://127.0.0.1:9'})
        self.assertCleanError(result, "'gpu3080' is not defined")


class TestConfigOnlyAudit(files.TempFiles, base.OpenStackTestCase):
    """Config-only mode, as a deployment repo's tox-based CI runs it.

    No DB, no cloud: just the nova.conf files it renders and a flavor list.
    """

    def audit_with_a40_flavor(self, conf):
        flavors = self.write('flavors.json', '[{"ID": "1", "Name": "a40", '
                             '"Properties": {"pci_passthrough:alias": '
                             '"gpuA40:1"}}]')
        return self.openstack('gpu', 'device', 'audit', '--no-db',
                              '--nova-conf', conf, '--flavors', flavors,
                              '-f', 'json')

    def test_alias_missing_on_compute_fails_the_gate(self):
        api = base.fixture('nova-mixed.conf')
        compute = self.write('compute.conf', '[pci]\nalias = {"name": '
                             '"gpuA40", "vendor_id": "10de", '
                             '"product_id": "2235"}\n')
        result = self.openstack('gpu', 'device', 'audit', '--no-db',
                                '--nova-conf', api, '--nova-conf', compute,
                                '-f', 'json')
        self.assertEqual(1, result.rc, result.stderr)
        codes = {f['Code'] for f in result.json()}
        self.assertIn('ALIAS_MISSING_ON_NODE', codes)
        self.assertIn('DEPRECATED_OPTION', codes)
        self.assertNotIn('s3cret', result.stdout)

    def test_consistent_config_passes(self):
        conf = self.write('nova.conf', '[pci]\nalias = {"name": "gpuA40", '
                          '"vendor_id": "10de", "product_id": "2235", '
                          '"device_type": "type-PF"}\n[filter_scheduler]\n'
                          'enabled_filters = ComputeFilter,'
                          'PciPassthroughFilter\n')
        result = self.audit_with_a40_flavor(conf)
        self.assertEqual(0, result.rc, result.stdout)
        self.assertEqual({'NOTE'}, {f['Code'] for f in result.json()})

    def test_scheduler_without_pci_filter_fails_the_gate(self):
        # nova 34's default enabled_filters: nothing schedules PCI
        conf = self.write('nova.conf', '[pci]\nalias = {"name": "gpuA40", '
                          '"vendor_id": "10de", "product_id": "2235", '
                          '"device_type": "type-PF"}\n')
        result = self.audit_with_a40_flavor(conf)
        self.assertEqual(1, result.rc, result.stdout)
        errors = [(f['Code'], f['Subject']) for f in result.json()
                  if f['Severity'] == 'error']
        self.assertEqual(
            [('FLAVOR_PCI_NOT_SCHEDULED', 'flavor a40'),
             ('SCHEDULER_PCI_FILTER_MISSING',
              f'{conf} [filter_scheduler] enabled_filters')], errors)
        notes = [f['Message'] for f in result.json() if f['Code'] == 'NOTE']
        self.assertIn(f"{conf} is taken as the scheduler's nova.conf",
                      ' '.join(notes))

    def test_misspelled_filter_fails_the_gate(self):
        conf = self.write('nova.conf', '[filter_scheduler]\n'
                          'enabled_filters = ComputeFilter,'
                          'PCIPassthroughFilter\n')
        result = self.audit_with_a40_flavor(conf)
        found = [f for f in result.json()
                 if f['Code'] == 'SCHEDULER_FILTER_NOT_FOUND']
        self.assertEqual(1, result.rc, result.stdout)
        self.assertIn('did you mean PciPassthroughFilter?', found[0]['Fix'])

    def test_flavor_with_undefined_alias_fails(self):
        conf = self.write('nova.conf', '[pci]\n')
        result = self.audit_with_a40_flavor(conf)
        self.assertEqual(1, result.rc)
        self.assertEqual(['FLAVOR_ALIAS_UNDEFINED'], [
            f['Code'] for f in result.json() if f['Severity'] == 'error'])

    def test_invalid_alias_names_line_services_and_dead_flavors(self):
        conf = base.fixture('nova-bad-alias.conf')
        result = self.audit_with_a40_flavor(conf)
        self.assertEqual(1, result.rc, result.stderr)
        found = {f['Code']: f for f in result.json()}
        message = found['ALIAS_INVALID']['Message']
        self.assertIn(f'{conf}:3 alias gpu3080: ', message)
        self.assertIn('nova-api (controller) and nova-compute', message)
        blocked = found['FLAVOR_BLOCKED_BY_BAD_ALIAS']
        self.assertEqual('flavor a40', blocked['Subject'])
        self.assertEqual('error', blocked['Severity'])
        self.assertIn(f'cannot boot while {conf}:3', blocked['Message'])

    def test_bad_export_is_one_line(self):
        bad = self.write('devices.txt', 'id\tvendor_id\n1\t10de\n')
        result = self.openstack('gpu', 'device', 'audit', '--nova-conf',
                                base.fixture('nova-mixed.conf'),
                                '--pci-devices', bad)
        self.assertCleanError(result, 'devices.txt: row 1 lacks')

    def test_readme_main_command(self):
        examples = base.EXAMPLES
        result = self.openstack(
            'gpu', 'device', 'audit', '--nova-conf',
            f'{examples}/nova.conf', '--pci-devices',
            f'{examples}/pci_devices.txt', '--compute-nodes',
            f'{examples}/compute_nodes.txt', '--flavors',
            f'{examples}/flavors.json', '-f', 'json')
        self.assertEqual(1, result.rc)
        [drops] = [f for f in result.json() if f['Code'] == 'ALIAS_DROPS_PF']
        self.assertIn('alias = {"name": "gpuA40", "vendor_id": "10de", '
                      '"product_id": "2235", "device_type": "type-PF"}',
                      drops['Fix'])
        self.assertIn('gpu-a40-01', drops['Message'])
        self.assertNotIn('example-password', result.stdout + result.stderr)

    def test_numa_from_exports(self):
        # the two A40s of gpu-a40-01 sit on NUMA nodes 0 and 1
        examples = base.EXAMPLES
        conf = self.write('nova.conf', '[pci]\nalias = {"name": "gpuA40", '
                          '"vendor_id": "10de", "product_id": "2235", '
                          '"device_type": "type-PF"}\n')
        flavors = self.write('flavors.json', (
            '[{"ID": "1", "Name": "a40.2.pinned", "VCPUs": 16, "RAM": '
            '65536, "Properties": {"pci_passthrough:alias": "gpuA40:2", '
            '"hw:cpu_policy": "dedicated"}}]'))
        audit = ('gpu', 'device', 'audit', '--nova-conf', conf,
                 '--pci-devices', f'{examples}/pci_devices.txt',
                 '--flavors', flavors, '-f', 'json', '--compute-nodes')
        result = self.openstack(*audit, f'{examples}/compute_nodes.txt')
        self.assertEqual(1, result.rc, result.stdout)
        [found] = [f for f in result.json()
                   if f['Code'] == 'FLAVOR_NUMA_UNSATISFIABLE']
        self.assertEqual('flavor a40.2.pinned', found['Subject'])
        self.assertIn('best host gpu-a40-01 has 1 on node 0, 1 on node 1',
                      found['Message'])

        nodes = self.write('nodes.txt', 'id\thost\n72\tgpu-a40-01\n')
        result = self.openstack(*audit, nodes)
        self.assertEqual(0, result.rc, result.stdout)
        [note] = [f for f in result.json()
                  if f['Code'] == 'FLAVOR_NUMA_UNCHECKED']
        self.assertIn('no numa_topology column', note['Message'])


class TestServerExplainOldServerShow(base.OpenStackTestCase):
    """`server show` below microversion 2.47 names the flavor only."""

    def setUp(self):
        super().setUp()
        with open(paths.fixture('server-show', 'no-valid-host.json')) as f:
            body = json.load(f)
        body['flavor'] = 'gpu.a40 (0b3e6f2a-40a4-4a40-8a40-0000000000a4)'
        self.show = os.path.join(self.useFixture(base.fixtures_tempdir()).path,
                                 'show.json')
        with open(self.show, 'w') as f:
            json.dump(body, f)

    def explain(self, *more):
        return self.openstack(
            'gpu', 'server', 'explain', 'train-1', '--server-show',
            self.show, '--nova-conf', paths.example('nova.conf'),
            '--pci-devices', paths.example('pci_devices.txt'),
            '--compute-nodes', paths.example('compute_nodes.txt'), *more,
            '-f', 'json', check=0).json()

    def test_unknown_extra_specs_explain_no_host(self):
        # not "fits now" for a flavor that only seems to ask for nothing
        shown = self.explain()
        self.assertEqual([], shown['Hosts'])
        self.assertIn('hosts not explained: the extra specs of flavor '
                      'gpu.a40 are unknown', shown['Notes'][-1])

    def test_the_flavor_comes_from_the_flavors_export(self):
        shown = self.explain('--flavors', paths.example('flavors.json'))
        verdicts = {h['Host']: h['Verdict'] for h in shown['Hosts']}
        self.assertEqual('never fits', verdicts['gpu-a40-01'])
        self.assertIn('unrequested PF', shown['Cause'])
