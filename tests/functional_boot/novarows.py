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

"""What nova wrote, moved to where an operator's audit reads it.

nova's in-process services keep their cells in SQLite. The rows its
resource tracker, conductor and API wrote are copied, untouched, into a
private MariaDB whose tables come from nova's own models, and written out
as the exports an operator would send (``mysql -B``, ``\\G``,
``openstack gpu device list -f json``, ``openstack flavor list --long -f
json``) with the real ``mariadb`` client.
"""

import json
import os
import shutil
import subprocess

import sqlalchemy as sa

from nova.db.api import api as api_db_api
from nova.db.api import models as api_models
from nova.db.main import api as main_db_api
from nova.db.main import models as main_models

from tests.functional import mariadb

CELL0_UUID = '00000000-0000-0000-0000-000000000000'
MAIN_TABLES = ('compute_nodes', 'pci_devices', 'instances', 'instance_extra',
               'instance_faults', 'services')
API_TABLES = ('cell_mappings', 'host_mappings', 'instance_mappings',
              'flavors', 'flavor_extra_specs', 'flavor_projects',
              'request_specs')
# nova fills a templated cell URL from its own [database] connection
# (nova/objects/cell_mapping.py), so the reader's credentials carry over
CELL_TEMPLATE = '{scheme}://{username}:{password}@{hostname}:{port}/%s?{query}'


def _copy(source, server, base, tables, database):
    url = (f'mysql+pymysql://root@localhost/{database}?charset=utf8'
           f'&unix_socket={server.socket}')
    target = sa.create_engine(url)
    chosen = [base.metadata.tables[t] for t in tables]
    try:
        base.metadata.create_all(target, tables=chosen)
        with source.connect() as src, target.begin() as dst:
            for table in chosen:
                rows = [dict(r) for r in
                        src.execute(sa.select(table)).mappings()]
                if table.name == 'cell_mappings':
                    rows = [_remap_cell(r) for r in rows]
                if rows:
                    dst.execute(table.insert(), rows)
    finally:
        target.dispose()


def _remap_cell(row):
    name = 'unused_cell0' if row['uuid'] == CELL0_UUID else '{cell}'
    return dict(row, database_connection=CELL_TEMPLATE % name)


class Copy:
    """nova's API and cell1 databases, copied into the private MariaDB."""

    def __init__(self):
        self.server = mariadb.server()
        with self.server.root() as cur:
            self.cell = _new_database(cur, 'boot_cell')
            self.api = _new_database(cur, 'boot_api')
        _copy(main_db_api.get_engine(), self.server, main_models.BASE,
              MAIN_TABLES, self.cell)
        _copy(api_db_api.get_engine(), self.server, api_models.BASE,
              API_TABLES, self.api)
        with self.server.root(self.api) as cur:
            cur.execute(
                'UPDATE cell_mappings SET database_connection = '
                'REPLACE(database_connection, %s, %s)', ('{cell}', self.cell))
        with self.server.root() as cur:
            for db in (self.cell, self.api):
                cur.execute(f"GRANT SELECT ON {db}.* TO 'reader'@'%'")

    def reader_env(self):
        """The audit's credentials: a user with SELECT grants only."""
        kw = {'user': 'reader', 'password': mariadb.READER_PASSWORD}
        return {
            'GPUPASSTHROUGH_DB_CONNECTION': self.server.url(self.cell, **kw),
            'GPUPASSTHROUGH_API_DB_CONNECTION': self.server.url(self.api,
                                                                **kw)}

    def client(self, database, sql, vertical=False):
        """What ``mariadb -B -e SQL`` (or ``\\G``) prints, as a string."""
        cmd = [_client(), '--no-defaults', f'--socket={self.server.socket}',
               '-u', 'root', database]
        if vertical:
            cmd += ['-e', sql.rstrip(';') + '\\G']
        else:
            cmd += ['-B', '-e', sql]
        return subprocess.run(cmd, capture_output=True, text=True,
                              check=True, timeout=60).stdout


def _new_database(cur, prefix):
    import uuid
    name = f'{prefix}_{uuid.uuid4().hex[:8]}'
    cur.execute(f'CREATE DATABASE {name}')
    return name


def _client():
    for name in ('mariadb', 'mysql'):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError('no mariadb client: install mariadb-client')


def write_exports(copy, directory, style, device_list_json=None):
    """The exports an operator would send, in one of three styles.

    ``B``: ``mysql -B`` of pci_devices and compute_nodes; ``G``: the
    seed's ``\\G`` form of both; ``json``: ``openstack gpu device list -f
    json`` (given) with compute_nodes as ``-B``. Returns the audit options.
    """
    devices = os.path.join(directory, 'pci_devices.txt')
    nodes = os.path.join(directory, 'compute_nodes.txt')
    if style == 'json':
        with open(devices, 'w') as f:
            f.write(device_list_json)
    else:
        with open(devices, 'w') as f:
            f.write(copy.client(copy.cell, 'SELECT * FROM pci_devices',
                                vertical=style == 'G'))
    with open(nodes, 'w') as f:
        f.write(copy.client(copy.cell, 'SELECT * FROM compute_nodes',
                            vertical=style == 'G'))
    return ['--pci-devices', devices, '--compute-nodes', nodes]


def flavor_list_json(flavors):
    """``openstack flavor list --long -f json`` of nova's API answers."""
    return json.dumps([{
        'ID': f['id'], 'Name': f['name'], 'RAM': f['ram'],
        'Disk': f['disk'], 'Ephemeral': f.get('OS-FLV-EXT-DATA:ephemeral', 0),
        'VCPUs': f['vcpus'], 'Is Public': True,
        'Properties': f.get('extra_specs', {})} for f in flavors], indent=1)
