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

"""Finding a server in nova's databases, as a SELECT-only user.

Two cells and cell0 in a real MariaDB holding nova's tables; rows as nova
writes them (tests/functional/novadata.py), request specs as nova 34
stores them (tests/fixtures/request_specs).
"""

import datetime
import os

import testtools

from gpupassthrough_osc.pci import model
from gpupassthrough_osc.sources import novadb
from gpupassthrough_osc.sources import servers
from tests.functional import mariadb
from tests.functional import novadata

SPECS = os.path.join(os.path.dirname(__file__), '..', 'fixtures',
                     'request_specs')
# the uuid nova wrote into that fixture's blob
A40_PAIR_UUID = '6f0c6ad4-0a40-4a40-8a40-000000000001'
NO_VALID_HOST = ('No valid host was found. There are not enough hosts '
                 'available.')


def spec_blob(name):
    with open(os.path.join(SPECS, f'{name}.json')) as f:
        return f.read().strip()


def reader(db):
    return db.url(user='reader', password=mariadb.READER_PASSWORD)


class ServersTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.server = mariadb.server()
        self.cell0 = novadata.Cell(self.server)
        self.cell1 = novadata.Cell(self.server)
        self.cell2 = novadata.Cell(self.server)
        self.api = novadata.ApiDb(self.server)
        self.cell_ids = {
            'cell0': self.api.map_cell('cell0', reader(self.cell0),
                                       uuid=novadata.CELL0_UUID),
            'cell1': self.api.map_cell('cell1', reader(self.cell1)),
            'cell2': self.api.map_cell('cell2', reader(self.cell2))}
        # what the commands pass: cell_mappings without cell0
        self.cells = [('cell1', reader(self.cell1)),
                      ('cell2', reader(self.cell2))]
        self.api_url = reader(self.api)

    def find(self, ref, api=True):
        return servers.find_server(self.cells,
                                   self.api_url if api else None, ref)


class TestFind(ServersTestCase):

    def test_by_uuid_in_the_second_cell_with_devices_fault_and_spec(self):
        node = self.cell2.add_node('gpu-a40-02')
        uuid = self.cell2.add_instance('gpu-a40-02', uuid=A40_PAIR_UUID,
                                       name='train-1', vm_state='error')
        for address in ('0000:21:00.0', '0000:e2:00.0'):
            self.cell2.add_device(node, address, '10de', '2235', 'type-PF',
                                  status='allocated', instance_uuid=uuid,
                                  numa_node=int(address[5] == 'e'))
        self.cell2.add_device(node, '0000:41:00.0', '10de', '2235',
                              'type-PF', status='allocated',
                              instance_uuid=uuid, deleted=True)
        self.cell2.add_device(node, '0000:81:00.0', '10de', '2235',
                              'type-PF')
        older = novadata.NOW - datetime.timedelta(minutes=5)
        self.cell2.add_fault(uuid, 'older', created_at=older)
        self.cell2.add_fault(uuid, 'PCI device request failed', code=500,
                             details='Traceback ...\nPciDeviceRequestFailed')
        self.cell2.add_fault(uuid, 'soft-deleted', deleted=True)
        self.api.map_instance(uuid, self.cell_ids['cell2'])
        self.api.add_request_spec(uuid, spec_blob('a40-pf-pair'))

        server = self.find(uuid)

        self.assertEqual((uuid, 'train-1', 'cell2', 'gpu-a40-02',
                          'gpu-a40-02.example.org', 'error', None, None),
                         (server.uuid, server.name, server.cell, server.host,
                          server.node, server.vm_state, server.task_state,
                          server.status))
        self.assertEqual(servers.Fault(
            500, 'PCI device request failed',
            'Traceback ...\nPciDeviceRequestFailed', '2026-11-01T12:00:00'),
            server.fault)
        self.assertEqual(
            [model.Device('0000:21:00.0', '10de', '2235', 'type-PF',
                          'allocated', numa_node=0, compute_node_id=node),
             model.Device('0000:e2:00.0', '10de', '2235', 'type-PF',
                          'allocated', numa_node=1, compute_node_id=node)],
            list(server.devices))
        self.assertEqual('gpuA40', server.request_spec.pci_requests[0]
                         .alias_name)
        self.assertEqual((), server.notes)

    def test_by_uuid_without_a_mapping_searches_every_cell(self):
        uuid = self.cell2.add_instance('h2')
        self.assertEqual('cell2', self.find(uuid).cell)
        # nova's API takes a UUID in any case and without dashes
        self.assertEqual(uuid, self.find(uuid.upper().replace('-', '')).uuid)

    def test_by_name_exactly(self):
        uuid = self.cell1.add_instance('h1', name='gpu-vm')
        self.cell2.add_instance('h2', name='GPU-VM')
        self.cell2.add_instance('h2', name='gpu-vm', deleted=True)
        server = self.find('gpu-vm')
        self.assertEqual((uuid, 'cell1'), (server.uuid, server.cell))
        self.assertEqual(['request spec not found: request_specs has no row '
                          f'for {uuid}'], list(server.notes))
        self.assertIsNone(server.request_spec)
        self.assertEqual((), server.devices)
        self.assertIsNone(server.fault)

    def test_ambiguous_name_lists_the_uuids(self):
        first = self.cell1.add_instance('h1', name='twin')
        second = self.cell2.add_instance('h2', name='twin')
        exc = self.assertRaises(servers.AmbiguousServer, self.find, 'twin')
        self.assertEqual(
            f"More than one server exists with the name 'twin': {first} "
            f"(cell cell1), {second} (cell cell2); give its UUID", str(exc))
        self.assertEqual([first, second], exc.uuids)

    def test_not_found_names_the_reference_and_the_cells(self):
        self.cell1.add_instance('h1', name='gone', deleted=True)
        for ref, api, cells in (
                ('gone', True, 'cell1, cell2, cell0'),
                ('gone', False, 'cell1, cell2'),
                ('7c1e1d3a-0000-4000-8000-000000000000', True,
                 'cell1, cell2, cell0')):
            exc = self.assertRaises(servers.ServerNotFound, self.find, ref,
                                    api=api)
            self.assertEqual(f"No server with a name or ID of '{ref}' (live "
                             f"rows of instances) in cells: {cells}",
                             str(exc))

    def test_failed_boot_is_found_in_cell0(self):
        # nova/conductor/manager.py _bury_in_cell0
        uuid = self.cell0.add_instance(None, name='no-host',
                                       vm_state='error')
        self.cell0.add_fault(uuid, NO_VALID_HOST, code=500,
                             details='NoValidHost')
        self.api.map_instance(uuid, self.cell_ids['cell0'])
        self.api.add_request_spec(uuid, spec_blob('dedicated-two-numa'))
        for ref in (uuid, 'no-host'):
            server = self.find(ref)
            self.assertEqual(('cell0', None, 'error', NO_VALID_HOST),
                             (server.cell, server.host, server.vm_state,
                              server.fault.message))
            self.assertEqual(2, len(server.request_spec.numa_cells))
            self.assertEqual((), server.devices)

    def test_without_the_api_database(self):
        uuid = self.cell1.add_instance('h1', name='vm')
        self.cell1.add_fault(uuid, 'boom')
        server = self.find('vm', api=False)
        self.assertEqual(('cell1', 'boom'), (server.cell,
                                             server.fault.message))
        self.assertIsNone(server.request_spec)
        self.assertEqual(['request spec not read: it is in the API database '
                          '(request_specs), which was not given'],
                         list(server.notes))

    def test_mapping_without_a_cell_is_still_scheduling(self):
        uuid = '5d2c5b1e-0000-4000-8000-000000000001'
        self.api.map_instance(uuid, None)
        exc = self.assertRaises(servers.ServerNotFound, self.find, uuid)
        self.assertIn(f'server {uuid} is in no cell yet', str(exc))

    def test_bad_request_spec_is_a_note(self):
        uuid = self.cell1.add_instance('h1')
        self.api.add_request_spec(uuid, '{"not": "nova"}')
        server = self.find(uuid)
        self.assertIsNone(server.request_spec)
        self.assertEqual([f'request spec of instance {uuid}: spec: not a '
                          f'nova object (nova_object.data missing)'],
                         list(server.notes))

    def test_unreadable_cell0_is_a_note_not_a_failure(self):
        self.api.execute('UPDATE cell_mappings SET database_connection = %s '
                         'WHERE uuid = %s',
                         ('mysql+pymysql://reader:pw@127.0.0.1:1/nova_cell0',
                          novadata.CELL0_UUID))
        uuid = self.cell1.add_instance('h1', name='vm')
        server = self.find('vm')
        self.assertEqual(uuid, server.uuid)
        self.assertIn('cell0 not searched: cannot connect to cell cell0 '
                      '(mysql+pymysql://reader:***@127.0.0.1:1/nova_cell0)',
                      server.notes[0])
        exc = self.assertRaises(servers.ServerNotFound, self.find, 'other')
        self.assertIn('in cells: cell1, cell2; cell0 not searched: ',
                      str(exc))
        self.assertNotIn('\n', str(exc))

    def test_an_unreadable_cell_the_caller_gave_is_an_error(self):
        self.cells.append(('cell3',
                           'mysql+pymysql://reader:pw@127.0.0.1:1/nova3'))
        exc = self.assertRaises(novadb.DatabaseError, self.find, 'vm')
        self.assertIn('cannot connect to cell cell3', str(exc))
        self.assertNotIn(':pw@', str(exc))

    def test_reader_cannot_write(self):
        # the grants these tests run with: SELECT and nothing else
        conn = novadb.Connection(reader(self.cell1))
        self.addCleanup(conn.close)
        self.assertRaises(novadb.DatabaseError, conn.query,
                          "INSERT INTO instance_faults (code) VALUES (1)")
