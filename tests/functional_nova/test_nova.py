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

"""Against nova itself: its compute API, its schema, its validators.

Every command runs through the real `openstack` executable. Rows for the
audit are inserted with SQL into the tables `nova-manage` created.
"""

import json
import os

from tests.functional import base
from tests.functional import mariadb
from tests.functional import novadata
from tests.functional_nova import novaapi

A40 = '{"name": "gpuA40", "vendor_id": "10de", "product_id": "2235"}'
NVME = '{"name": "nvme155", "vendor_id": "144d", "product_id": "a808"}'


class NovaTestCase(base.OpenStackTestCase):

    def setUp(self):
        super().setUp()
        self.nova = self.useFixture(novaapi.NovaApi([A40, NVME]))

    def os(self, *args, token='admin:admin', **kw):
        env = {'OS_CLIENT_CONFIG_FILE': self.nova.clouds_yaml(token)}
        return self.openstack('--os-cloud', 'nova', *args, env=env, **kw)

    def show(self, flavor):
        return self.os('flavor', 'show', flavor, '-f', 'json',
                       check=0).json()

    def requests(self):
        path = os.path.join(self.nova.dir, 'requests.log')
        with open(path) as f:
            return f.read().splitlines()

    def reset_requests(self):
        open(os.path.join(self.nova.dir, 'requests.log'), 'w').close()


class TestFlavors(NovaTestCase):

    def test_create_one_and_several_aliases(self):
        self.os('gpu', 'flavor', 'create', 'gpu.a40', '--vcpus', '2',
                '--ram', '512', '--disk', '1', '--alias', 'gpuA40:1',
                '--nova-conf', self.nova.conf_path, check=0)
        self.assertEqual({'pci_passthrough:alias': 'gpuA40:1'},
                         self.show('gpu.a40')['properties'])

        self.os('gpu', 'flavor', 'create', 'gpu.two', '--vcpus', '2',
                '--ram', '512', '--disk', '1', '--alias', 'nvme155:1',
                '--alias', 'gpuA40:2', '--numa-affinity-policy',
                'preferred', '--private', '--nova-conf',
                self.nova.conf_path, check=0)
        shown = self.show('gpu.two')
        self.assertEqual({'pci_passthrough:alias': 'nvme155:1,gpuA40:2',
                          'hw:pci_numa_affinity_policy': 'preferred'},
                         shown['properties'])
        self.assertFalse(shown['os-flavor-access:is_public'])

        rows = self.os('gpu', 'flavor', 'list', '-f', 'json',
                       check=0).json()
        self.assertEqual([('gpu.a40', 'gpuA40', 1), ('gpu.two', 'gpuA40', 2),
                          ('gpu.two', 'nvme155', 1)],
                         sorted((r['Name'], r['Alias'], r['Count'])
                                for r in rows))

    def test_set_unset_show(self):
        self.os('flavor', 'create', 'plain', '--vcpus', '1', '--ram', '256',
                check=0)
        self.os('gpu', 'flavor', 'set', 'plain', '--alias', 'gpuA40:1',
                '--nova-conf', self.nova.conf_path, check=0)
        self.assertEqual('gpuA40:1', self.show('plain')['properties'][
            'pci_passthrough:alias'])
        shown = self.os('gpu', 'flavor', 'show', 'plain', '-f', 'json',
                        check=0).json()
        self.assertEqual({'gpuA40': 1}, shown['PCI Requests'])
        self.os('gpu', 'flavor', 'unset', 'plain', '--alias', check=0)
        self.assertEqual({}, self.show('plain')['properties'])

    def test_nova_validates_at_our_microversion_and_we_roll_back(self):
        # OSC sends 2.61: nova's extra-spec validation (2.86+) never runs
        self.os('flavor', 'create', 'osc', '--vcpus', '1', '--ram', '256',
                '--property', 'pci_passthrough:alias=gpuA40:-1', check=0)
        self.assertEqual('gpuA40:-1', self.show('osc')['properties'][
            'pci_passthrough:alias'])
        listed = self.os('gpu', 'flavor', 'list', '-f', 'json',
                         check=0).json()
        self.assertIn("nova's format", listed[0]['Problem'])

        # ours negotiates the highest microversion: nova refuses the bad
        # hw:cpu_policy itself, and the half-made flavor is deleted
        result = self.os(
            'gpu', 'flavor', 'create', 'ours', '--vcpus', '1', '--ram',
            '256', '--disk', '1', '--alias', 'gpuA40:1', '--property',
            'hw:cpu_policy=bogus', '--nova-conf', self.nova.conf_path)
        self.assertCleanError(result, 'was deleted')
        self.assertIn("Validation failed; 'bogus' is not one of",
                      result.stderr)
        self.assertNotEqual(0, self.os('flavor', 'show', 'ours').rc)

        # and our own grammar check still refuses what old nova would store
        result = self.os('gpu', 'flavor', 'create', 'neg', '--vcpus', '1',
                         '--ram', '256', '--disk', '1', '--alias',
                         'gpuA40:-1', '--nova-conf', self.nova.conf_path)
        self.assertCleanError(result, "'gpuA40:-1'")

    def test_no_more_rest_calls_than_osc(self):
        self.reset_requests()
        self.os('flavor', 'create', 'osc', '--vcpus', '1', '--ram', '256',
                '--property', 'pci_passthrough:alias=gpuA40:1', check=0)
        theirs = self.requests()
        self.reset_requests()
        self.os('gpu', 'flavor', 'create', 'ours', '--vcpus', '1', '--ram',
                '256', '--disk', '1', '--alias', 'gpuA40:1', '--nova-conf',
                self.nova.conf_path, check=0)
        ours = self.requests()
        self.assertLessEqual(len(ours), len(theirs), (ours, theirs))


class TestAuditOnNovaSchema(NovaTestCase):

    def cells(self):
        server = mariadb.server()
        return (novadata.Cell(server, self.nova.db['cell1']),
                novadata.Cell(server, self.nova.db['cell2']))

    def test_seed_a40_end_to_end(self):
        cell1, cell2 = self.cells()
        a = cell1.add_node('gpu-a40-01')
        cell1.add_device(a, '0000:21:00.0', '10de', '2235', 'type-PF')
        b = cell2.add_node('gpu-a40-02')
        cell2.add_device(b, '0000:21:00.0', '10de', '2235', 'type-PF')
        conf = self.nova.conf_path

        self.os('gpu', 'flavor', 'create', 'gpu.a40', '--vcpus', '2',
                '--ram', '512', '--disk', '1', '--alias', 'gpuA40:1',
                '--nova-conf', conf, check=0)
        result = self.openstack('gpu', 'device', 'audit', '--nova-conf',
                                conf, '-f', 'json')
        self.assertEqual(1, result.rc, result.stderr)
        found = {f['Code']: f for f in result.json()}
        self.assertIn('2 host(s) (cell1/gpu-a40-01, cell2/gpu-a40-02)',
                      found['ALIAS_DROPS_PF']['Message'])
        self.assertIn('FLAVOR_UNSATISFIABLE', found)
        self.assertNotIn(mariadb.ADMIN_PASSWORD, result.stdout)

        self.openstack('gpu', 'alias', 'create', 'gpuA40', '--vendor-id',
                       '10de', '--product-id', '2235', '--nova-conf', conf,
                       '--write', conf, '--replace', check=0)
        # nova-api validates [pci] alias at start: it must accept ours
        self.nova.restart()
        self.os('gpu', 'flavor', 'set', 'gpu.a40', '--alias', 'gpuA40:2',
                '--nova-conf', conf, check=0)
        result = self.openstack('gpu', 'device', 'audit', '--nova-conf',
                                conf, '-f', 'json')
        errors = [f for f in result.json() if f['Severity'] == 'error']
        # two A40s, but one per host: gpuA40:2 fits nowhere
        self.assertEqual(['FLAVOR_UNSATISFIABLE'],
                         [f['Code'] for f in errors])
        self.os('gpu', 'flavor', 'set', 'gpu.a40', '--alias', 'gpuA40:1',
                '--nova-conf', conf, check=0)
        result = self.openstack('gpu', 'device', 'audit', '--nova-conf',
                                conf, '-f', 'json')
        self.assertEqual(0, result.rc, result.stdout)

    def test_flavors_from_the_compute_api(self):
        # no API database: the audit asks nova's API for the flavors
        cell1, _cell2 = self.cells()
        node = cell1.add_node('gpu-a40-01')
        cell1.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')
        self.os('flavor', 'create', 'typo', '--vcpus', '1', '--ram', '256',
                '--property', 'pci_passthrough:alias=gpuA4O:1', check=0)
        conf = os.path.join(self.nova.dir, 'aliases-only.conf')
        with open(conf, 'w') as f:
            f.write(f'[pci]\nalias = {A40}\n')
        result = self.os('gpu', 'device', 'audit', '--nova-conf', conf,
                         '--db-connection', self.nova.url('cell1'), '-f',
                         'json')
        self.assertEqual(1, result.rc, result.stderr)
        undefined = [f for f in result.json()
                     if f['Code'] == 'FLAVOR_ALIAS_UNDEFINED']
        self.assertEqual(['flavor typo'], [f['Subject'] for f in undefined])

    def test_compute_api_refusing_the_token_is_an_error(self):
        # it used to become a NOTE and the audit passed without flavors
        conf = os.path.join(self.nova.dir, 'aliases-only.conf')
        with open(conf, 'w') as f:
            f.write(f'[pci]\nalias = {A40}\n')
        result = self.os('gpu', 'device', 'audit', '--nova-conf', conf,
                         '--db-connection', self.nova.url('cell1'),
                         token='not-a-user-project')
        self.assertEqual(1, result.rc, result.stdout)
        self.assertIn('compute API: authentication failed', result.stderr)
        self.assertNotIn('Traceback', result.stderr)

    def test_select_only_user_reads_everything(self):
        cell1, cell2 = self.cells()
        node = cell2.add_node('gpu-v100s-01')
        cell2.add_device(node, '0000:3b:00.0', '10de', '1df6', 'type-PCI',
                         status='allocated',
                         instance_uuid=cell2.add_instance('gpu-v100s-01',
                                                          deleted=True))
        reader = {'user': 'reader', 'password': mariadb.READER_PASSWORD}
        args = ['--nova-conf', self.nova.conf_path, '--api-db-connection',
                self.nova.url('api', **reader), '--db-connection',
                self.nova.url('cell1', **reader)]
        audit = self.openstack('gpu', 'device', 'audit', *args, '-f',
                               'json', '--fail-on', 'never', check=0)
        codes = {f['Code'] for f in audit.json()}
        self.assertIn('PCI_DEVICE_LEAKED', codes)
        listed = self.openstack('gpu', 'device', 'list', '--summary', *args,
                                '-f', 'json', check=0).json()
        self.assertEqual(['gpu-v100s-01'], [r['Host'] for r in listed])
        self.assertNotIn(mariadb.READER_PASSWORD, json.dumps(listed))


class TestInvalidAliasStopsNovaApi(NovaTestCase):
    """ALIAS_INVALID says nova-api will not start: nova-api agrees."""

    def test_nova_api_refuses_to_start_and_the_audit_says_why(self):
        bad = '{"name": "gpuBad", "vendor_id": "10de", "product_id": "22x5"}'
        conf = self.nova.write_conf([A40, bad])
        self.nova.stop()
        exc = self.assertRaises(RuntimeError, self.nova.start)
        self.assertIn('Invalid PCI alias definition', str(exc))
        # the line of the bad entry in the file nova-api refused
        with open(conf) as f:
            line = f.read().splitlines().index(f'alias = {bad}') + 1
        flavors = os.path.join(self.nova.dir, 'flavors.json')
        with open(flavors, 'w') as f:
            json.dump([{'ID': '1', 'Name': 'gpu.a40', 'Properties': {
                'pci_passthrough:alias': 'gpuA40:1'}}], f)
        result = self.openstack('gpu', 'device', 'audit', '--no-db',
                                '--nova-conf', conf, '--flavors', flavors,
                                '-f', 'json')
        self.assertEqual(1, result.rc, result.stderr)
        found = {f['Code']: f for f in result.json()}
        self.assertIn(f'{conf}:{line} alias gpuBad:',
                      found['ALIAS_INVALID']['Message'])
        self.assertIn('nova-api (controller)',
                      found['ALIAS_INVALID']['Message'])
        self.assertEqual('flavor gpu.a40',
                         found['FLAVOR_BLOCKED_BY_BAD_ALIAS']['Subject'])
        # with the entry fixed nova-api starts again
        self.nova.write_conf([A40])
        self.nova.start()
