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

"""The device readers: the database and the exports filter the same.

The database side runs novadb's real SELECT on SQLite, its text columns
case-insensitive (``COLLATE NOCASE``) as nova's utf8mb3_general_ci ones
are; the export side reads the same rows from ``device list -f json``
files, one per cell.
"""

import json
import sqlite3

import fixtures

from gpupassthrough_osc.sources import devicefilter
from gpupassthrough_osc.sources import devices
from gpupassthrough_osc.sources import novadb
from tests.unit.sources import base

DeviceFilter = devicefilter.DeviceFilter

NODES = {'cell1': [(1, 'compute1'), (2, 'Compute2')],
         'cell2': [(1, 'gpu-7')]}
# (cell, compute_node_id, address, vendor, product, dev_type, status,
#  deleted); node 9 has no compute_nodes row (host NULL)
ROWS = [
    ('cell1', 1, '0000:21:00.0', '10de', '2235', 'type-PF', 'available', 0),
    ('cell1', 1, '0000:e2:00.0', '10DE', '2235', 'type-PF', 'allocated', 0),
    ('cell1', 2, '0000:3b:00.0', '10de', '1df6', 'type-PCI', 'Available', 0),
    ('cell1', 2, '0000:3c:00.0', '10de', '1df6', 'type-PCI', 'removed', 1),
    ('cell1', 9, '0000:5e:00.0', '15b3', '101e', 'type-VF', 'available', 0),
    ('cell2', 1, '0000:af:00.0', '10de', '2235', 'type-PF', 'claimed', 0),
]
FILTERS = [
    DeviceFilter(),
    DeviceFilter(host='compute1'), DeviceFilter(host='COMPUTE2'),
    DeviceFilter(status='available'), DeviceFilter(status='ALLOCATED'),
    DeviceFilter(vendor_id='10de'), DeviceFilter(vendor_id='15B3'),
    DeviceFilter(product_id='2235', dev_type='TYPE-PF'),
    DeviceFilter(cell='CELL2'),
    DeviceFilter(host='gpu-7', cell='cell1'),
    DeviceFilter(host='compute1', cell='Cell1'),
    DeviceFilter(status='removed'), DeviceFilter(host='nowhere'),
]


class _SqliteConnection:
    """novadb.Connection's reading calls over an SQLite copy of a cell."""

    def __init__(self, db):
        self.db = db

    def columns(self, table):
        return {r[1] for r in self.db.execute(f'PRAGMA table_info({table})')}

    def stream(self, sql, args=()):
        yield from self.db.execute(sql.replace('%s', '?'), list(args))

    def close(self):
        pass


def _cell_db(cell):
    db = sqlite3.connect(':memory:')
    text = 'TEXT COLLATE NOCASE'
    db.execute(f'CREATE TABLE compute_nodes (id INTEGER, host {text})')
    db.execute(f'CREATE TABLE pci_devices (compute_node_id INTEGER, '
               f'address {text}, vendor_id {text}, product_id {text}, '
               f'dev_type {text}, status {text}, numa_node INTEGER, '
               f'instance_uuid {text}, parent_addr {text}, deleted INTEGER)')
    db.executemany('INSERT INTO compute_nodes VALUES (?, ?)', NODES[cell])
    db.executemany(
        'INSERT INTO pci_devices VALUES (?, ?, ?, ?, ?, ?, 0, NULL, NULL, ?)',
        [row[1:] for row in ROWS if row[0] == cell])
    return db


class TestDatabaseAndExportsFilterTheSame(base.FileTestCase):

    def setUp(self):
        super().setUp()
        dbs = {cell: _cell_db(cell) for cell in NODES}
        self.useFixture(fixtures.MockPatchObject(
            novadb, 'Connection',
            side_effect=lambda url, label, timeouts: _SqliteConnection(
                dbs[url])))
        self.notes = []
        self.database = devices.DatabaseDevices(None, None,
                                                novadb.Timeouts(), self.notes)
        self.useFixture(fixtures.MockPatchObject(
            self.database, 'cells',
            return_value=[(cell, cell) for cell in NODES]))
        self.exports = devices.ExportDevices(
            [self._export(cell) for cell in NODES], None, self.notes)

    def _export(self, cell):
        """The cell's rows as `openstack gpu device list -f json` prints."""
        hosts = dict(NODES[cell])
        rows = [{'Cell': cell, 'Host': hosts.get(node),
                 'Compute Node ID': node, 'Address': address,
                 'Vendor ID': vendor, 'Product ID': product,
                 'Dev Type': dev_type, 'Status': status, 'deleted': deleted}
                for c, node, address, vendor, product, dev_type, status,
                deleted in ROWS if c == cell]
        return self.write(cell, json.dumps(rows))

    @staticmethod
    def _listed(rows):
        return sorted((r['cell'], r['address']) for r in rows)

    def test_same_rows_for_every_filter(self):
        for device_filter in FILTERS:
            from_db = self._listed(self.database.devices(device_filter))
            from_exports = self._listed(self.exports.devices(device_filter))
            self.assertEqual(from_exports, from_db, device_filter)

    def test_the_filters_select(self):
        # not vacuous: the filters keep some rows and drop others
        counts = {f: len(self._listed(self.exports.devices(f)))
                  for f in FILTERS}
        self.assertEqual(5, counts[DeviceFilter()])
        self.assertEqual(2, counts[DeviceFilter(host='compute1')])
        self.assertEqual(3, counts[DeviceFilter(status='available')])
        self.assertEqual(0, counts[DeviceFilter(status='removed')])
        self.assertEqual(1, counts[DeviceFilter(cell='CELL2')])
        self.assertEqual(
            2, counts[DeviceFilter(host='compute1', cell='Cell1')])

    def test_an_unknown_cell_is_an_error(self):
        # not an empty list, which reads as a cell without devices
        unknown = DeviceFilter(cell='cell3', host='compute1')
        for reader in (self.database, self.exports):
            for check in (lambda: list(reader.devices(unknown)),
                          lambda: reader.check_cell(unknown)):
                exc = self.assertRaises(devicefilter.NoSuchCell, check)
                self.assertEqual(
                    '--cell cell3: no such cell (cells: cell1, cell2)',
                    str(exc))
            reader.check_cell(DeviceFilter(cell='CELL2'))
            reader.check_cell(DeviceFilter())

    def test_an_export_without_cells_names_none(self):
        path = self.write('one.json', json.dumps([
            {'Compute Node ID': 1, 'Vendor ID': '10de', 'Product ID': '2235',
             'Dev Type': 'type-PF', 'Status': 'available'}]))
        reader = devices.ExportDevices([path], None, [])
        cell1 = DeviceFilter(cell='cell1')
        for check in (lambda: list(reader.devices(cell1)),
                      lambda: reader.check_cell(cell1)):
            exc = self.assertRaises(devicefilter.NoSuchCell, check)
            self.assertEqual('--cell cell1: no such cell (the export names '
                             'no cell: its rows have no Cell column)',
                             str(exc))
        self.assertEqual(1, len(list(reader.devices(DeviceFilter()))))

    def test_cell_mappings_read_once(self):
        calls = []
        self.useFixture(fixtures.MockPatchObject(
            novadb, 'cells', side_effect=lambda *a: calls.append(a) or
            [('cell1', 'u1', 'mysql+pymysql://nova@db/cell1')]))
        reader = devices.DatabaseDevices(None, 'mysql+pymysql://nova@db/api',
                                         novadb.Timeouts(), [])
        reader.check_cell(DeviceFilter(cell='cell1'))
        self.assertEqual([('cell1', 'mysql+pymysql://nova@db/cell1')],
                         reader.cells())
        self.assertEqual(1, len(calls))

    def test_no_database_is_an_error(self):
        reader = devices.DatabaseDevices(None, None, novadb.Timeouts(), [])
        exc = self.assertRaises(devices.NoDeviceSource, list,
                                reader.devices(DeviceFilter()))
        self.assertIn('give --db-connection', str(exc))
        self.assertEqual((None, {}, None), reader.device_data())
        self.assertIn('config-only mode', reader.notes[0])


class TestExportsReadOnce(base.FileTestCase):
    """The audit pools a --pci-devices file in one pass over it."""

    def test_one_pass_with_compute_nodes(self):
        from gpupassthrough_osc.sources import exports

        path = self.write('pci.json', json.dumps([
            {'Cell': 'cell1', 'Host': 'gpu1', 'compute_node_id': 7,
             'address': '0000:21:00.0', 'vendor_id': '10de',
             'product_id': '2235', 'dev_type': 'type-PF',
             'status': 'available', 'deleted': 0}]))
        nodes = self.write('nodes.tsv', 'id\thost\n7\tgpu1\n')
        reads = []
        real = exports.iter_devices
        self.useFixture(fixtures.MockPatchObject(
            exports, 'iter_devices',
            side_effect=lambda p: reads.append(p) or real(p)))
        reader = devices.ExportDevices([path], nodes, [])
        pools, found, _leaks = reader.device_data()
        self.assertEqual([path], reads)
        self.assertEqual([('cell1', 7)], [(p.cell, p.compute_node_id)
                                          for p in pools])
        # the compute_nodes export belongs to the one cell the rows name
        self.assertEqual('gpu1', found[('cell1', 7)].host)
        # --summary --cell checks the cell against that same pass
        reader.check_cell(DeviceFilter(cell='cell1'))
        self.assertRaises(devicefilter.NoSuchCell, reader.check_cell,
                          DeviceFilter(cell='cell2'))
        self.assertEqual([path], reads)
