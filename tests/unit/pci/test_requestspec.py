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

"""The request spec parser on blobs nova 34 wrote.

tests/fixtures/request_specs/*.json are ``request_specs.spec`` values made
by nova's own code (tests/functional_nova/requestspecs.py, checked against
nova's reader in tests/functional_nova/test_requestspec.py).
"""

import json
import os

import testtools

from gpupassthrough_osc.pci import requestspec
from tests import paths

SPECS = paths.fixture('request_specs')
UUID = '6f0c6ad4-0a40-4a40-8a40-00000000000'


def blob(name):
    with open(os.path.join(SPECS, f'{name}.json')) as f:
        return f.read()


def parse(name):
    return requestspec.parse(blob(name), 'i-1')


class TestNovaBlobs(testtools.TestCase):

    def test_pf_pair_with_required_numa_policy(self):
        spec = parse('a40-pf-pair')
        self.assertEqual(UUID + '1', spec.instance_uuid)
        self.assertEqual(requestspec.Flavor(
            'gpu.flavor', 'f-1', 8, 32768,
            {'pci_passthrough:alias': 'gpuA40:2'}), spec.flavor)
        self.assertIsNone(spec.numa_cells)
        self.assertEqual(1, len(spec.pci_requests))
        request = spec.pci_requests[0]
        self.assertEqual(2, request.count)
        self.assertEqual(({'vendor_id': '10de', 'product_id': '2235',
                           'dev_type': 'type-PF'},), request.spec)
        self.assertEqual('gpuA40', request.alias_name)
        self.assertEqual('required', request.numa_policy)
        self.assertEqual(36, len(request.request_id))
        self.assertEqual(requestspec.ImageProperties(), spec.image)
        # nova blanks the per-request fields before storing
        for field in ('force_hosts', 'force_nodes', 'ignore_hosts', 'retry',
                      'requested_destination', 'availability_zone'):
            self.assertIsNone(getattr(spec, field), field)

    def test_dedicated_two_numa_nodes(self):
        spec = parse('dedicated-two-numa')
        self.assertEqual(
            [(0, frozenset(), frozenset(range(8)), 32768, 'dedicated'),
             (1, frozenset(), frozenset(range(8, 16)), 32768, 'dedicated')],
            [(c.id, c.cpuset, c.pcpuset, c.memory, c.cpu_policy)
             for c in spec.numa_cells])
        self.assertEqual('socket', spec.pci_requests[0].numa_policy)
        self.assertEqual('2', spec.flavor.extra_specs['hw:numa_nodes'])

    def test_legacy_cell_pinned_cpus_move_to_pcpuset(self):
        # InstanceNUMACell 1.4 kept pinned CPUs in cpuset; read as nova
        # reads it, the same as the current blob of the same boot
        self.assertEqual(parse('dedicated-two-numa').numa_cells,
                         parse('legacy-numa-cell-1.4').numa_cells)

    def test_mixed_policy_hugepages_and_image_properties(self):
        spec = parse('mixed-hugepages-image')
        self.assertEqual(requestspec.ImageProperties(
            hw_numa_nodes=1, hw_mem_page_size='large',
            hw_pci_numa_affinity_policy='preferred'), spec.image)
        (cell,) = spec.numa_cells
        self.assertEqual((frozenset({0, 1}), frozenset(range(2, 8)), 'mixed',
                          -2), (cell.cpuset, cell.pcpuset, cell.cpu_policy,
                                cell.pagesize))
        self.assertEqual([('gpuA40', 1, 'preferred'),
                          ('nvme155', 1, 'preferred')],
                         [(r.alias_name, r.count, r.numa_policy)
                          for r in spec.pci_requests])

    def test_asymmetric_cells(self):
        spec = parse('asymmetric-numa')
        self.assertEqual([(frozenset({0}), 1024),
                          (frozenset(range(1, 6)), 5120)],
                         [(c.cpuset, c.memory) for c in spec.numa_cells])
        self.assertEqual('legacy', spec.pci_requests[0].numa_policy)

    def test_forced_host_and_no_pci_request(self):
        spec = parse('forced-host-no-pci')
        self.assertEqual(('gpu-a40-01',), spec.force_hosts)
        self.assertEqual(('gpu-a40-01.example.org',), spec.force_nodes)
        self.assertEqual('nova', spec.availability_zone)
        self.assertEqual((), spec.pci_requests)

    def test_retry_and_destination_when_present(self):
        spec = parse('rpc-retry-destination')
        self.assertEqual(requestspec.Retry(3, (
            ('gpu-a40-01', 'gpu-a40-01.node'),
            ('gpu-a40-02', 'gpu-a40-02.node'))), spec.retry)
        self.assertEqual(('gpu-a40-01', 'gpu-a40-02'), spec.ignore_hosts)
        self.assertEqual(requestspec.Destination('gpu-a40-03',
                                                 'gpu-a40-03.node'),
                         spec.requested_destination)

    def test_summary_is_json(self):
        text = json.dumps(requestspec.summary(parse('dedicated-two-numa')))
        self.assertIn('"pcpuset": [0, 1, 2, 3, 4, 5, 6, 7]', text)


def envelope(name, data, version='1.0'):
    return {'nova_object.name': name, 'nova_object.namespace': 'nova',
            'nova_object.version': version, 'nova_object.data': data}


class TestMissingAndBad(testtools.TestCase):

    def test_missing_envelope_keys_read_as_none(self):
        spec = requestspec.from_primitive(envelope('RequestSpec', {
            'flavor': {'nova_object.name': 'Flavor'},
            'image': envelope('ImageMeta', {}),
            'numa_topology': envelope('InstanceNUMATopology', {
                'cells': [{'nova_object.name': 'InstanceNUMACell'}]}),
            'pci_requests': envelope('InstancePCIRequests', {
                'requests': [envelope('InstancePCIRequest', {'count': 1})]}),
            'retry': envelope('SchedulerRetries', {'num_attempts': 2})}),
            'i-1')
        self.assertIsNone(spec.flavor)
        self.assertEqual(requestspec.ImageProperties(), spec.image)
        self.assertEqual((requestspec.NUMACell(None, None, None, None, None,
                                               None),), spec.numa_cells)
        self.assertEqual(1, spec.pci_requests[0].count)
        self.assertIsNone(spec.pci_requests[0].spec)
        self.assertEqual(requestspec.Retry(2, None), spec.retry)
        self.assertIsNone(spec.instance_uuid)

    def test_empty_spec_data(self):
        self.assertEqual(requestspec.RequestSpec(), requestspec.parse(
            json.dumps(envelope('RequestSpec', {})), 'i-1'))

    def assertBad(self, text, *fragments):
        exc = self.assertRaises(requestspec.RequestSpecError,
                                requestspec.parse, text, 'inst-9')
        message = str(exc)
        self.assertNotIn('\n', message)
        self.assertIn('request spec of instance inst-9: ', message)
        for fragment in fragments:
            self.assertIn(fragment, message)

    def test_not_nova_format(self):
        self.assertBad('{"flavor": "x"}', 'nova_object.data missing')
        self.assertBad('[1, 2]', 'not a nova object')
        self.assertBad('not json {', 'not JSON')
        self.assertBad(b'\xff\xfe', 'not JSON')
        self.assertBad(json.dumps(envelope('Instance', {})),
                       'Instance object where RequestSpec expected')
        self.assertBad(json.dumps(envelope('RequestSpec', None)),
                       'nova_object.data is null')
        self.assertBad(json.dumps(envelope('RequestSpec', [])),
                       'nova_object.data is a list')

    def test_wrong_types_name_the_field(self):
        def spec(**data):
            return json.dumps(envelope('RequestSpec', data))

        self.assertBad(spec(flavor='gpu.a40'), 'flavor: not a nova object')
        self.assertBad(spec(flavor=envelope('Flavor', {'vcpus': '8'})),
                       "flavor.vcpus: '8' is not int")
        self.assertBad(spec(flavor=envelope('Flavor', {'vcpus': True})),
                       'flavor.vcpus: True is not int')
        self.assertBad(spec(force_hosts='h1'),
                       "RequestSpec.force_hosts: 'h1' is not list")
        self.assertBad(spec(force_hosts=[1]),
                       'RequestSpec.force_hosts: item 1 is not str')
        self.assertBad(spec(pci_requests=envelope('InstancePCIRequests', {
            'requests': [envelope('InstancePCIRequest', {'spec': ['x']})]})),
            "pci_requests.requests[0].spec: item 'x' is not dict")
        self.assertBad(spec(numa_topology=envelope('InstanceNUMATopology', {
            'cells': [envelope('InstanceNUMACell', {'cpuset': [0, 'a']})]})),
            "numa_topology.cells[0].cpuset: item 'a' is not int")
        self.assertBad(spec(pci_requests=envelope('Flavor', {})),
                       'pci_requests: Flavor object where '
                       'InstancePCIRequests expected')
