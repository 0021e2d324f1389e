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

"""Rows as nova writes them, inserted with SQL into nova's real tables."""

import datetime
import json
import uuid as uuidlib

CELL0_UUID = '00000000-0000-0000-0000-000000000000'
NOW = datetime.datetime(2026, 11, 1, 12, 0, 0)


class _Database:

    def __init__(self, server, kind, database=None):
        self.server = server
        # an existing database (one nova-manage made), or a new one with
        # the DDL generated from nova's models
        self.database = database or server.create_database(kind)

    def url(self, **kw):
        return self.server.url(self.database, **kw)

    def _insert(self, table, row):
        columns = ', '.join(f'`{c}`' for c in row)
        marks = ', '.join(['%s'] * len(row))
        with self.server.root(self.database) as cur:
            cur.execute(f'INSERT INTO {table} ({columns}) VALUES ({marks})',
                        list(row.values()))
            return cur.lastrowid

    def execute(self, sql, args=()):
        with self.server.root(self.database) as cur:
            cur.execute(sql, args)


class Cell(_Database):
    """One nova cell database, filled the way nova-compute fills it."""

    def __init__(self, server, database=None):
        super().__init__(server, 'main', database)

    def add_node(self, host, deleted=False, numa_topology=None):
        node_id = self._insert('compute_nodes', {
            'uuid': str(uuidlib.uuid4()), 'host': host,
            'hypervisor_hostname': f'{host}.example.org',
            'vcpus': 64, 'memory_mb': 262144, 'local_gb': 2000,
            'vcpus_used': 0, 'memory_mb_used': 0, 'local_gb_used': 0,
            'hypervisor_type': 'QEMU', 'hypervisor_version': 8002000,
            'cpu_info': '{}', 'numa_topology': numa_topology,
            'created_at': NOW, 'deleted': 0})
        if deleted:
            self.execute('UPDATE compute_nodes SET deleted = id, '
                         'deleted_at = %s WHERE id = %s', (NOW, node_id))
        return node_id

    def add_instance(self, host, deleted=False, uuid=None, name=None,
                     vm_state='active', task_state=None):
        uuid = uuid or str(uuidlib.uuid4())
        instance_id = self._insert('instances', {
            'uuid': uuid, 'host': host,
            'node': f'{host}.example.org' if host else None,
            'display_name': name,
            'vm_state': 'deleted' if deleted else vm_state,
            'task_state': task_state, 'created_at': NOW, 'deleted': 0})
        if deleted:
            self.execute('UPDATE instances SET deleted = id, deleted_at = %s '
                         'WHERE id = %s', (NOW, instance_id))
        return uuid

    def add_device(self, node_id, address, vendor_id, product_id, dev_type,
                   status='available', instance_uuid=None, numa_node=0,
                   parent_addr=None, deleted=False):
        device_id = self._insert('pci_devices', {
            'uuid': str(uuidlib.uuid4()), 'compute_node_id': node_id,
            'address': address, 'vendor_id': vendor_id,
            'product_id': product_id, 'dev_type': dev_type,
            'dev_id': 'pci_' + address.replace(':', '_').replace('.', '_'),
            'label': f'label_{vendor_id}_{product_id}', 'status': status,
            'request_id': None, 'extra_info': json.dumps({}),
            'instance_uuid': instance_uuid, 'numa_node': numa_node,
            'parent_addr': parent_addr, 'created_at': NOW, 'deleted': 0})
        if deleted:
            self.execute('UPDATE pci_devices SET deleted = id, '
                         'deleted_at = %s WHERE id = %s', (NOW, device_id))
        return device_id

    def add_fault(self, instance_uuid, message, code=500, details='',
                  created_at=NOW, deleted=False):
        """A row as compute/utils.py add_instance_fault_from_exc writes."""
        fault_id = self._insert('instance_faults', {
            'instance_uuid': instance_uuid, 'code': code,
            'message': message, 'details': details, 'host': None,
            'created_at': created_at, 'deleted': 0})
        if deleted:
            self.execute('UPDATE instance_faults SET deleted = id, '
                         'deleted_at = %s WHERE id = %s', (NOW, fault_id))
        return fault_id


class ApiDb(_Database):
    """The nova_api database: cell mappings and flavors."""

    def __init__(self, server, database=None):
        super().__init__(server, 'api', database)

    def map_cell(self, name, connection, uuid=None):
        return self._insert('cell_mappings', {
            'uuid': uuid or str(uuidlib.uuid4()), 'name': name,
            'transport_url': 'fake://', 'database_connection': connection,
            'disabled': 0, 'created_at': NOW})

    def add_flavor(self, name, specs, vcpus=8, ram=32768):
        flavor_id = self._insert('flavors', {
            'name': name, 'flavorid': str(uuidlib.uuid4()),
            'memory_mb': ram, 'vcpus': vcpus, 'root_gb': 40,
            'ephemeral_gb': 0, 'swap': 0, 'rxtx_factor': 1.0,
            'disabled': 0, 'is_public': 1, 'created_at': NOW})
        for key, value in specs.items():
            self._insert('flavor_extra_specs', {
                'flavor_id': flavor_id, 'key': key, 'value': value,
                'created_at': NOW})
        return flavor_id

    def map_instance(self, instance_uuid, cell_id):
        """instance_mappings: the instance's cell (None: scheduling)."""
        self._insert('instance_mappings', {
            'instance_uuid': instance_uuid, 'cell_id': cell_id,
            'project_id': 'p', 'user_id': 'u', 'queued_for_delete': 0,
            'created_at': NOW})

    def add_request_spec(self, instance_uuid, spec):
        """request_specs: the ``spec`` blob RequestSpec.create() stores."""
        self._insert('request_specs', {
            'instance_uuid': instance_uuid, 'spec': spec,
            'created_at': NOW})
