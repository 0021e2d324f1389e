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

import json
import os
import socket
import threading
import uuid

from keystoneauth1 import adapter
from keystoneauth1 import session
from keystoneauth1 import token_endpoint
import testtools

from gpupassthrough_osc.pci import audit
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.sources import placement
from tests.functional import base
from tests.functional import mariadb
from tests.functional import novadata
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

    def host1(self, a40_total=1, traits=NOVA_TRAITS, rc=A40,
              report=True):
        """host1 as nova-compute reports it: an A40 PF provider.

        Each test gets its own hypervisor_hostname, the server is shared.
        """
        p = self.placement
        self.hostname = f'host1-{uuid.uuid4().hex[:6]}'
        root = p.provider(self.hostname)
        p.inventory(root, 'VCPU', 16)
        name = f'{self.hostname}_0000:21:00.0'
        if not report:
            return root, None, name
        rp = p.provider(name, parent=root)
        p.inventory(rp, rc, a40_total)
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


def a40(address='0000:21:00.0', status='available', instance=None):
    return model.Device(address, '10de', '2235', 'type-PF', status,
                        instance_uuid=instance)


class TestRules(PlacementTestCase):
    """Each rule fires on what placement really holds, and stays quiet."""

    def findings(self, root, devices, entries=None):
        tree = reader_for(self.placement.url).tree(root)
        view = model.NodeView(
            'host1', self.hostname, root, tree, devices,
            entries if entries is not None else [
                {'vendor_id': '10de', 'product_id': '2235'}])
        inventory = model.Inventory(confs=[], providers=[view])
        return [(f.code, f.subject) for f in audit.run(inventory)
                if f.code.startswith('PLACEMENT_')]

    def test_as_nova_reports_it_is_quiet(self):
        root, rp, _name = self.host1()
        self.placement.allocate(str(uuid.uuid4()), {rp: {A40: 1}})
        self.assertEqual([], self.findings(
            root, [a40(status='allocated', instance='i-1')]))

    def test_reporting_off(self):
        root, _rp, name = self.host1(report=False)
        self.assertEqual([('PLACEMENT_DEVICE_NO_PROVIDER', 'host1')],
                         self.findings(root, [a40()]))

    def test_second_device_not_reported(self):
        root, _rp, _name = self.host1()
        self.assertEqual([('PLACEMENT_DEVICE_NO_PROVIDER', 'host1')],
                         self.findings(root, [a40(),
                                              a40('0000:e1:00.0')]))

    def test_neutron_device_is_not_expected(self):
        root, _rp, _name = self.host1(report=False)
        self.assertEqual([], self.findings(root, [a40()], entries=[
            {'vendor_id': '10de', 'physical_network': 'physnet1'}]))

    def test_inventory_total_differs(self):
        root, _rp, name = self.host1(a40_total=2)
        self.assertEqual([('PLACEMENT_INVENTORY_MISMATCH', f'host1 {name}')],
                         self.findings(root, [a40()]))

    def test_removed_device_is_not_counted(self):
        root, _rp, name = self.host1()
        self.assertEqual([], self.findings(
            root, [a40(), a40(status='removed')]))

    def test_resource_class_differs_from_device_spec(self):
        root, _rp, name = self.host1()
        self.assertEqual(
            [('PLACEMENT_RESOURCE_CLASS_MISMATCH', f'host1 {name}')],
            self.findings(root, [a40()], entries=[
                {'vendor_id': '10de', 'product_id': '2235',
                 'resource_class': 'gpu_a40'}]))

    def test_custom_resource_class_as_nova_reports_it(self):
        root, _rp, name = self.host1(rc='CUSTOM_GPU_A40', traits={
            *NOVA_TRAITS, 'CUSTOM_BIG'})
        self.assertEqual([], self.findings(root, [a40()], entries=[
            {'vendor_id': '10de', 'product_id': '2235',
             'resource_class': 'gpu_a40', 'traits': 'big'}]))

    def test_owner_nova_missing(self):
        root, _rp, name = self.host1(traits={'COMPUTE_MANAGED_PCI_DEVICE'})
        self.assertEqual([('PLACEMENT_TRAITS_MISSING', f'host1 {name}')],
                         self.findings(root, [a40()]))

    def test_device_spec_trait_missing(self):
        root, _rp, name = self.host1()
        self.assertEqual([('PLACEMENT_TRAITS_MISSING', f'host1 {name}')],
                         self.findings(root, [a40()], entries=[
                             {'vendor_id': '10de', 'product_id': '2235',
                              'traits': 'big'}]))

    def test_usage_without_allocated_device(self):
        root, rp, name = self.host1()
        self.placement.allocate(str(uuid.uuid4()), {rp: {A40: 1}})
        self.assertEqual(
            [('PLACEMENT_USAGE_WITHOUT_DEVICE', f'host1 {name}')],
            self.findings(root, [a40()]))

    def test_allocated_device_without_usage(self):
        root, _rp, name = self.host1()
        self.assertEqual(
            [('PLACEMENT_DEVICE_NOT_ALLOCATED', f'host1 {name}')],
            self.findings(root, [a40(status='allocated', instance='i-1')]))

    def test_vfs_count_on_their_pf_provider(self):
        p = self.placement
        self.hostname = f'host2-{uuid.uuid4().hex[:6]}'
        root = p.provider(self.hostname)
        rp = p.provider(f'{self.hostname}_0000:81:00.0', parent=root)
        p.inventory(rp, 'CUSTOM_PCI_10DE_2236', 2)
        p.traits(rp, NOVA_TRAITS)
        vfs = [model.Device(f'0000:81:00.{i}', '10de', '2236',
                            'type-VF', 'available',
                            parent_addr='0000:81:00.0')
               for i in (4, 5)]
        self.assertEqual([], self.findings(root, vfs, entries=[
            {'vendor_id': '10de', 'product_id': '2236'}]))
        self.assertEqual(
            [('PLACEMENT_INVENTORY_MISMATCH',
              f'host1 {self.hostname}_0000:81:00.0')],
            self.findings(root, vfs[:1], entries=[
                {'vendor_id': '10de', 'product_id': '2236'}]))


NOVA_CONF = """[pci]
report_in_placement = True
device_spec = {"vendor_id": "10de", "product_id": "2235"}
alias = {"name": "a40", "vendor_id": "10de", "product_id": "2235", \
"device_type": "type-PF"}
[filter_scheduler]
pci_in_placement = True
"""


class TestAuditCommand(PlacementTestCase, base.OpenStackTestCase):
    """`openstack gpu device audit` reads placement (API or export)."""

    def files(self, root):
        tmp = self.useFixture(base.fixtures_tempdir()).path
        paths = {}
        for name, data in (
                ('nova.conf', NOVA_CONF),
                ('pci_devices.json', json.dumps([{
                    'compute_node_id': 1, 'address': '0000:21:00.0',
                    'vendor_id': '10de', 'product_id': '2235',
                    'dev_type': 'type-PF', 'status': 'available',
                    'numa_node': 0, 'deleted': 0,
                    'instance_uuid': None, 'parent_addr': None}])),
                ('flavors.json', '[]'),
                ('compute_nodes.json', json.dumps([{
                    'id': 1, 'uuid': root, 'host': 'host1',
                    'hypervisor_hostname': self.hostname, 'deleted': 0}]))):
            paths[name] = os.path.join(tmp, name)
            with open(paths[name], 'w') as f:
                f.write(data)
        return tmp, paths

    def audit(self, paths, *extra, env=None):
        return self.openstack(
            'gpu', 'device', 'audit', '--nova-conf', paths['nova.conf'],
            '--pci-devices', paths['pci_devices.json'], '--compute-nodes',
            paths['compute_nodes.json'], '--flavors',
            paths['flavors.json'], '-f', 'json', '--fail-on',
            'never', *extra, env=env)

    def codes(self, result):
        self.assertEqual(0, result.rc, result.stderr)
        return sorted((r['Code'], r['Subject']) for r in result.json()
                      if r['Code'].startswith('PLACEMENT_'))

    def token_env(self, url, token=placementserver.TOKEN):
        """A clouds.yaml whose token placement's noauth2 accepts."""
        path = os.path.join(self.useFixture(base.fixtures_tempdir()).path,
                            'clouds.yaml')
        with open(path, 'w') as f:
            json.dump({'clouds': {'p': {'auth_type': 'admin_token', 'auth': {
                'endpoint': url, 'token': token}}}}, f)
        return {'OS_CLIENT_CONFIG_FILE': path, 'OS_CLOUD': 'p'}

    def test_live_placement_missing_owner_nova(self):
        root, _rp, name = self.host1(traits={'COMPUTE_MANAGED_PCI_DEVICE'})
        _tmp, paths = self.files(root)
        self.assertEqual(
            [('PLACEMENT_TRAITS_MISSING', f'host1 {name}')],
            self.codes(self.audit(paths,
                                  env=self.token_env(self.placement.url))))

    def test_live_placement_unreachable_is_a_note(self):
        root, _rp, _name = self.host1()
        _tmp, paths = self.files(root)
        url = f'http://127.0.0.1:{mariadb._free_port()}'
        result = self.audit(paths, env=self.token_env(url))
        self.assertEqual([], self.codes(result))
        notes = [r['Message'] for r in result.json() if r['Code'] == 'NOTE']
        self.assertTrue(any('placement checks skipped: placement API' in n and
                            'unreachable' in n and url in n
                            for n in notes), notes)

    def test_live_placement_403_is_one_line_error(self):
        root, _rp, _name = self.host1()
        _tmp, paths = self.files(root)
        env = self.token_env(self.placement.url, 'nobody')
        self.assertCleanError(self.audit(paths, env=env), 'HTTP 403')

    def test_export_reporting_off(self):
        root, _rp, _name = self.host1(report=False)
        tmp, paths = self.files(root)
        export = os.path.join(tmp, 'placement.json')
        reader = reader_for(self.placement.url)
        with open(export, 'w') as f:
            json.dump({root: {'providers': reader.get(
                f'/resource_providers?in_tree={root}')[
                    'resource_providers']}}, f)
        self.assertEqual(
            [('PLACEMENT_DEVICE_NO_PROVIDER', 'host1')],
            self.codes(self.audit(paths, '--placement-providers', export)))

    def test_without_credentials_or_export_a_note(self):
        root, _rp, _name = self.host1()
        _tmp, paths = self.files(root)
        result = self.audit(paths)
        self.assertEqual([], self.codes(result))
        self.assertTrue(any('--placement-providers' in r['Message']
                            for r in result.json() if r['Code'] == 'NOTE'))

    def test_cell_database_and_live_placement(self):
        """Node uuids and devices from a cell DB (SELECT grants only)."""
        cell = novadata.Cell(mariadb.server())
        host = f'db-{uuid.uuid4().hex[:6]}'
        node_id = cell.add_node(host)
        with mariadb.server().root(cell.database) as cur:
            cur.execute('SELECT uuid, hypervisor_hostname FROM '
                        'compute_nodes WHERE id = %s', (node_id,))
            root, hostname = cur.fetchone()
        instance = cell.add_instance(host)
        cell.add_device(node_id, '0000:21:00.0', '10de', '2235', 'type-PF',
                        status='allocated', instance_uuid=instance)
        cell.add_device(node_id, '0000:e1:00.0', '10de', '2235', 'type-PF')
        p = self.placement
        p.provider(hostname, rp_uuid=root)
        rp = p.provider(f'{hostname}_0000:21:00.0', parent=root)
        p.inventory(rp, A40, 1)
        p.traits(rp, NOVA_TRAITS)
        self.hostname = hostname
        _tmp, paths = self.files(root)
        reader_url = cell.url(user='reader',
                              password=mariadb.READER_PASSWORD)
        result = self.openstack(
            'gpu', 'device', 'audit', '--nova-conf', paths['nova.conf'],
            '--db-connection', reader_url, '--flavors',
            paths['flavors.json'], '-f', 'json', '--fail-on', 'never',
            env=self.token_env(p.url))
        fix, = [r['Fix'] for r in result.json()
                if r['Code'] == 'PLACEMENT_DEVICE_NOT_ALLOCATED']
        self.assertIn(f'{instance} has no allocation on this host', fix)
        self.assertIn(f'heal_allocations --instance {instance}', fix)
        self.assertEqual(
            [('PLACEMENT_DEVICE_NOT_ALLOCATED',
              f'{host} {hostname}_0000:21:00.0'),
             ('PLACEMENT_DEVICE_NO_PROVIDER', host)],
            self.codes(result))
