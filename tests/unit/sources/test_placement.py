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

"""The placement adapter with autospecced keystoneauth fakes."""

import json
import os
import tempfile
from unittest import mock

from keystoneauth1 import adapter
from keystoneauth1 import exceptions as ksa
import requests
import testtools

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.sources import placement

URL = 'http://placement.example:8778'


def _response(status, body=None, reason=''):
    response = mock.create_autospec(requests.Response, instance=True)
    response.status_code = status
    response.reason = reason
    response.url = URL + '/resource_providers'
    if body is None:
        response.json.side_effect = ValueError('no json')
    else:
        response.json.return_value = body
    return response


def _reader(**get):
    fake = mock.create_autospec(adapter.Adapter, instance=True)
    fake.get_endpoint.return_value = URL
    fake.get.configure_mock(**get)
    return placement.Reader(fake, timeout=7), fake


class TestReaderErrors(testtools.TestCase):

    def _error(self, cls, **get):
        reader, _ = _reader(**get)
        exc = self.assertRaises(cls, reader.get, '/resource_providers')
        self.assertIsInstance(exc, exceptions.SourceError)
        self.assertNotIn('\n', str(exc))
        return str(exc)

    def test_sends_microversion_and_timeout(self):
        reader, fake = _reader(return_value=_response(200, {'a': 1}))
        self.assertEqual({'a': 1}, reader.get('/x'))
        fake.get.assert_called_once_with(
            '/x', headers={'OpenStack-API-Version': 'placement 1.36',
                           'Accept': 'application/json'},
            timeout=7, raise_exc=False)

    def test_connect_failure(self):
        text = self._error(placement.PlacementApiError, side_effect=(
            ksa.ConnectFailure('Unable to establish connection to '
                               f'{URL}:\nrefused')))
        self.assertTrue(text.startswith(
            f'placement API {URL}/resource_providers: unreachable: '), text)

    def test_timeout(self):
        text = self._error(placement.PlacementApiError,
                           side_effect=ksa.ConnectTimeout('timed out'))
        self.assertIn('unreachable: timed out', text)

    def test_keystone_refuses(self):
        text = self._error(placement.PlacementAuthError,
                           side_effect=ksa.Unauthorized('The request you '
                                                        'have made requires '
                                                        'authentication.'))
        self.assertIn('authentication failed', text)

    def test_no_endpoint(self):
        text = self._error(placement.PlacementApiError,
                           side_effect=ksa.EndpointNotFound('no placement'))
        self.assertIn('no placement endpoint', text)

    def test_http_statuses(self):
        for status, cls in ((401, placement.PlacementAuthError),
                            (403, placement.PlacementAuthError),
                            (500, placement.PlacementApiError),
                            (503, placement.PlacementApiError)):
            body = {'errors': [{'status': status, 'title': 'T',
                                'detail': 'line one\nline two'}]}
            text = self._error(cls, return_value=_response(status, body,
                                                           'Why'))
            self.assertEqual(f'placement API GET {URL}/resource_providers: '
                             f'HTTP {status} Why: line one line two', text)

    def test_not_json(self):
        text = self._error(placement.PlacementApiError,
                           return_value=_response(200))
        self.assertIn('not JSON', text)

    def test_tree(self):
        root, rp = 'r-uuid', 'c-uuid'
        bodies = {
            f'/resource_providers?in_tree={root}': {'resource_providers': [
                {'uuid': root, 'name': 'host1', 'parent_provider_uuid': None,
                 'root_provider_uuid': root},
                {'uuid': rp, 'name': 'host1_0000:21:00.0',
                 'parent_provider_uuid': root, 'root_provider_uuid': root}]},
            f'/resource_providers/{root}/inventories': {'inventories': {}},
            f'/resource_providers/{root}/traits': {'traits': []},
            f'/resource_providers/{root}/usages': {'usages': {}},
            f'/resource_providers/{rp}/inventories': {'inventories': {
                'CUSTOM_X': {'total': 1, 'reserved': 0}}},
            f'/resource_providers/{rp}/traits': {'traits': ['OWNER_NOVA']},
            f'/resource_providers/{rp}/usages': {'usages': {'CUSTOM_X': 1}},
        }
        reader, _ = _reader(side_effect=lambda path, **kw: _response(
            200, bodies[path]))
        _root, child = reader.tree(root)
        self.assertEqual('host1_0000:21:00.0', child.name)
        self.assertEqual(root, child.parent_uuid)
        self.assertEqual({'CUSTOM_X': {'total': 1, 'reserved': 0}},
                         child.inventories)
        self.assertEqual(frozenset({'OWNER_NOVA'}), child.traits)
        self.assertEqual({'CUSTOM_X': 1}, child.usages)


class TestExport(testtools.TestCase):

    def _write(self, data):
        fd, path = tempfile.mkstemp(suffix='.json')
        with os.fdopen(fd, 'w') as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
        self.addCleanup(os.unlink, path)
        return path

    def test_osc_placement_shapes(self):
        path = self._write({'root': {
            'providers': [{'uuid': 'root', 'name': 'host1', 'generation': 3,
                           'root_provider_uuid': 'root',
                           'parent_provider_uuid': None},
                          {'uuid': 'rp', 'name': 'host1_0000:21:00.0',
                           'generation': 2, 'root_provider_uuid': 'root',
                           'parent_provider_uuid': 'root'}],
            'inventories': {'rp': [{'resource_class': 'CUSTOM_X',
                                    'allocation_ratio': 1.0, 'min_unit': 1,
                                    'max_unit': 1, 'reserved': 0,
                                    'step_size': 1, 'total': 1}]},
            'traits': {'rp': [{'name': 'OWNER_NOVA'}]},
            'usages': {'rp': [{'resource_class': 'CUSTOM_X', 'usage': 1}]},
        }})
        trees = placement.read_export(path)
        _root, child = trees['root']
        self.assertEqual('root', child.parent_uuid)
        self.assertEqual(1, child.inventories['CUSTOM_X']['total'])
        self.assertEqual(frozenset({'OWNER_NOVA'}), child.traits)
        self.assertEqual({'CUSTOM_X': 1}, child.usages)
        self.assertEqual({}, trees['root'][0].usages)

    def test_traits_and_usages_optional(self):
        path = self._write({'root': {'providers': [
            {'uuid': 'rp', 'name': 'n'}]}})
        child, = placement.read_export(path)['root']
        self.assertIsNone(child.traits)
        self.assertIsNone(child.usages)
        self.assertEqual({}, child.inventories)

    def test_bad_files(self):
        for data, fragment in (('{', 'not JSON'), ([], 'expected an object'),
                               ({'r': {}}, 'expected {"providers"'),
                               ({'r': {'providers': [{}]}}, 'without uuid')):
            exc = self.assertRaises(placement.PlacementExportError,
                                    placement.read_export, self._write(data))
            self.assertIn(fragment, str(exc))
        exc = self.assertRaises(placement.PlacementExportError,
                                placement.read_export, '/nonexistent.json')
        self.assertIn('/nonexistent.json: cannot read', str(exc))


class TestConnect(testtools.TestCase):
    """The proxy discovers placement when created; keystone may refuse."""

    def _connect(self, error):
        connection = mock.MagicMock()
        type(connection).placement = mock.PropertyMock(side_effect=error)
        with mock.patch('gpupassthrough_osc.sources.compute.connect',
                        autospec=True, return_value=connection):
            return placement.connect(mock.sentinel.options, {})

    def test_discovery_failure_is_unreachable(self):
        exc = self.assertRaises(
            placement.PlacementApiError, self._connect,
            ksa.DiscoveryFailure(f'Unable to find a version discovery '
                                 f'document at {URL}'))
        self.assertIn(f'unreachable or not in the catalog: Unable to find '
                      f'a version discovery document at {URL}', str(exc))

    def test_keystone_refuses(self):
        exc = self.assertRaises(placement.PlacementAuthError, self._connect,
                                ksa.Unauthorized('bad password'))
        self.assertIn('cannot use the cloud credentials: bad password',
                      str(exc))
