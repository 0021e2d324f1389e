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

"""The cell read without a server: id ranges, their merge, packed rows."""

import testtools

from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.sources import cellread


def pool(node, dev_type='type-PF', numa=0, total=1, available=1):
    return pci_pools.DevicePool('cell1', node, '10de', '2235', dev_type,
                                numa, total, total, available,
                                total - available)


class TestRanges(testtools.TestCase):
    """A cell read in primary-key ranges gives the pools of one read."""

    def test_ranges_cover_every_id_once(self):
        self.assertEqual([(1, 3), (4, 5), (6, 8)],
                         cellread._id_ranges(1, 8, 3))
        self.assertEqual([(7, 7)], cellread._id_ranges(7, 7, 4))
        self.assertEqual([(1, 1), (2, 2)], cellread._id_ranges(1, 2, 4))
        self.assertEqual([None], cellread._id_ranges(None, None, 4))

    def test_a_node_in_two_ranges_is_one_pool(self):
        first = [pool(1), pool(2, numa=None), pool(2, total=2)]
        second = [pool(2, total=3, available=0), pool(3),
                  pool(2, dev_type='type-VF')]
        second.sort(key=cellread._pool_order)
        merged = cellread._merge([first, second])
        self.assertEqual(
            [(1, 'type-PF', 0, 1, 1), (2, 'type-PF', None, 1, 1),
             (2, 'type-PF', 0, 5, 1), (2, 'type-VF', 0, 1, 1),
             (3, 'type-PF', 0, 1, 1)],
            [(p.compute_node_id, p.dev_type, p.numa_node, p.total,
              p.available) for p in merged])
        self.assertEqual(4, merged[2].used)
        self.assertIs(first, cellread._merge([first]))

    def test_a_node_on_every_boundary(self):
        # node 2's rows fill the middle range and reach into both others
        parts = [[pool(1), pool(2)], [pool(2, total=4)],
                 [pool(2, numa=None), pool(2, total=2), pool(3)]]
        merged = cellread._merge(parts)
        self.assertEqual(
            [(1, 0, 1), (2, None, 1), (2, 0, 7), (3, 0, 1)],
            [(p.compute_node_id, p.numa_node, p.total) for p in merged])

    def test_a_node_given_devices_later(self):
        # a card added to node 1 after node 3 started: its rows have ids
        # above node 3's, in the last range
        first, later = [pool(1), pool(3)], [pool(1, dev_type='type-VF'),
                                            pool(3, total=2)]
        merged = cellread._merge([first, [], later])
        self.assertEqual(
            [(1, 'type-PF', 1), (1, 'type-VF', 1), (3, 'type-PF', 3)],
            [(p.compute_node_id, p.dev_type, p.total) for p in merged])


class TestPackedRows(testtools.TestCase):
    """One string per pool and node, split back into what nova wrote."""

    def test_pools_split_back(self):
        rows = iter([('7 10de 2235 type-PF 1 4 4 2 2',),
                     ('7 10de 2235 type-PF - 1 0 0 0',)])
        pools = cellread._unpack_pools('cell1', rows)
        self.assertEqual(
            [pci_pools.DevicePool('cell1', 7, '10de', '2235', 'type-PF', 1,
                                  4, 4, 2, 2),
             pci_pools.DevicePool('cell1', 7, '10de', '2235', 'type-PF',
                                  None, 1, 0, 0, 0)], pools)
        # one string per id and dev_type, whatever the number of pools
        self.assertIs(pools[0].vendor_id, pools[1].vendor_id)

    def test_a_row_that_does_not_split_reads_again(self):
        for row in ('7 10 de 2235 type-PF 1 4 4 2 2',   # a space in an id
                    '7 2235 type-PF 1 4 4 2 2',         # a NULL skipped
                    None):                              # a NULL in CONCAT
            rows = iter([('7 10de 2235 type-PF 1 4 4 2 2',), (row,)])
            self.assertIsNone(cellread._unpack_pools('cell1', rows), row)

    def test_the_stream_is_closed_either_way(self):
        closed = []

        def stream(rows):
            try:
                yield from rows
            finally:
                closed.append(True)
        # held here, so that only _unpack_pools can have closed them: the
        # connection takes its next query while they are still referenced
        good = stream([('1 a b type-PCI 0 1 1 1 0',)])
        bad = stream([('x',), ('1 a b c 0 1 1 1 0',)])
        cellread._unpack_pools('c', good)
        cellread._unpack_pools('c', bad)
        self.assertEqual([True, True], closed)
