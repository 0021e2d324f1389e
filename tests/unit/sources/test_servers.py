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

"""A server from an ``openstack server show SERVER -f json`` export.

The exports are made by OSC's own code: openstacksdk's Server from a nova
response body, OSC's ``_prep_server_detail`` (what ``server show`` prints)
and cliff's JSON formatter, so the shape is the one operators send.
"""

import io
import json
import os
from unittest import mock

from cliff.formatters import json_format
import fixtures
from openstack.compute.v2 import server as sdk_server
from openstackclient.compute.v2 import server as osc_server
import testtools

from gpupassthrough_osc.pci import requestspec
from gpupassthrough_osc.sources import exports
from gpupassthrough_osc.sources import servers
from tests import files
from tests import paths
from tests.unit import fakes

FIXTURE = paths.fixture('server-show', 'no-valid-host.json')
UUID = '0b3c5e8a-1d2f-4e6a-9c7b-2a4d6f8e0c11'
SERVER_URL = f'http://nova.example:8774/v2.1/servers/{UUID}'
NO_VALID_HOST = ('No valid host was found. There are not enough hosts '
                 'available.')
EXTRA_SPECS = {'pci_passthrough:alias': 'gpuA40:2',
               'hw:cpu_policy': 'dedicated', 'hw:numa_nodes': '2'}


def nova_body(**changes):
    """A GET /servers/{id} body at microversion 2.100, admin view."""
    body = {
        'id': UUID, 'name': 'train-1', 'status': 'ERROR',
        'OS-EXT-STS:vm_state': 'error', 'OS-EXT-STS:task_state': None,
        'OS-EXT-STS:power_state': 0, 'OS-EXT-SRV-ATTR:host': None,
        'OS-EXT-SRV-ATTR:hypervisor_hostname': None,
        'fault': {'code': 500, 'created': '2026-11-01T12:00:00Z',
                  'message': NO_VALID_HOST,
                  'details': 'Traceback (most recent call last):\n'
                             'nova.exception.NoValidHost: No valid host'},
        'flavor': {'vcpus': 16, 'ram': 65536, 'disk': 40, 'ephemeral': 0,
                   'swap': 0, 'original_name': 'gpu.a40x2',
                   'extra_specs': EXTRA_SPECS},
        'image': {'id': 'c2d1e0f9-0000-4000-8000-000000000001'},
        'addresses': {}, 'metadata': {}, 'tags': [],
        'created': '2026-11-01T11:59:00Z', 'tenant_id': 'p', 'user_id': 'u',
    }
    body.update(changes)
    return body


def osc_show(body, old_flavor=None):
    """What `openstack server show -f json` prints for this body."""
    compute = mock.Mock()
    if old_flavor:
        compute.find_flavor.return_value.name = old_flavor
    image = mock.Mock()
    image.get_image.return_value.name = 'ubuntu-24.04'
    with mock.patch.object(osc_server.sdk_utils, 'supports_microversion',
                           return_value=True):
        data = osc_server._prep_server_detail(
            compute, image, sdk_server.Server.existing(**body),
            refresh=False)
    columns, values = zip(*sorted(data.items()))
    out = io.StringIO()
    json_format.JSONFormatter().emit_one(columns, values, out,
                                         mock.Mock(noindent=False))
    return out.getvalue()


class TestServerShowJson(files.TempFiles, testtools.TestCase):

    def test_failed_boot(self):
        server = servers.server_from_show_json(FIXTURE)
        self.assertEqual(
            (UUID, 'train-1', None, None, None, 'error', None, 'ERROR'),
            (server.uuid, server.name, server.cell, server.host, server.node,
             server.vm_state, server.task_state, server.status))
        self.assertEqual(servers.Fault(
            500, NO_VALID_HOST,
            'Traceback (most recent call last):\n'
            'nova.exception.NoValidHost: No valid host',
            '2026-11-01T12:00:00Z'), server.fault)
        self.assertEqual(requestspec.RequestSpec(
            instance_uuid=UUID, flavor=requestspec.Flavor(
                'gpu.a40x2', None, 16, 65536, EXTRA_SPECS)),
            server.request_spec)
        self.assertIsNone(server.devices)
        self.assertEqual(2, len(server.notes))
        self.assertIn('devices unknown', server.notes[0])
        self.assertIn('request spec: only the flavor', server.notes[1])

    def test_fixture_is_what_osc_prints(self):
        with open(FIXTURE) as f:
            self.assertEqual(json.loads(osc_show(nova_body())),
                             json.load(f))

    def test_booted_server(self):
        show = osc_show(nova_body(
            status='ACTIVE', fault=None, **{
                'OS-EXT-STS:vm_state': 'active',
                'OS-EXT-SRV-ATTR:host': 'gpu-a40-01',
                'OS-EXT-SRV-ATTR:hypervisor_hostname':
                    'gpu-a40-01.example.org'}))
        server = servers.server_from_show_json(self.write('show.json', show))
        self.assertEqual(('ACTIVE', 'gpu-a40-01', 'gpu-a40-01.example.org',
                          None),
                         (server.status, server.host, server.node,
                          server.fault))

    def test_flavor_below_microversion_2_47(self):
        body = nova_body(flavor={'id': 'f-a40'})
        server = servers.server_from_show_json(
            self.write('show.json', osc_show(body, old_flavor='gpu.a40x2')))
        self.assertEqual(requestspec.Flavor('gpu.a40x2', 'f-a40', None,
                                            None, None),
                         server.request_spec.flavor)
        self.assertIn('microversion 2.47', server.notes[1])

    def assertBad(self, text, *fragments):
        path = self.write('show.json', text)
        exc = self.assertRaises(exports.ExportError,
                                servers.server_from_show_json, path)
        self.assertNotIn('\n', str(exc))
        self.assertTrue(str(exc).startswith(f'{path}: '), str(exc))
        for fragment in fragments:
            self.assertIn(fragment, str(exc))

    def test_not_server_show_output(self):
        show = '`openstack server show SERVER -f json` output'
        self.assertBad('ID  Name\n1   x\n', 'not JSON', show)
        self.assertBad('[{"ID": "x", "Status": "ERROR"}]',
                       '`server list` output?', show)
        self.assertBad('{"name": "gpu.a40", "vcpus": 8}',
                       'no "id" and "status"')
        self.assertBad('"x"', 'no "id" and "status"')

    def test_wrong_field_types(self):
        def show(**changes):
            return json.dumps(dict(json.loads(osc_show(nova_body())),
                                   **changes))

        self.assertBad(show(fault='boom'), '"fault" is not an object')
        self.assertBad(show(fault={'code': '500'}),
                       '"fault.code" is not a whole number')
        self.assertBad(show(flavor=[1]), '"flavor" is not an object')
        self.assertBad(show(flavor={'vcpus': 'x'}),
                       '"flavor.vcpus" is not a whole number')
        self.assertBad(show(flavor={'extra_specs': {'a': 1}}),
                       '"flavor.extra_specs" is not an object of strings')
        self.assertBad(show(name=5), '"name" is not a string')

    def test_unreadable_files(self):
        exc = self.assertRaises(exports.ExportError,
                                servers.server_from_show_json,
                                os.path.join(self.tmp, 'missing.json'))
        self.assertIn('No such file or directory', str(exc))
        path = os.path.join(self.tmp, 'binary')
        with open(path, 'wb') as f:
            f.write(b'\xff\xfe\x00')
        self.assertRaises(exports.ExportError,
                          servers.server_from_show_json, path)


class TestFromComputeApi(testtools.TestCase):
    """No database: the server comes from the compute API's body."""

    def setUp(self):
        super().setUp()
        from gpupassthrough_osc.sources import compute
        from openstack.compute.v2 import _proxy

        self.compute = compute
        self.proxy = mock.create_autospec(_proxy.Proxy, instance=True)
        connection = mock.Mock(compute=self.proxy)
        self.useFixture(fixtures.MockPatchObject(
            compute, 'connect', autospec=True, return_value=connection))
        with open(FIXTURE) as f:
            self.body = json.load(f)

    def test_fault_and_flavor_from_the_api_body(self):
        self.proxy.find_server.return_value = mock.Mock(id=UUID)
        self.proxy.get.return_value = fakes.response(
            200, {'server': self.body}, url=SERVER_URL)
        body = self.compute.server_show(None, {}, 'train-1')
        self.proxy.find_server.assert_called_once_with(
            'train-1', ignore_missing=False, all_projects=True)
        self.assertEqual(self.compute.SERVER_SHOW_MICROVERSION,
                         self.proxy.get.call_args.kwargs['microversion'])
        server = servers.server_from_show(body, 'compute API')
        self.assertEqual((UUID, 'ERROR', NO_VALID_HOST),
                         (server.uuid, server.status, server.fault.message))

    def test_unknown_server_is_a_one_line_error(self):
        from openstack import exceptions as sdk_exceptions

        # what openstacksdk raises for find_server(ignore_missing=False)
        self.proxy.find_server.side_effect = \
            sdk_exceptions.NotFoundException('No Server found for nope')
        exc = self.assertRaises(self.compute.ComputeApiError,
                                self.compute.server_show, None, {}, 'nope')
        self.assertIn('No Server found for nope', str(exc))

    def test_an_error_status_is_not_taken_for_a_body(self):
        self.proxy.find_server.return_value = mock.Mock(id=UUID)
        self.proxy.get.return_value = fakes.nova_fault(
            500, 'Unexpected API Error.', url=SERVER_URL)
        exc = self.assertRaises(self.compute.ComputeApiError,
                                self.compute.server_show, None, {}, UUID)
        self.assertIn('HTTP 500', str(exc))

    def test_a_cloud_without_a_compute_endpoint_is_one_line(self):
        from openstack import proxy

        # what openstacksdk gives for a cloud whose config names no
        # compute service: a generic proxy without compute calls
        self.compute.connect.return_value = mock.Mock(
            compute=mock.create_autospec(proxy.Proxy, instance=True))
        for call in (lambda: self.compute.server_show(None, {}, UUID),
                     lambda: self.compute.read_flavors(None, {})):
            exc = self.assertRaises(self.compute.ComputeApiError, call)
            self.assertIn('gives no compute endpoint', str(exc))
