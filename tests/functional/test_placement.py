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

"""The placement reader and rules against a real placement service.

openstack-placement 16.0.0 (tests/functional/placementserver.py) holds
what nova-compute reports for a scenario; the reader reads it back and
the rules compare it with pci_devices rows.
"""

import socket
import threading
import uuid

from keystoneauth1 import adapter
from keystoneauth1 import session
from keystoneauth1 import token_endpoint
import testtools

from gpupassthrough_osc.sources import placement
from tests.functional import mariadb
from tests.functional import placementserver

A40 = 'CUSTOM_PCI_10DE_2235'
NOVA_TRAITS = {'COMPUTE_MANAGED_PCI_DEVICE', 'OWNER_NOVA'}


def reader_for(url, token=placementserver.TOKEN, timeout=10):
    # no token at all: what placement answers 401 to
    auth = token_endpoint.Token(url, token) if token else None
    return placement.Reader(adapter.Adapter(
        session.Session(auth=auth), endpoint_override=url,
        service_type='placement'), timeout=timeout)


class PlacementTestCase(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.placement = placementserver.Placement()

    @classmethod
    def tearDownClass(cls):
        cls.placement.stop()
        super().tearDownClass()

    def host1(self, a40_total=1, traits=NOVA_TRAITS):
        """host1 as nova-compute reports it: an A40 PF provider."""
        p = self.placement
        root = p.provider(f'host1-{uuid.uuid4().hex[:6]}')
        name = f'host1_0000:21:00.0-{root[:8]}'
        rp = p.provider(name, parent=root)
        p.inventory(root, 'VCPU', 16)
        p.inventory(rp, A40, a40_total)
        p.traits(rp, traits)
        return root, rp, name


class TestReader(PlacementTestCase):

    def test_reads_the_tree_with_inventory_traits_usages(self):
        root, rp, name = self.host1()
        consumer = str(uuid.uuid4())
        self.placement.allocate(consumer, {rp: {A40: 1}, root: {'VCPU': 4}})
        reader = reader_for(self.placement.url)
        tree = {p.uuid: p for p in reader.tree(root)}
        self.assertEqual({root, rp}, set(tree))
        child = tree[rp]
        self.assertEqual(name, child.name)
        self.assertEqual(root, child.parent_uuid)
        self.assertEqual(root, child.root_uuid)
        self.assertEqual(1, child.inventories[A40]['total'])
        self.assertEqual(0, child.inventories[A40]['reserved'])
        self.assertEqual(NOVA_TRAITS, set(child.traits))
        self.assertEqual({A40: 1}, child.usages)
        self.assertEqual({'VCPU': 4}, tree[root].usages)
        self.assertEqual({rp: {A40: 1}, root: {'VCPU': 4}},
                         reader.allocations(consumer))
        self.assertEqual({}, reader.allocations(str(uuid.uuid4())))

    def test_unknown_root_is_an_empty_tree(self):
        self.assertEqual([], reader_for(self.placement.url).tree(
            str(uuid.uuid4())))

    def test_401_without_a_token_names_url_and_status(self):
        exc = self.assertRaises(placement.PlacementAuthError,
                                reader_for(self.placement.url, None).tree,
                                str(uuid.uuid4()))
        text = str(exc)
        self.assertIn(f'{self.placement.url}/resource_providers?in_tree=',
                      text)
        self.assertIn('HTTP 401', text)
        self.assertNotIn('\n', text)

    def test_403_for_a_non_admin_token(self):
        exc = self.assertRaises(
            placement.PlacementAuthError,
            reader_for(self.placement.url, 'someone:proj').tree,
            str(uuid.uuid4()))
        self.assertIn('HTTP 403', str(exc))

    def test_500_from_a_broken_server(self):
        with socket.socket() as server:
            server.bind(('127.0.0.1', 0))
            server.listen(4)
            port = server.getsockname()[1]

            def answer():
                conn, _ = server.accept()
                with conn:
                    conn.recv(65536)
                    conn.sendall(b'HTTP/1.1 500 Internal Server Error\r\n'
                                 b'Content-Type: text/plain\r\n'
                                 b'Content-Length: 4\r\nConnection: close'
                                 b'\r\n\r\nboom')
            thread = threading.Thread(target=answer, daemon=True)
            thread.start()
            url = f'http://127.0.0.1:{port}'
            exc = self.assertRaises(placement.PlacementApiError,
                                    reader_for(url).get,
                                    '/resource_providers')
            thread.join(10)
        self.assertEqual(f'placement API GET {url}/resource_providers: '
                         f'HTTP 500 Internal Server Error', str(exc))

    def test_closed_port_is_unreachable(self):
        url = f'http://127.0.0.1:{mariadb._free_port()}'
        exc = self.assertRaises(placement.PlacementApiError,
                                reader_for(url).get, '/resource_providers')
        self.assertIn(f'placement API {url}/resource_providers: '
                      f'unreachable:', str(exc))
        self.assertNotIn('\n', str(exc))
