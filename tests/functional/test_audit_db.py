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

"""Scenarios against a real MariaDB holding nova's real tables.

Every test runs the real `openstack` executable; the rows are inserted the
way nova-compute writes them (tests/functional/novadata.py).
"""

import json
import os

import fixtures

from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.sources import cellread
from gpupassthrough_osc.sources import novadb
from tests.functional import base
from tests.functional import mariadb
from tests.functional import novadata

A40 = '{"name": "gpuA40", "vendor_id": "10de", "product_id": "2235"}'
A40_PF = ('{"name": "gpuA40", "vendor_id": "10de", "product_id": "2235", '
          '"device_type": "type-PF"}')
V100S_PF = ('{"name": "gpuV100S", "vendor_id": "10de", "product_id": '
            '"1df6", "device_type": "type-PF"}')
NVME = '{"name": "nvme155", "vendor_id": "144d", "product_id": "a808"}'
GPU3080 = ('{"name": "gpu3080", "vendor_id": "10de", "product_id": '
           '"2206"}')
# nova 34's default filters plus the one PCI flavors need
PCI_FILTERS = ('ComputeFilter,ComputeCapabilitiesFilter,'
               'ImagePropertiesFilter,ServerGroupAntiAffinityFilter,'
               'ServerGroupAffinityFilter,PciPassthroughFilter')


class DbTestCase(base.OpenStackTestCase):

    def setUp(self):
        super().setUp()
        self.server = mariadb.server()
        self.cell = novadata.Cell(self.server)
        self.api = novadata.ApiDb(self.server)
        self.api.map_cell('cell0', 'mysql+pymysql://x@127.0.0.1:1/cell0',
                          uuid=novadata.CELL0_UUID)
        self.api.map_cell('cell1', self.cell.url())
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def nova_conf(self, *aliases, name='nova.conf', api=True, extra='',
                  filters=PCI_FILTERS):
        path = os.path.join(self.tmp, name)
        lines = ['[DEFAULT]', 'debug = false', '', '[database]',
                 f'connection = {self.cell.url()}', '']
        if api:
            lines += ['[api_database]', f'connection = {self.api.url()}', '']
        if filters:
            lines += ['[filter_scheduler]', f'enabled_filters = {filters}',
                      '']
        lines += ['[pci]', '# aliases as the operator wrote them']
        lines += [f'alias = {a}' for a in aliases]
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n' + extra)
        return path

    def audit(self, conf, *extra):
        return self.openstack('gpu', 'device', 'audit', '--nova-conf', conf,
                              '-f', 'json', *extra)

    def codes(self, result):
        return sorted({f['Code'] for f in result.json()})

    def finding(self, result, code):
        found = [f for f in result.json() if f['Code'] == code]
        self.assertEqual(1, len(found), result.stdout)
        return found[0]


class TestSeedA40(DbTestCase):

    def test_found_fixed_and_clean(self):
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')
        self.api.add_flavor('gpu.a40', {'pci_passthrough:alias': 'gpuA40:1'})
        conf = self.nova_conf(A40)

        result = self.audit(conf)
        self.assertEqual(1, result.rc, result.stderr)
        drops = self.finding(result, 'ALIAS_DROPS_PF')
        self.assertEqual('error', drops['Severity'])
        self.assertIn('"device_type": "type-PF"', drops['Fix'])
        self.finding(result, 'FLAVOR_UNSATISFIABLE')

        self.openstack('gpu', 'alias', 'create', 'gpuA40', '--vendor-id',
                       '10de', '--product-id', '2235', '--device-type',
                       'auto', '--nova-conf', conf, '--write', conf,
                       '--replace', check=0)
        with open(conf) as f:
            text = f.read()
        self.assertIn(f'alias = {A40_PF}\n', text)
        self.assertIn('# aliases as the operator wrote them', text)
        backups = [n for n in os.listdir(self.tmp) if n.endswith('.bak')]
        self.assertEqual(1, len(backups))

        result = self.audit(conf)
        self.assertEqual(0, result.rc, result.stdout)
        self.assertEqual([], [f for f in result.json()
                              if f['Severity'] == 'error'])

    def test_write_refuses_different_alias_without_replace(self):
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')
        conf = self.nova_conf(A40)
        result = self.openstack(
            'gpu', 'alias', 'create', 'gpuA40', '--vendor-id', '10de',
            '--product-id', '2235', '--nova-conf', conf, '--write', conf)
        self.assertCleanError(result, '--replace')

    def test_auto_refuses_pf_and_vf_with_same_ids(self):
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF',
                             status='unavailable')
        self.cell.add_device(node, '0000:21:00.4', '10de', '2235', 'type-VF',
                             parent_addr='0000:21:00.0')
        result = self.openstack(
            'gpu', 'alias', 'create', 'gpuA40', '--vendor-id', '10de',
            '--product-id', '2235', '--db-connection', self.cell.url())
        self.assertCleanError(result, 'type-PF and type-VF')


class TestFleet(DbTestCase):

    def test_v100s_with_type_pf_alias(self):
        node = self.cell.add_node('gpu-v100s-01')
        self.cell.add_device(node, '0000:3b:00.0', '10de', '1df6',
                             'type-PCI')
        result = self.audit(self.nova_conf(V100S_PF))
        found = self.finding(result, 'ALIAS_DEVICE_TYPE_MISMATCH')
        self.assertIn('type-PCI', found['Message'])
        self.assertIn('"device_type": "type-PCI"', found['Fix'])

    def test_mixed_3080_3090_alternatives_quiet(self):
        a = self.cell.add_node('gpu-30-01')
        self.cell.add_device(a, '0000:1a:00.0', '10de', '2206', 'type-PCI')
        self.cell.add_device(a, '0000:1b:00.0', '10de', '2204', 'type-PCI')
        b = self.cell.add_node('gpu-30-02')
        self.cell.add_device(b, '0000:1a:00.0', '10de', '2204', 'type-PCI')
        self.api.add_flavor('gpu.30x2', {'pci_passthrough:alias': 'gpu30:2'})
        conf = self.nova_conf(
            '{"name": "gpu30", "vendor_id": "10de", "product_id": "2206", '
            '"device_type": "type-PCI"}',
            '{"name": "gpu30", "vendor_id": "10de", "product_id": "2204", '
            '"device_type": "type-PCI"}')
        result = self.audit(conf)
        self.assertEqual(0, result.rc, result.stdout)
        self.assertEqual([], self.codes(result))

    def test_two_alias_flavor_fits_on_one_host_only(self):
        gpu_only = self.cell.add_node('gpu-only')
        self.cell.add_device(gpu_only, '0000:1a:00.0', '10de', '2206',
                             'type-PCI')
        both = self.cell.add_node('gpu-nvme')
        self.cell.add_device(both, '0000:1a:00.0', '10de', '2206',
                             'type-PCI')
        self.cell.add_device(both, '0000:5e:00.0', '144d', 'a808',
                             'type-PCI')
        self.api.add_flavor('gpu.nvme', {
            'pci_passthrough:alias': 'nvme155:1,gpu3080:1'})
        conf = self.nova_conf(NVME, GPU3080)
        self.assertEqual([], self.codes(self.audit(conf)))

        # the only host with both has its GPU in use: not free now
        self.cell.execute("UPDATE pci_devices SET status = 'allocated', "
                          "instance_uuid = %s WHERE compute_node_id = %s "
                          "AND vendor_id = '10de'",
                          (self.cell.add_instance('gpu-nvme'), both))
        result = self.audit(conf)
        self.assertEqual(0, result.rc)
        self.assertIn('none has the devices free now', self.finding(
            result, 'FLAVOR_NO_FREE_CAPACITY')['Message'])

        # and with the NVMe gone, no host can ever hold both
        self.cell.execute("UPDATE pci_devices SET deleted = id WHERE "
                          "vendor_id = '144d'")
        result = self.audit(conf)
        self.assertEqual(1, result.rc)
        self.finding(result, 'FLAVOR_UNSATISFIABLE')

    def test_novas_default_filters_on_a_mixed_fleet(self):
        # one A40 host, one without: the boot-truth scenario where every
        # boot ends in "Exceeded maximum number of retries"
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')
        self.cell.add_node('cpu-01')
        self.api.add_flavor('gpu.a40', {'pci_passthrough:alias': 'gpuA40:1'})
        result = self.audit(self.nova_conf(A40_PF, filters=None))
        self.assertEqual(1, result.rc, result.stdout)
        found = self.finding(result, 'FLAVOR_PCI_NOT_SCHEDULED')
        self.assertEqual(('error', 'flavor gpu.a40'),
                         (found['Severity'], found['Subject']))
        self.assertIn('1 of 2 live host(s) cannot hold it now',
                      found['Message'])
        self.assertIn(f'enabled_filters = {PCI_FILTERS} in ', found['Fix'])
        self.assertIn('nova.conf [filter_scheduler] enabled_filters',
                      self.finding(result, 'SCHEDULER_PCI_FILTER_MISSING')[
                          'Subject'])

        # every host has the GPU: the claim passes wherever a boot lands
        self.cell.execute("UPDATE compute_nodes SET deleted = id WHERE "
                          "host = 'cpu-01'")
        result = self.audit(self.nova_conf(A40_PF, filters=None))
        self.assertEqual(0, result.rc, result.stdout)
        self.assertEqual('warning', self.finding(
            result, 'FLAVOR_PCI_NOT_SCHEDULED')['Severity'])

    def test_undefined_alias_in_flavor(self):
        node = self.cell.add_node('gpu-30-01')
        self.cell.add_device(node, '0000:1a:00.0', '10de', '2206',
                             'type-PCI')
        self.api.add_flavor('gpu.typo', {'pci_passthrough:alias':
                                         'gpu308:1'})
        result = self.audit(self.nova_conf(GPU3080))
        self.assertIn('PCI alias gpu308 is not defined', self.finding(
            result, 'FLAVOR_ALIAS_UNDEFINED')['Message'])


class TestRows(DbTestCase):

    def test_leaked_allocations(self):
        node = self.cell.add_node('gpu-a40-01')
        gone = self.cell.add_instance('gpu-a40-01', deleted=True)
        live = self.cell.add_instance('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF',
                             status='allocated', instance_uuid=gone)
        self.cell.add_device(node, '0000:22:00.0', '10de', '2235', 'type-PF',
                             status='claimed',
                             instance_uuid='5a0d4c52-0000-4000-8000-'
                                           '000000000001')
        self.cell.add_device(node, '0000:23:00.0', '10de', '2235', 'type-PF',
                             status='allocated', instance_uuid=live)
        result = self.audit(self.nova_conf(A40_PF))
        leak = self.finding(result, 'PCI_DEVICE_LEAKED')
        self.assertIn('2 device(s)', leak['Message'])
        self.assertIn(f'allocated to deleted instance {gone}', leak['Message'])
        self.assertIn('unknown instance', leak['Message'])
        self.assertNotIn(live, leak['Message'])

    def test_rows_on_deleted_node(self):
        node = self.cell.add_node('old-gpu', deleted=True)
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')
        result = self.audit(self.nova_conf(A40_PF))
        self.assertIn('host old-gpu', self.finding(
            result, 'DEVICES_ON_DELETED_NODE')['Subject'])

    def test_gpu_without_alias(self):
        node = self.cell.add_node('gpu-30-01')
        self.cell.add_device(node, '0000:1a:00.0', '10de', '2204',
                             'type-PCI')
        result = self.audit(self.nova_conf(GPU3080))
        found = self.finding(result, 'GPU_WITHOUT_ALIAS')
        self.assertIn('"name": "gpu3090"', found['Fix'])


class TestCellsAndAccess(DbTestCase):

    def test_two_cells_from_cell_mappings(self):
        cell2 = novadata.Cell(self.server)
        # a templated URL, as `nova-manage cell_v2 create_cell` may store
        template = ('{scheme}://{username}:{password}@{hostname}:{port}/' +
                    cell2.database + '?{query}')
        self.api.map_cell('cell2', template)
        a = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(a, '0000:21:00.0', '10de', '2235', 'type-PF')
        b = cell2.add_node('gpu-a40-02')
        cell2.add_device(b, '0000:21:00.0', '10de', '2235', 'type-PF',
                         status='allocated',
                         instance_uuid=cell2.add_instance('gpu-a40-02'))
        result = self.openstack(
            'gpu', 'device', 'list', '--summary', '--nova-conf',
            self.nova_conf(A40_PF), '-f', 'json', check=0)
        rows = {r['Host']: r for r in result.json()}
        self.assertEqual({'cell1/gpu-a40-01', 'cell2/gpu-a40-02'},
                         set(rows))
        self.assertEqual(1, rows['cell2/gpu-a40-02']['Used'])
        self.assertEqual(1, rows['cell1/gpu-a40-01']['Free'])

        listed = self.openstack(
            'gpu', 'device', 'list', '--nova-conf', self.nova_conf(A40_PF),
            '--cell', 'cell2', '-f', 'json', check=0).json()
        self.assertEqual(['gpu-a40-02'], [d['Host'] for d in listed])

    def test_unknown_cell_is_an_error_naming_the_cells(self):
        # cell names from cell_mappings (cell0 is never read); the list
        # and --summary, from the database and from its export
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')
        conf = self.nova_conf(A40_PF)
        export = os.path.join(self.tmp, 'devices.json')
        with open(export, 'w') as f:
            f.write(self.openstack('gpu', 'device', 'list', '--nova-conf',
                                   conf, '-f', 'json', check=0).stdout)
        for source in (['--nova-conf', conf], ['--pci-devices', export]):
            for summary in ([], ['--summary']):
                result = self.openstack('gpu', 'device', 'list', *source,
                                        '--cell', 'cellX', *summary,
                                        '-f', 'value')
                self.assertCleanError(
                    result, '--cell cellX: no such cell (cells: cell1)')
                self.assertEqual('', result.stdout)
                self.openstack('gpu', 'device', 'list', *source, '--cell',
                               'CELL1', *summary, '-f', 'json', check=0)

    def test_select_only_user_is_enough(self):
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')
        reader = self.cell.url(user='reader',
                               password=mariadb.READER_PASSWORD)
        conf = self.nova_conf(A40, api=False)
        result = self.audit(conf, '--db-connection', reader)
        self.assertEqual(1, result.rc, result.stderr)
        self.finding(result, 'ALIAS_DROPS_PF')
        listed = self.openstack('gpu', 'device', 'list', '--db-connection',
                                reader, '-f', 'json', check=0).json()
        self.assertEqual('type-PF', listed[0]['Dev Type'])

    def test_socket_and_my_cnf_keep_password_off_the_url(self):
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')
        cnf = os.path.join(self.tmp, 'reader.cnf')
        with open(cnf, 'w') as f:
            f.write(f'[client]\nuser = reader\n'
                    f'password = {mariadb.READER_PASSWORD}\n')
        url = (f'mysql+pymysql:///{self.cell.database}?unix_socket='
               f'{self.server.socket}&read_default_file={cnf}')
        listed = self.openstack('gpu', 'device', 'list', '--db-connection',
                                url, '-f', 'json', check=0).json()
        self.assertEqual(['0000:21:00.0'], [d['Address'] for d in listed])

    def test_clouds_yaml_key(self):
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')
        clouds = os.path.join(self.tmp, 'clouds.yaml')
        with open(clouds, 'w') as f:
            f.write(f'clouds:\n  lab:\n    auth_type: none\n'
                    f'    endpoint: http://127.0.0.1:9/\n'
                    f'    gpu_db_connection: "{self.cell.url()}"\n')
        result = self.openstack(
            '--os-cloud', 'lab', 'gpu', 'device', 'list', '-f', 'json',
            env={'OS_CLIENT_CONFIG_FILE': clouds}, check=0)
        self.assertEqual(1, len(result.json()))
        self.assertIn('configuration show', result.stderr)
        self.assertNotIn(mariadb.ADMIN_PASSWORD, result.stderr)

    def test_device_list_json_is_an_export(self):
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')
        export = os.path.join(self.tmp, 'devices.json')
        result = self.openstack('gpu', 'device', 'list', '--db-connection',
                                self.cell.url(), '-f', 'json', check=0)
        with open(export, 'w') as f:
            f.write(result.stdout)
        offline = self.openstack(
            'gpu', 'device', 'audit', '--no-db', '--nova-conf',
            self.nova_conf(A40, api=False), '--pci-devices', export,
            '-f', 'json')
        self.assertEqual(1, offline.rc)
        self.assertIn('gpu-a40-01', json.dumps(offline.json()) or '')
        self.finding(offline, 'ALIAS_DROPS_PF')

    def test_device_list_json_numbers_survive_the_export(self):
        # NUMA Node and Compute Node ID: JSON numbers (null when nova
        # recorded no NUMA node) from the database and from the export
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF',
                             numa_node=1)
        self.cell.add_device(node, '0000:e2:00.0', '10de', '2235', 'type-PF',
                             numa_node=None)
        export = os.path.join(self.tmp, 'devices.json')
        from_db = self.openstack('gpu', 'device', 'list', '--db-connection',
                                 self.cell.url(), '-f', 'json', check=0)
        with open(export, 'w') as f:
            f.write(from_db.stdout)
        offline = self.openstack('gpu', 'device', 'list', '--pci-devices',
                                 export, '-f', 'json', check=0)
        for result in (from_db, offline):
            self.assertEqual(
                [('0000:21:00.0', 1, node), ('0000:e2:00.0', None, node)],
                sorted((d['Address'], d['NUMA Node'], d['Compute Node ID'])
                       for d in result.json()))

    def test_filters_agree_with_the_export(self):
        # MariaDB's collation on one side, sources/devicefilter.py on the
        # other: the same rows for the same options
        a = self.cell.add_node('gpu-a40-01')
        b = self.cell.add_node('nic-01')
        self.cell.add_device(a, '0000:21:00.0', '10de', '2235', 'type-PF')
        self.cell.add_device(a, '0000:e2:00.0', '10de', '2235', 'type-PF',
                             status='allocated',
                             instance_uuid=self.cell.add_instance('a40'))
        self.cell.add_device(b, '0000:3b:00.0', '15b3', '101e', 'type-PCI')
        url = self.cell.url()
        export = os.path.join(self.tmp, 'devices.json')
        with open(export, 'w') as f:
            f.write(self.openstack('gpu', 'device', 'list', '--db-connection',
                                   url, '-f', 'json', check=0).stdout)
        for options in (['--host', 'GPU-A40-01'], ['--vendor-id', '10DE'],
                        ['--status', 'Allocated'],
                        ['--product-id', '101E', '--dev-type', 'type-PCI']):
            from_db, offline = (
                sorted(d['Address'] for d in self.openstack(
                    'gpu', 'device', 'list', *source, *options, '-f',
                    'json', check=0).json())
                for source in (['--db-connection', url],
                               ['--pci-devices', export]))
            self.assertEqual(offline, from_db, options)
            self.assertTrue(0 < len(from_db) < 3, (options, from_db))

    def test_old_schema_without_uuid_and_parent_addr(self):
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')
        self.cell.execute('DROP INDEX ix_pci_devices_compute_node_id_'
                          'parent_addr_deleted ON pci_devices')
        self.cell.execute('ALTER TABLE pci_devices DROP COLUMN uuid, '
                          'DROP COLUMN parent_addr')
        listed = self.openstack('gpu', 'device', 'list', '--db-connection',
                                self.cell.url(), '-f', 'json', check=0)
        self.assertIsNone(listed.json()[0]['Parent Address'])
        self.finding(self.audit(self.nova_conf(A40, api=False)),
                     'ALIAS_DROPS_PF')

    def test_unreachable_db_one_line_no_password(self):
        url = 'mysql+pymysql://nova:TopSecret99@127.0.0.1:1/nova'
        for args in (['device', 'audit'], ['device', 'list']):
            result = self.openstack('gpu', *args, '--db-connection', url)
            self.assertCleanError(result, 'cannot connect')
            self.assertNotIn('TopSecret99', result.stderr + result.stdout)
            self.assertIn('nova:***@127.0.0.1:1', result.stderr)

    def test_debug_does_not_show_the_password(self):
        # the variable keeps it off the command line (which OSC echoes with
        # --debug); our own debug lines mask it
        result = self.openstack('--debug', 'gpu', 'device', 'list',
                                env={'GPUPASSTHROUGH_DB_CONNECTION':
                                     self.cell.url()})
        self.assertEqual(0, result.rc, result.stderr)
        self.assertNotIn(mariadb.ADMIN_PASSWORD,
                         result.stderr + result.stdout)
        result = self.openstack('--debug', 'gpu', 'device', 'list',
                                '--db-connection', self.cell.url())
        self.assertIn("db_connection='mysql+pymysql://admin:***@127.0.0.1",
                      result.stderr)

    def test_wrong_password_no_password_shown(self):
        url = self.cell.url(password='WrongSecret77')
        result = self.openstack('gpu', 'device', 'audit', '--db-connection',
                                url)
        self.assertCleanError(result, 'Access denied')
        self.assertNotIn('WrongSecret77', result.stderr + result.stdout)


class TestNuma(DbTestCase):
    """Two V100S on NUMA nodes 0 and 1: dedicated CPUs never boot."""

    def test_split_gpus_and_dedicated_cpus(self):
        from tests.unit.pci import builders

        node = self.cell.add_node('compute1', numa_topology=builders.blob(
            builders.cell(0, range(0, 8), socket=0),
            builders.cell(1, range(8, 16), socket=0)))
        self.cell.add_device(node, '0000:3b:00.0', '10de', '1df6',
                             'type-PCI', numa_node=0)
        self.cell.add_device(node, '0000:af:00.0', '10de', '1df6',
                             'type-PCI', numa_node=1)
        self.api.add_flavor('v100s.2', {'pci_passthrough:alias': 'v100s:2',
                                        'hw:cpu_policy': 'dedicated'},
                            vcpus=8, ram=16384)
        self.api.add_flavor('v100s.2.shared',
                            {'pci_passthrough:alias': 'v100s:2'})
        conf = self.nova_conf(
            '{"name": "v100s", "vendor_id": "10de", "product_id": "1df6"}',
            extra='[filter_scheduler]\nenabled_filters = ComputeFilter,'
                  'PciPassthroughFilter,NUMATopologyFilter\n')
        result = self.audit(conf)
        self.assertEqual(1, result.rc, result.stdout)
        found = self.finding(result, 'FLAVOR_NUMA_UNSATISFIABLE')
        self.assertEqual('flavor v100s.2', found['Subject'])
        self.assertIn('best host compute1 has 1 on node 0, 1 on node 1',
                      found['Message'])
        self.assertEqual(['FLAVOR_NUMA_UNSATISFIABLE'], self.codes(result))


class TestPackedRead(DbTestCase):
    """Pools and nodes read as one string per row equal the rows' own."""

    def _read(self, workers):
        pools, nodes, _leaks = cellread.read_cells(
            [('cell1', self.cell.url())], workers, with_numa=False)
        rows = novadb.devices('cell1', self.cell.url())
        expected = pci_pools.aggregate(rows)
        key = cellread._pool_order
        return sorted(expected, key=key), pools, nodes

    def test_pools_and_hosts_as_nova_wrote_them(self):
        spaced = self.cell.add_node('host with spaces')
        nameless = self.cell.add_node(None)
        gone = self.cell.add_node('gone', deleted=True)
        for node in (spaced, nameless, gone):
            self.cell.add_device(node, '0000:21:00.0', '10de', '2235',
                                 'type-PF', numa_node=None)
            self.cell.add_device(node, '0000:22:00.0', '10DE', '2235',
                                 'type-PF', numa_node=1,
                                 status='allocated')
            self.cell.add_device(node, '0000:23:00.0', '10de', '2235',
                                 'type-PF', numa_node=1, status='removed')
        for workers in (1, 2):
            expected, pools, nodes = self._read(workers)
            self.assertEqual(expected, pools)
            self.assertEqual(6, len(pools))
            self.assertEqual(
                [('host with spaces', False), (None, False), ('gone', True)],
                [(nodes[('cell1', n)].host, nodes[('cell1', n)].deleted)
                 for n in (spaced, nameless, gone)])

    def test_a_host_with_a_newline_is_read_a_row_each(self):
        # the packed nodes then have more lines than nodes
        odd = self.cell.add_node('two\nlines')
        plain = self.cell.add_node('plain')
        _pools, nodes = self._read(1)[1:]
        self.assertEqual(['two\nlines', 'plain'],
                         [nodes[('cell1', n)].host for n in (odd, plain)])

    def test_a_value_with_a_space_is_read_as_columns(self):
        # nova never writes one; the packed row then splits into too many
        # fields and the range is read again column by column
        node = self.cell.add_node('odd')
        self.cell.add_device(node, '0000:21:00.0', '10 d', '2235', 'type-PF')
        self.cell.add_device(node, '0000:22:00.0', '10de', '2235', 'type-PF')
        expected, pools, _nodes = self._read(1)
        self.assertEqual(expected, pools)
        self.assertEqual(['10 d', '10de'], [p.vendor_id for p in pools])


class TestConnections(DbTestCase):

    def test_tls_context_built_once(self):
        # pymysql builds one per connection otherwise (novadb's
        # _connection_class says why that costs)
        first = novadb.Connection(self.cell.url())
        second = novadb.Connection(self.api.url())
        try:
            self.assertIsNotNone(first.conn.ctx)
            self.assertIs(first.conn.ctx, second.conn.ctx)
            self.assertEqual([(1,)], list(second.query('SELECT 1')))
        finally:
            first.close()
            second.close()


class TestHeldConnections(DbTestCase):

    def test_a_worker_keeps_its_connection(self):
        # two workers read a cell in bounds, leaks, nodes and four ranges:
        # two connections, never more open at once
        node = self.cell.add_node('gpu-a40-01')
        for n in range(8):
            self.cell.add_device(node, f'0000:{0x21 + n:02x}:00.0', '10de',
                                 '2235', 'type-PF')
        opened, open_now, most = [], set(), [0]
        connect, close = novadb.Connection.__init__, novadb.Connection.close

        def counting_connect(conn, *args, **kwargs):
            connect(conn, *args, **kwargs)
            opened.append(conn)
            open_now.add(conn)
            most[0] = max(most[0], len(open_now))

        def counting_close(conn):
            open_now.discard(conn)
            close(conn)
        self.useFixture(fixtures.MockPatchObject(
            novadb.Connection, '__init__', counting_connect))
        self.useFixture(fixtures.MockPatchObject(
            novadb.Connection, 'close', counting_close))
        pools, _nodes, _leaks = cellread.read_cells(
            [('cell1', self.cell.url())], 2, with_numa=False)
        self.assertEqual(8, sum(p.total for p in pools))
        self.assertLessEqual(len(opened), 2)
        self.assertLessEqual(most[0], 2)
        self.assertEqual(set(), open_now)


class TestDbWorkers(DbTestCase):
    """A cell read in ranges over several connections reads the same."""

    def test_one_and_four_workers_print_the_same(self):
        nodes = [self.cell.add_node(f'gpu-a40-{n:02d}',
                                    deleted=n == 5) for n in range(1, 9)]
        for n, node in enumerate(nodes):
            self.cell.add_device(node, '0000:21:00.0', '10de', '2235',
                                 'type-PF', numa_node=0)
            self.cell.add_device(node, '0000:22:00.0', '10de', '2235',
                                 'type-PF', numa_node=1, status='allocated',
                                 instance_uuid=self.cell.add_instance(
                                     f'gpu-a40-{n + 1:02d}',
                                     deleted=n % 3 == 0))
        # a card added later: its rows come after every other node's, so
        # each node's rows fall in two ranges of the primary key
        for node in nodes:
            self.cell.add_device(node, '0000:23:00.0', '10de', '2235',
                                 'type-PF', numa_node=0)
            self.cell.add_device(node, '0000:1a:00.0', '10de', '2204',
                                 'type-PCI')
        self.api.add_flavor('a40.2', {'pci_passthrough:alias': 'gpuA40:2'})
        self.api.add_flavor('a40.4', {'pci_passthrough:alias': 'gpuA40:4'})
        conf = self.nova_conf(A40_PF)
        outputs = {}
        for workers in ('1', '4'):
            audit = self.audit(conf, '--fail-on', 'never', '--db-workers',
                               workers)
            summary = self.openstack(
                'gpu', 'device', 'list', '--summary', '--nova-conf', conf,
                '-f', 'json', '--db-workers', workers, check=0)
            outputs[workers] = (audit.stdout, summary.stdout)
        self.assertEqual(outputs['1'], outputs['4'])
        found = json.loads(outputs['4'][0])
        self.assertEqual(
            ['DEVICES_ON_DELETED_NODE', 'FLAVOR_UNSATISFIABLE',
             'GPU_WITHOUT_ALIAS', 'PCI_DEVICE_LEAKED'],
            sorted({f['Code'] for f in found}))
        # three leaks on live nodes (nodes 1, 4 and 7), one finding each
        self.assertEqual(3, sum(f['Code'] == 'PCI_DEVICE_LEAKED'
                                for f in found))
        rows = {r['Host']: r for r in json.loads(outputs['4'][1])
                if r['Product ID'] == '2235'}
        # each host's three A40s counted once, from both ranges
        self.assertEqual({3}, {r['Total'] for r in rows.values()})

    def test_bad_worker_count_is_one_error_line(self):
        for value in ('0', '-1', 'x'):
            result = self.openstack('gpu', 'device', 'audit', '--no-db',
                                    '--db-workers', value)
            self.assertEqual(2, result.rc, result.stderr)
            self.assertNotIn('Traceback', result.stderr)
            errors = [line for line in result.stderr.splitlines()
                      if 'error:' in line]
            self.assertEqual(
                [f'openstack gpu device audit: error: argument '
                 f'--db-workers: {value!r} is not a number of connections '
                 f'from 1 to 64'], errors)
