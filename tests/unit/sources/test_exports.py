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

"""The export readers: `mariadb -B`, `\\G` and `-f json` files."""

import os

from gpupassthrough_osc.pci import numa
from gpupassthrough_osc.sources import exports
from tests import paths
from tests.unit.sources import base

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


class TestExports(base.FileTestCase):

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

    def test_numa_node_is_a_whole_number_or_none(self):
        # as nova's INTEGER column and the database reader give it, so
        # that device list -f json prints 0, not "0", whatever the source
        for name, text, expected in (
                ('d.txt', VERTICAL, [0]), ('d.tsv', TSV, [None]),
                ('d.json', '[{"Compute Node ID": 7, "Vendor ID": "10de", '
                 '"Product ID": "2235", "Dev Type": "type-PF", "Status": '
                 '"available", "NUMA Node": "1"}, {"Compute Node ID": 7, '
                 '"Vendor ID": "10de", "Product ID": "2235", "Dev Type": '
                 '"type-PF", "Status": "available", "NUMA Node": null}]',
                 [1, None])):
            devices = exports.read_devices(self.write(name, text))
            self.assertEqual(expected, [d['numa_node'] for d in devices],
                             name)

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
                                os.path.join(self.tmp, 'nope'))
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
