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

"""The one device filter: its semantics and its SQL translation."""

import argparse

import testtools

from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.sources import devicefilter

DeviceFilter = devicefilter.DeviceFilter
ROW = {'cell': 'cell1', 'host': 'Compute1', 'status': 'available',
       'vendor_id': '10DE', 'product_id': '2235', 'dev_type': 'type-PF'}


class TestMatches(testtools.TestCase):

    def test_no_field_matches_everything(self):
        self.assertTrue(DeviceFilter().matches({}))
        self.assertEqual({}, DeviceFilter(host='').wanted())

    def test_fields_compare_case_insensitively(self):
        self.assertTrue(DeviceFilter(host='compute1', vendor_id='10de',
                                     cell='CELL1').matches(ROW))

    def test_every_field_must_match(self):
        self.assertFalse(DeviceFilter(host='compute1',
                                      status='allocated').matches(ROW))

    def test_a_row_without_the_field_never_matches(self):
        self.assertFalse(DeviceFilter(host='compute1').matches(
            dict(ROW, host=None)))

    def test_from_options(self):
        options = argparse.Namespace(host='h', status=None, vendor_id='10de',
                                     product_id=None, dev_type=None,
                                     cell=None, summary=True)
        self.assertEqual({'host': 'h', 'vendor_id': '10de'},
                         DeviceFilter.from_options(options).wanted())

    def test_cells(self):
        self.assertTrue(DeviceFilter().selects_cell('cell1'))
        self.assertTrue(DeviceFilter(cell='Cell1').selects_cell('cell1'))
        self.assertFalse(DeviceFilter(cell='cell2').selects_cell('cell1'))
        # the other fields are the rows' business
        self.assertTrue(DeviceFilter(cell='cell1', host='h')
                        .selects_cell('cell1'))

    def test_check_cell(self):
        DeviceFilter().check_cell([])
        DeviceFilter(cell='CELL1').check_cell(['cell1', 'cell2'])
        exc = self.assertRaises(devicefilter.NoSuchCell,
                                DeviceFilter(cell='cellX').check_cell,
                                ['cell2', '', None, 'cell1', 'cell2'])
        self.assertEqual('--cell cellX: no such cell (cells: cell1, cell2)',
                         str(exc))
        exc = self.assertRaises(devicefilter.NoSuchCell,
                                DeviceFilter(cell='cellX').check_cell,
                                [''], none='no cells here')
        self.assertEqual('--cell cellX: no such cell (no cells here)',
                         str(exc))

    def test_pools(self):
        pool = pci_pools.DevicePool('cell1', 7, '10de', '2235', 'type-PF', 0)
        self.assertTrue(DeviceFilter(host='COMPUTE1', product_id='2235')
                        .selects_pool(pool, 'compute1'))
        self.assertFalse(DeviceFilter(dev_type='type-VF')
                         .selects_pool(pool, 'compute1'))
        # a pool counts every status: a status selects none
        self.assertFalse(DeviceFilter(status='available')
                         .selects_pool(pool, 'compute1'))


class TestWhere(testtools.TestCase):

    def test_columns_given_are_compared(self):
        # plain '=': nova's case-insensitive collation, and the host index
        conditions, args = DeviceFilter(host='Compute1', vendor_id='10DE',
                                        cell='cell1').where(
            {'host': 'c.host', 'vendor_id': 'p.vendor_id'})
        self.assertEqual(['c.host = %s', 'p.vendor_id = %s'], conditions)
        self.assertEqual(['Compute1', '10DE'], args)

    def test_nothing_to_narrow(self):
        self.assertEqual(([], []), DeviceFilter().where({'host': 'c.host'}))
