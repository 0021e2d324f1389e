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

"""openstack-placement 16.0.0 itself, served on loopback for the tests.

Its own WSGI app (``placement.wsgi.init_application``, the entry point
placement documents for any WSGI server) runs in a subprocess under
wsgiref, on 127.0.0.1 and a free port, with ``[api] auth_strategy =
noauth2`` (the token "admin" is an admin) and its database on the private
MariaDB of tests/functional/mariadb.py, whose schema ``placement-manage db
sync`` creates. Run as ``python -m tests.functional.placementserver PORT``
with ``OS_PLACEMENT_CONFIG_DIR`` set, it serves until killed.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import wsgiref.simple_server

import requests

from tests.functional import mariadb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TOKEN = 'admin'
HEADERS = {'X-Auth-Token': TOKEN,
           'OpenStack-API-Version': 'placement 1.36'}


class _Quiet(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Placement:
    """A running placement API; ``url`` is its endpoint."""

    def __init__(self):
        db = mariadb.server()
        name = f'placement_{uuid.uuid4().hex[:8]}'
        with db.root() as cur:
            cur.execute(f'CREATE DATABASE {name}')
        self.dir = tempfile.mkdtemp(prefix='gpu-placement-')
        conf = os.path.join(self.dir, 'placement.conf')
        with open(conf, 'w') as f:
            f.write(f'[DEFAULT]\nuse_stderr = true\n'
                    f'[api]\nauth_strategy = noauth2\n'
                    f'[placement_database]\nconnection = {db.url(name)}\n')
        bindir = os.path.dirname(sys.executable)
        sync = subprocess.run(
            [os.path.join(bindir, 'placement-manage'), '--config-file',
             conf, 'db', 'sync'], capture_output=True, text=True)
        if sync.returncode:
            raise RuntimeError(f'placement-manage db sync: {sync.stderr}')
        self.port = mariadb._free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.log = open(os.path.join(self.dir, 'placement.log'), 'w')
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'tests.functional.placementserver',
             str(self.port)], cwd=ROOT, stdout=self.log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, OS_PLACEMENT_CONFIG_DIR=self.dir))
        self._wait()

    def _wait(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                with open(self.log.name) as f:
                    raise RuntimeError(f'placement exited: {f.read()}')
            try:
                requests.get(self.url, timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError('placement did not start within 60 s')

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        self.log.close()

    # -- what nova-compute does, through the REST API --

    def call(self, method, path, body=None, expect=(200, 201, 204)):
        response = requests.request(method, self.url + path, json=body,
                                    headers=HEADERS, timeout=30)
        if response.status_code not in expect:
            raise AssertionError(f'{method} {path}: {response.status_code} '
                                 f'{response.text}')
        return response.json() if response.content else None

    def provider(self, name, parent=None, rp_uuid=None):
        rp_uuid = rp_uuid or str(uuid.uuid4())
        body = {'name': name, 'uuid': rp_uuid}
        if parent:
            body['parent_provider_uuid'] = parent
        self.call('POST', '/resource_providers', body)
        return rp_uuid

    def generation(self, rp_uuid):
        return self.call('GET', f'/resource_providers/{rp_uuid}')[
            'generation']

    def inventory(self, rp_uuid, rc, total):
        if rc.startswith('CUSTOM_'):
            self.call('PUT', f'/resource_classes/{rc}')
        self.call('PUT', f'/resource_providers/{rp_uuid}/inventories', {
            'resource_provider_generation': self.generation(rp_uuid),
            'inventories': {rc: {'total': total, 'max_unit': total}}})

    def traits(self, rp_uuid, names):
        for name in names:
            if name.startswith('CUSTOM_'):
                self.call('PUT', f'/traits/{name}')
        self.call('PUT', f'/resource_providers/{rp_uuid}/traits', {
            'resource_provider_generation': self.generation(rp_uuid),
            'traits': sorted(names)})

    def allocate(self, consumer, allocations, project='p', user='u'):
        self.call('PUT', f'/allocations/{consumer}', {
            'allocations': {rp: {'resources': res}
                            for rp, res in allocations.items()},
            'consumer_generation': None, 'project_id': project,
            'user_id': user})


def main(port):
    from placement import wsgi

    app = wsgi.init_application()
    server = wsgiref.simple_server.make_server('127.0.0.1', port, app,
                                               handler_class=_Quiet)
    server.serve_forever()


if __name__ == '__main__':
    main(int(sys.argv[1]))
