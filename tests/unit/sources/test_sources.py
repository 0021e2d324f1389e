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

"""Adapters that need no server: exports, nova.conf writing, DB URLs."""

import os

import fixtures
import testtools

from gpupassthrough_osc.pci import numa
from gpupassthrough_osc.pci import scheduler
from gpupassthrough_osc.sources import confwriter
from gpupassthrough_osc.sources import exports
from gpupassthrough_osc.sources import novaconf
from gpupassthrough_osc.sources import novadb
from tests import paths

EXAMPLES = paths.EXAMPLES

VERTICAL = """MariaDB [nova]> select * from pci_devices\\G
*************************** 1. row ***************************
     created_at: 2022-08-29 02:14:35
        deleted: 0
compute_node_id: 72
        address: 0000:21:00.0
     product_id: 2235
      vendor_id: 10de
       dev_type: type-PF
         status: available
     extra_info: {}
  instance_uuid: NULL
      numa_node: 0
*************************** 2. row ***************************
        deleted: 9
compute_node_id: 72
        address: 0000:22:00.0
     product_id: 2235
      vendor_id: 10de
       dev_type: type-PF
         status: available
2 rows in set (0.001 sec)
"""

TSV = ("id\tcompute_node_id\taddress\tvendor_id\tproduct_id\tdev_type\t"
       "status\tnuma_node\tdeleted\n"
       "1\t3\t0000:3b:00.0\t10de\t1df6\ttype-PCI\tallocated\tNULL\t0\n")


class FileTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path


class TestExports(FileTestCase):

    def test_vertical_skips_deleted_rows(self):
        devices = exports.read_devices(self.write('d.txt', VERTICAL))
        self.assertEqual(1, len(devices))
        self.assertEqual('type-PF', devices[0]['dev_type'])
        self.assertIsNone(devices[0]['instance_uuid'])

    def test_tsv(self):
        devices = exports.read_devices(self.write('d.tsv', TSV))
        self.assertEqual('allocated', devices[0]['status'])
        self.assertIsNone(devices[0]['numa_node'])

    def test_json_with_display_names(self):
        devices = exports.read_devices(self.write('d.json', (
            '[{"Compute Node ID": 7, "Vendor ID": "10de", "Product ID": '
            '"2235", "Dev Type": "type-PF", "Status": "available", '
            '"Host": "gpu1"}]')))
        self.assertEqual(7, devices[0]['compute_node_id'])
        self.assertEqual({('', 7)}, set(exports.nodes_from_devices(devices)))

    def test_example_is_the_seed(self):
        devices = exports.read_devices(
            os.path.join(EXAMPLES, 'pci_devices.txt'))
        self.assertIn(('0000:21:00.0', 'type-PF'),
                      [(d['address'], d['dev_type']) for d in devices])

    def test_errors_name_file_and_problem(self):
        cases = {
            'empty.txt': ('', 'empty file'),
            'bad.json': ('[{"a": 1', 'not valid JSON'),
            'list.json': ('[1, 2]', 'list of objects'),
            'short.tsv': (TSV + '1\t2\n', ':3: 2 fields'),
            'missing.tsv': ('id\tvendor_id\n1\t10de\n', 'row 1 lacks'),
            'type.tsv': (TSV.replace('type-PCI', 'type-XYZ'),
                         "unknown dev_type 'type-XYZ'"),
            'junk.txt': ('hello', 'not a \\G, tab-separated'),
            'vert.txt': (VERTICAL.replace('      numa_node: 0',
                                          'garbage line'),
                         'not a "column: value" line'),
        }
        for name, (text, fragment) in cases.items():
            exc = self.assertRaises(exports.ExportError,
                                    exports.read_devices,
                                    self.write(name, text))
            self.assertIn(fragment, str(exc), name)
            self.assertIn(name, str(exc))

    def test_missing_file(self):
        exc = self.assertRaises(exports.ExportError, exports.read_devices,
                                os.path.join(self.dir, 'nope'))
        self.assertIn('No such file', str(exc))

    def test_flavors_json_and_table_properties(self):
        flavors = exports.read_flavors(self.write('f.json', (
            '[{"ID": "1", "Name": "a", "Properties": '
            '{"pci_passthrough:alias": "gpuA40:1"}}, '
            '{"ID": "2", "Name": "b", "Properties": '
            '"hw:cpu_policy=\'dedicated\', pci_passthrough:alias=\'x:2\'"}]')))
        self.assertEqual('gpuA40:1',
                         flavors[0].specs['pci_passthrough:alias'])
        self.assertEqual('x:2', flavors[1].specs['pci_passthrough:alias'])

    def test_compute_nodes(self):
        nodes = exports.read_nodes(os.path.join(EXAMPLES,
                                                'compute_nodes.txt'))
        self.assertEqual('gpu-a40-01', nodes[('', 72)].host)
        self.assertTrue(nodes[('', 72)].numa_read)
        self.assertEqual(2, len(numa.parse_host_topology(
            nodes[('', 72)].numa_topology)))

    def test_compute_nodes_vertical_and_without_numa(self):
        topology = ('{"nova_object.data": {"cells": [{"nova_object.data": '
                    '{"id": 0, "cpuset": [0], "pcpuset": [0], "memory": 1, '
                    '"socket": null}}]}}')
        nodes = exports.read_nodes(self.write('n.txt', (
            '*************************** 1. row ***************************\n'
            '           id: 7\n'
            '         host: c7\n'
            'numa_topology: ' + topology + '\n'
            '*************************** 2. row ***************************\n'
            '           id: 8\n'
            '         host: c8\n'
            'numa_topology: NULL\n')))
        self.assertEqual(topology, nodes[('', 7)].numa_topology)
        self.assertEqual((None, True), (nodes[('', 8)].numa_topology,
                                        nodes[('', 8)].numa_read))
        nodes = exports.read_nodes(self.write('b.txt', 'id\thost\n7\tc7\n'))
        self.assertFalse(nodes[('', 7)].numa_read)

    def test_flavors_vcpus_and_ram(self):
        flavors = exports.read_flavors(os.path.join(EXAMPLES,
                                                    'flavors.json'))
        self.assertEqual((16, 65536), (flavors[0].vcpus,
                                       flavors[0].memory_mb))
        flavors = exports.read_flavors(self.write('f.json', (
            '[{"ID": "1", "Name": "a", "Properties": {}}]')))
        self.assertEqual((None, None), (flavors[0].vcpus,
                                        flavors[0].memory_mb))
        self.assertRaises(exports.ExportError, exports.read_flavors,
                          self.write('g.json', '[{"Name": "a", "VCPUs": '
                                     '"many", "Properties": {}}]'))


NOVA_CONF = """# managed by hand
[DEFAULT]
debug = true

[pci]
# the A40s
alias = {"name": "gpuA40", "vendor_id": "10de", "product_id": "2235"}
alias = {"name": "nvme155", "vendor_id": "144d", "product_id": "a808"}

[database]
connection = mysql+pymysql://nova:pw@db/nova
"""
A40_PF = ('{"name": "gpuA40", "vendor_id": "10de", "product_id": "2235", '
          '"device_type": "type-PF"}')


class TestConfWriter(FileTestCase):

    def test_replace_keeps_everything_else(self):
        path = self.write('nova.conf', NOVA_CONF)
        os.chmod(path, 0o640)
        changed, backup = confwriter.write_alias(path, 'gpuA40', [A40_PF],
                                                 replace=True)
        self.assertTrue(changed)
        with open(path) as f:
            text = f.read()
        self.assertEqual(NOVA_CONF.replace(
            '{"name": "gpuA40", "vendor_id": "10de", "product_id": "2235"}',
            A40_PF), text)
        with open(backup) as f:
            self.assertEqual(NOVA_CONF, f.read())
        self.assertEqual(0o640, os.stat(path).st_mode & 0o777)

    def test_idempotent(self):
        path = self.write('nova.conf', NOVA_CONF)
        confwriter.write_alias(path, 'gpuA40', [A40_PF], replace=True)
        changed, backup = confwriter.write_alias(path, 'gpuA40', [A40_PF])
        self.assertFalse(changed)
        self.assertIsNone(backup)
        self.assertEqual(1, len([n for n in os.listdir(self.dir)
                                 if n.endswith('.bak')]))

    def test_refuses_different_without_replace(self):
        path = self.write('nova.conf', NOVA_CONF)
        exc = self.assertRaises(confwriter.ConfWriteError,
                                confwriter.write_alias, path, 'gpuA40',
                                [A40_PF])
        self.assertIn('--replace', str(exc))
        with open(path) as f:
            self.assertEqual(NOVA_CONF, f.read())

    def test_new_alias_goes_into_pci_section(self):
        path = self.write('nova.conf', NOVA_CONF)
        line = ('{"name": "gpu3090", "vendor_id": "10de", '
                '"product_id": "2204"}')
        confwriter.write_alias(path, 'gpu3090', [line])
        conf = novaconf.load(path)
        self.assertEqual(3, len(conf.alias))
        self.assertEqual(line, conf.alias[2])

    def test_no_pci_section(self):
        path = self.write('nova.conf', '[DEFAULT]\ndebug = true')
        confwriter.write_alias(path, 'gpuA40', [A40_PF])
        self.assertEqual([A40_PF], novaconf.load(path).alias)

    def test_multi_entry_alias_replaced_as_a_whole(self):
        text = NOVA_CONF.replace(
            'alias = {"name": "nvme155"',
            'alias = {"name": "gpuA40", "vendor_id": "10de", '
            '"product_id": "2236"}\nalias = {"name": "nvme155"')
        path = self.write('nova.conf', text)
        confwriter.write_alias(path, 'gpuA40', [A40_PF], replace=True)
        aliases = novaconf.load(path).alias
        self.assertEqual([A40_PF], [a for a in aliases if 'gpuA40' in a])


class TestNovaConf(FileTestCase):

    def test_conf_d_and_deprecated_names(self):
        path = self.write('nova.conf', '[DEFAULT]\npci_alias = '
                          '{"name": "a", "vendor_id": "10de", '
                          '"product_id": "2235"}\n[pci]\n'
                          'passthrough_whitelist = {"vendor_id": "10de"}\n')
        os.mkdir(path + '.d')
        with open(os.path.join(path + '.d', '50-b.conf'), 'w') as f:
            f.write('[pci]\nreport_in_placement = true\n')
        conf = novaconf.load(path)
        self.assertEqual(1, len(conf.alias))
        self.assertEqual(['{"vendor_id": "10de"}'], conf.device_spec)
        self.assertTrue(conf.report_in_placement)
        self.assertEqual({('DEFAULT', 'pci_alias'),
                          ('pci', 'passthrough_whitelist')},
                         {d[:2] for d in conf.deprecated})

    def test_bad_bool(self):
        path = self.write('nova.conf', '[pci]\nreport_in_placement = '
                          'perhaps\n')
        exc = self.assertRaises(novaconf.NovaConfError, novaconf.load, path)
        self.assertIn('nova.conf', str(exc))

    def test_scheduler_defaults_and_no_controller_marker(self):
        conf = novaconf.load(self.write('compute.conf', '[pci]\n'))
        self.assertEqual(list(scheduler.DEFAULT_ENABLED_FILTERS),
                         conf.enabled_filters)
        self.assertEqual([scheduler.ALL_FILTERS], conf.available_filters)
        self.assertEqual(3, conf.max_attempts)
        self.assertFalse(conf.pci_in_placement)
        self.assertEqual([], conf.controller_markers)

    def test_scheduler_options_mark_a_controller(self):
        path = self.write('nova.conf', '[filter_scheduler]\n'
                          'enabled_filters = ComputeFilter, '
                          'PciPassthroughFilter\n'
                          'available_filters = a.B\n'
                          'available_filters = c.D\n')
        os.mkdir(path + '.d')
        with open(os.path.join(path + '.d', 'db.conf'), 'w') as f:
            f.write('[scheduler]\nmax_attempts = 5\n[api_database]\n'
                    'connection = mysql+pymysql://nova@db/nova_api\n')
        conf = novaconf.load(path)
        self.assertEqual(['ComputeFilter', 'PciPassthroughFilter'],
                         conf.enabled_filters)
        self.assertEqual(['a.B', 'c.D'], conf.available_filters)
        self.assertEqual(5, conf.max_attempts)
        self.assertEqual(['[api_database] connection',
                          '[filter_scheduler] available_filters',
                          '[filter_scheduler] enabled_filters',
                          '[scheduler] max_attempts'],
                         conf.controller_markers)

    def test_max_attempts_below_novas_minimum(self):
        path = self.write('nova.conf', '[scheduler]\nmax_attempts = 0\n')
        exc = self.assertRaises(novaconf.NovaConfError, novaconf.load, path)
        self.assertIn('max_attempts', str(exc))


class TestDbUrls(testtools.TestCase):

    def test_mask(self):
        self.assertEqual('mysql+pymysql://nova:***@db:3306/nova',
                         novadb.mask('mysql+pymysql://nova:p%40ss@db:3306/'
                                     'nova'))
        self.assertEqual('mysql://nova@db/nova',
                         novadb.mask('mysql://nova@db/nova'))

    def test_connect_args(self):
        args = novadb.connect_args(
            'mysql+pymysql://nova:p%40ss@db:3307/nova?charset=utf8'
            '&unix_socket=/run/mysqld.sock&read_default_file=/root/.my.cnf')
        self.assertEqual('p@ss', args['password'])
        self.assertEqual(3307, args['port'])
        self.assertEqual('/run/mysqld.sock', args['unix_socket'])
        self.assertEqual('/root/.my.cnf', args['read_default_file'])
        self.assertEqual('utf8', args['charset'])
        self.assertEqual('nova', args['database'])

    def test_refuses_other_schemes_without_password(self):
        exc = self.assertRaises(novadb.DatabaseError, novadb.connect_args,
                                'postgresql://nova:hunter2@db/nova')
        self.assertNotIn('hunter2', str(exc))

    def test_template(self):
        self.assertEqual(
            'mysql+pymysql://nova:pw@db:3306/nova_cell2?charset=utf8',
            novadb.format_cell_url(
                '{scheme}://{username}:{password}@{hostname}:{port}/'
                'nova_cell2?{query}',
                'mysql+pymysql://nova:pw@db:3306/nova_api?charset=utf8'))
        self.assertEqual('mysql://a@b/c',
                         novadb.format_cell_url('mysql://a@b/c', 'x://'))
