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

"""Nova itself, on loopback: its databases and its compute API.

What devstack does, in seconds: nova's schema is created by nova's own
``nova-manage`` (api_db sync, map_cell0, db sync, create_cell for two
cells), and nova's compute API WSGI app runs in a subprocess on a free
port of 127.0.0.1, with ``transport_url = fake://`` and the authtoken
filter replaced by tests/functional_nova/authstub.py. It is stopped by
PID when the test ends.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import fixtures

from tests.functional import mariadb

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
# nova fills these from its own [database] connection (cell_mapping.py)
TEMPLATE = '{scheme}://{username}:{password}@{hostname}:{port}/%s?{query}'

API_PASTE = """[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2.1: oscomputeversion_v2
/v2.1/+: openstack_compute_api_v21

[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = compute_req_id faultwrap sizelimit authstub keystonecontext \
osapi_compute_app_v21

[filter:authstub]
paste.filter_factory = tests.functional_nova.authstub:filter_factory

[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory

[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory

[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory

[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory

[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory

[pipeline:oscomputeversions]
pipeline = faultwrap oscomputeversionapp

[pipeline:oscomputeversion_v2]
pipeline = compute_req_id faultwrap oscomputeversionapp_v2

[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory

[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory
"""


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# {kind: database} of this process's pristine nova-manage schema
_TEMPLATES = None


def _clone(server, source, target):
    """Copy every table of ``source`` (DDL and rows) into ``target``."""
    with server.root() as cur:
        cur.execute(f'CREATE DATABASE IF NOT EXISTS {target}')
        cur.execute('SET FOREIGN_KEY_CHECKS = 0')
        cur.execute(f"SHOW FULL TABLES FROM {source} "
                    f"WHERE Table_type = 'BASE TABLE'")
        tables = [row[0] for row in cur.fetchall()]
        cur.execute(f'USE {target}')
        for table in tables:
            cur.execute(f'SHOW CREATE TABLE {source}.`{table}`')
            cur.execute(cur.fetchone()[1])
            cur.execute(f'INSERT INTO {target}.`{table}` '
                        f'SELECT * FROM {source}.`{table}`')


def _remap_cells(server, api_db, old, new):
    """Point the cell_mappings of ``api_db`` from ``old`` to ``new`` DBs."""
    with server.root(api_db) as cur:
        for kind, name in old.items():
            cur.execute('UPDATE cell_mappings SET database_connection = '
                        'REPLACE(database_connection, %s, %s)',
                        (name, new[kind]))


class NovaApi(fixtures.Fixture):
    """nova_api + cell0 + cell1 + cell2 databases and a running API."""

    def __init__(self, aliases=()):
        super().__init__()
        self.aliases = list(aliases)

    def _setUp(self):
        self.server = mariadb.server()
        self.dir = self.useFixture(fixtures.TempDir()).path
        suffix = os.path.basename(self.dir)[-6:].replace('_', 'x').lower()
        self.db = {k: f'n{suffix}_{k}'
                   for k in ('api', 'cell0', 'cell1', 'cell2')}
        with self.server.root() as cur:
            for name in self.db.values():
                cur.execute(f'CREATE DATABASE {name}')
                cur.execute(f"GRANT SELECT ON {name}.* TO 'reader'@'%'")
        self.conf_path = os.path.join(self.dir, 'nova.conf')
        self.write_conf(self.aliases)
        with open(os.path.join(self.dir, 'api-paste.ini'), 'w') as f:
            f.write(API_PASTE)
        self._create_schema()
        self.port = _free_port()
        self.proc = None
        self.start()
        self.addCleanup(self.stop)

    def url(self, key, **kw):
        return self.server.url(self.db[key], **kw)

    def write_conf(self, aliases, database='cell1'):
        lines = [
            '[DEFAULT]', 'transport_url = fake://',
            'rpc_response_timeout = 3', f'state_path = {self.dir}',
            'use_stderr = true', '',
            '[api]', 'auth_strategy = keystone', '',
            '[wsgi]', f'api_paste_config = {self.dir}/api-paste.ini', '',
            '[oslo_concurrency]', f'lock_path = {self.dir}/lock', '',
            '[api_database]', f'connection = {self.url("api")}', '',
            '[database]', f'connection = {self.url(database)}', '',
            # what a GPU cloud's scheduler needs; the audit judges it
            '[filter_scheduler]',
            'enabled_filters = ComputeFilter,PciPassthroughFilter', '',
            '[pci]', '# written by the test fixture',
            *(f'alias = {a}' for a in aliases), '']
        path = self.conf_path if database == 'cell1' else os.path.join(
            self.dir, f'{database}.conf')
        with open(path, 'w') as f:
            f.write('\n'.join(lines))
        return path

    def manage(self, *args, conf=None):
        result = subprocess.run(
            [os.path.join(BIN, 'nova-manage'), '--config-file',
             conf or self.conf_path, *args],
            capture_output=True, text=True, timeout=300)
        if result.returncode not in (0,):
            raise RuntimeError(f'nova-manage {" ".join(args)} failed '
                               f'({result.returncode}): '
                               f'{result.stderr[-3000:]}')
        return result.stdout

    def _create_schema(self):
        """nova-manage's schema: made once per test process, then copied.

        nova-manage (api_db sync, map_cell0, db sync of each cell,
        create_cell) runs for the first fixture of a process; its pristine
        databases are kept as templates, and every later fixture gets
        table-for-table copies (SHOW CREATE TABLE, rows included, foreign
        keys too), its cell_mappings pointed at its own databases. The
        schema is still exactly what nova-manage made, at a fraction of
        the cost of four migrations per test.
        """
        global _TEMPLATES
        if _TEMPLATES is None:
            self._manage_schema()
            templates = {k: f'tmpl{os.getpid()}_{k}' for k in self.db}
            for kind, name in templates.items():
                _clone(self.server, self.db[kind], name)
            _remap_cells(self.server, templates['api'], self.db, templates)
            _TEMPLATES = templates
            return
        for kind, name in _TEMPLATES.items():
            _clone(self.server, name, self.db[kind])
        _remap_cells(self.server, self.db['api'], _TEMPLATES, self.db)

    def _manage_schema(self):
        self.manage('api_db', 'sync')
        self.manage('cell_v2', 'map_cell0', '--database_connection',
                    self.url('cell0'))
        self.manage('db', 'sync')
        self.manage('db', 'sync', conf=self.write_conf([], 'cell2'))
        for cell in ('cell1', 'cell2'):
            self.manage('cell_v2', 'create_cell', '--name', cell,
                        '--database_connection', TEMPLATE % self.db[cell],
                        # nova-manage refuses two cells with one transport
                        '--transport-url', f'fake://{cell}/')

    def start(self):
        self.log = open(os.path.join(self.dir, 'api.log'), 'a')
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'tests.functional_nova.serve', self.dir,
             str(self.port)], cwd=REPO, stdout=self.log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONPATH=REPO))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'nova API exited: {self.tail()}')
            try:
                urllib.request.urlopen(self.endpoint, timeout=2).read()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f'nova API did not answer: {self.tail()}')

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def restart(self):
        """nova reads [pci] alias only at start."""
        self.stop()
        self.start()

    def tail(self):
        with open(os.path.join(self.dir, 'api.log')) as f:
            return f.read()[-3000:]

    @property
    def root(self):
        return f'http://127.0.0.1:{self.port}/'

    @property
    def endpoint(self):
        return f'http://127.0.0.1:{self.port}/v2.1'

    def clouds_yaml(self, token='admin:admin'):
        """clouds.yaml for OSC: keystoneauth's admin_token auth type."""
        path = os.path.join(self.dir, f'clouds-{token.split(":")[0]}.yaml')
        with open(path, 'w') as f:
            f.write(f'clouds:\n  nova:\n    auth_type: admin_token\n'
                    f'    auth:\n      endpoint: {self.endpoint}\n'
                    f'      token: "{token}"\n'
                    f'    identity_api_version: 3\n'
                    f'    identity_endpoint_override: {self.root}\n')
        return path
