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

"""The servers adapter on rows nova 34 wrote itself.

nova-manage makes the schema (API database, cell0, two cells); nova's own
objects write what a boot no host could take leaves behind, as the
conductor does (nova/conductor/manager.py ``_bury_in_cell0``): the
instance in cell0, its fault (nova/compute/utils.py
``add_instance_fault_from_exc``), its instance mapping and its request
spec (``RequestSpec.create()``). A SELECT-only user then finds it.
"""

import sys

import testtools

from gpupassthrough_osc.sources import servers
from tests.functional import mariadb
from tests.functional_nova import novaapi
from tests.functional_nova import requestspecs

UUID = '3d9a1c7e-0000-4000-8000-00000000b0a7'


class NovaSchema(novaapi.NovaApi):
    """nova-manage's databases, without running the compute API."""

    def start(self):
        pass

    def stop(self):
        pass


class TestNovaWrittenRows(testtools.TestCase):

    def bury_in_cell0(self, schema):
        """What the conductor writes when scheduling fails."""
        from nova.compute import utils as compute_utils
        from nova.db.api import api as api_db_api
        from nova.db.main import api as main_db_api
        from nova import exception
        from oslo_messaging import conffixture

        n = requestspecs.nova()
        objects, conf = n['objects'], n['conf']
        # CellMapping reads [DEFAULT] transport_url, which oslo.messaging
        # registers
        self.useFixture(conffixture.ConfFixture(conf)).transport_url = \
            'fake:/'
        conf.set_override('connection', schema.url('api'), 'api_database')
        conf.set_override('connection', schema.url('cell0'), 'database')
        self.addCleanup(conf.clear_override, 'connection', 'api_database')
        self.addCleanup(conf.clear_override, 'connection', 'database')
        api_db_api.configure(conf)
        main_db_api.configure(conf)
        ctxt = n['context'].get_admin_context()

        spec = requestspecs.build(UUID, **{
            k: v for k, v in requestspecs.CASES['dedicated-two-numa'].items()
            if k != 'uuid'})
        spec._context = ctxt
        spec.create()
        instance = objects.Instance(
            ctxt, uuid=UUID, display_name='train-1', vm_state='error',
            task_state=None, project_id='p', user_id='u', flavor=spec.flavor)
        instance.create()
        objects.InstanceMapping(
            ctxt, instance_uuid=UUID, project_id='p', user_id='u',
            cell_mapping=objects.CellMapping.get_by_uuid(
                ctxt, objects.CellMapping.CELL0_UUID)).create()
        try:
            raise exception.NoValidHost(reason='')
        except exception.NoValidHost as exc:
            compute_utils.add_instance_fault_from_exc(
                ctxt, instance, exc, sys.exc_info())

    def test_failed_boot_buried_in_cell0(self):
        schema = self.useFixture(NovaSchema())
        self.bury_in_cell0(schema)
        reader = {'user': 'reader', 'password': mariadb.READER_PASSWORD}
        # the cells the commands read: cell_mappings without cell0
        cells = [(c, schema.url(c, **reader)) for c in ('cell1', 'cell2')]
        for ref in (UUID, 'train-1'):
            server = servers.find_server(cells, schema.url('api', **reader),
                                         ref)
            self.assertEqual((UUID, 'train-1', 'cell0', None, 'error'),
                             (server.uuid, server.name, server.cell,
                              server.host, server.vm_state))
            self.assertEqual(500, server.fault.code)
            self.assertIn('No valid host was found', server.fault.message)
            self.assertIn('NoValidHost', server.fault.details)
            self.assertEqual((), server.devices)
            spec = server.request_spec
            self.assertEqual(UUID, spec.instance_uuid)
            self.assertEqual([frozenset(range(8)), frozenset(range(8, 16))],
                             [c.pcpuset for c in spec.numa_cells])
            self.assertEqual([('gpuA40', 2, 'socket')],
                             [(r.alias_name, r.count, r.numa_policy)
                              for r in spec.pci_requests])
            self.assertEqual((), server.notes)
