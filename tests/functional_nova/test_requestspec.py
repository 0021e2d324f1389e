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

"""Our request spec parser against nova's own writer and reader.

nova 34 builds each RequestSpec as its compute API does and serialises it
as ``RequestSpec.create()`` stores it (tests/functional_nova/requestspecs.py);
nova's reader (``RequestSpec._from_db_object``, which the conductor and
scheduler use) and ours must then see the same flavor, image properties,
NUMA cells, PCI requests and forced hosts, on seeded random boots.
"""

import dataclasses
import os
import random

from oslo_serialization import jsonutils
import testtools

from gpupassthrough_osc.pci import requestspec
from tests.functional_nova import requestspecs

CASES = 300
FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures',
                        'request_specs')
# the ways an operator defines gpuA40; nvme155 is always defined
A40_ALIASES = [requestspecs.A40, requestspecs.A40_PF_REQUIRED,
               '{"name": "gpuA40", "vendor_id": "10de", "product_id": '
               '"2235", "numa_policy": "preferred"}']


def nova_read(blob, uuid):
    """The RequestSpec nova loads from the request_specs row."""
    n = requestspecs.nova()
    ctxt = n['context'].RequestContext(user_id='u', project_id='p')
    return n['objects'].RequestSpec._from_db_object(
        ctxt, n['objects'].RequestSpec(),
        {'id': 1, 'instance_uuid': uuid, 'spec': blob})


def nova_view(spec):
    """What our parser must report, taken from nova's object."""
    def opt(obj, field):
        return getattr(obj, field) if obj.obj_attr_is_set(field) else None

    def strings(values):
        return None if values is None else tuple(values)

    flavor = spec.flavor
    props = spec.image.properties
    numa = opt(spec, 'numa_topology')
    pci = opt(spec, 'pci_requests')
    retry = opt(spec, 'retry')
    destination = opt(spec, 'requested_destination')
    return {
        'instance_uuid': spec.instance_uuid,
        'flavor': (flavor.name, flavor.flavorid, flavor.vcpus,
                   flavor.memory_mb, dict(flavor.extra_specs)),
        'image': tuple(props.get(k) for k in (
            'hw_numa_nodes', 'hw_cpu_policy', 'hw_mem_page_size',
            'hw_pci_numa_affinity_policy')),
        'numa_cells': None if numa is None else [
            (c.id, set(c.cpuset), set(c.pcpuset), c.memory, c.cpu_policy,
             c.pagesize) for c in numa.cells],
        'pci_requests': None if pci is None else [
            (r.count, [dict(s) for s in r.spec], r.alias_name,
             r.numa_policy, r.request_id, r.requester_id)
            for r in pci.requests],
        'force_hosts': strings(opt(spec, 'force_hosts')),
        'force_nodes': strings(opt(spec, 'force_nodes')),
        'ignore_hosts': strings(opt(spec, 'ignore_hosts')),
        'retry': None if retry is None else (
            retry.num_attempts,
            [(h.host, h.hypervisor_hostname) for h in retry.hosts]),
        'destination': None if destination is None else (
            destination.host, destination.node),
        'availability_zone': opt(spec, 'availability_zone'),
    }


def our_view(spec):
    flavor = spec.flavor
    image = spec.image
    retry = spec.retry
    destination = spec.requested_destination
    return {
        'instance_uuid': spec.instance_uuid,
        'flavor': (flavor.name, flavor.flavorid, flavor.vcpus,
                   flavor.memory_mb, flavor.extra_specs),
        'image': (image.hw_numa_nodes, image.hw_cpu_policy,
                  image.hw_mem_page_size, image.hw_pci_numa_affinity_policy),
        'numa_cells': None if spec.numa_cells is None else [
            (c.id, set(c.cpuset), set(c.pcpuset), c.memory, c.cpu_policy,
             c.pagesize) for c in spec.numa_cells],
        'pci_requests': None if spec.pci_requests is None else [
            (r.count, list(r.spec), r.alias_name, r.numa_policy,
             r.request_id, r.requester_id) for r in spec.pci_requests],
        'force_hosts': spec.force_hosts,
        'force_nodes': spec.force_nodes,
        'ignore_hosts': spec.ignore_hosts,
        'retry': None if retry is None else (retry.num_attempts,
                                             list(retry.hosts)),
        'destination': None if destination is None else (
            destination.host, destination.node),
        'availability_zone': spec.availability_zone,
    }


def random_boot(rng, index):
    specs = {}
    names = rng.sample(['gpuA40', 'nvme155'], rng.randint(0, 2))
    if names:
        specs['pci_passthrough:alias'] = ','.join(
            f'{n}:{rng.randint(1, 3)}' for n in names)
    for key, values in (
            ('hw:cpu_policy', ['dedicated', 'shared', 'mixed']),
            ('hw:numa_nodes', ['1', '2']),
            ('hw:mem_page_size', ['small', 'large', 'any', '2048']),
            ('hw:pci_numa_affinity_policy',
             ['legacy', 'preferred', 'required', 'socket'])):
        if rng.random() < 0.4:
            specs[key] = rng.choice(values)
    if specs.get('hw:cpu_policy') == 'mixed':
        specs['hw:cpu_dedicated_mask'] = '^0'
    image = {}
    for key, values in (
            ('hw_numa_nodes', [1, 2]),
            ('hw_mem_page_size', ['small', 'large']),
            ('hw_pci_numa_affinity_policy', ['preferred', 'required']),
            ('hw_cpu_policy', ['dedicated', 'shared'])):
        if rng.random() < 0.2:
            image[key] = rng.choice(values)
    forced = rng.random() < 0.2
    return dict(uuid=f'00000000-0000-4000-8000-{index:012d}',
                aliases=[rng.choice(A40_ALIASES), requestspecs.NVME],
                extra_specs=specs, vcpus=rng.choice([4, 8]),
                ram=rng.choice([4096, 8192]), image=image,
                forced_host='h1' if forced else None,
                forced_node='h1.node' if forced and rng.random() < 0.5
                else None,
                availability_zone=rng.choice([None, 'nova', 'gpu']),
                name=f'flavor-{index}', flavorid=f'id-{index}')


class TestAgainstNova(testtools.TestCase):

    def assertSame(self, blob, nova_spec, case):
        ours = requestspec.parse(blob, case)
        self.assertEqual(nova_view(nova_spec), our_view(ours), case)

    def test_random_boots(self):
        rng = random.Random(10)
        from nova import exception
        checked = pci = numa = 0
        for index in range(CASES):
            boot = random_boot(rng, index)
            try:
                spec = requestspecs.build(**boot)
            except exception.NovaException:
                continue  # nova refuses this boot at the API
            blob = requestspecs.stored(spec)
            self.assertSame(blob, nova_read(blob, boot['uuid']), str(boot))
            checked += 1
            pci += bool(spec.pci_requests.requests)
            numa += spec.numa_topology is not None
        # enough of each kind to mean something
        self.assertGreater(checked, CASES // 2)
        self.assertGreater(pci, 50)
        self.assertGreater(numa, 50)

    def test_retry_and_destination_as_the_conductor_sends_them(self):
        spec = requestspecs.build(**requestspecs.CASES['a40-pf-pair'])
        blob = requestspecs.with_retry(spec, 2, ['h1', 'h2'], 'h3')
        nova_spec = requestspecs.nova()['objects'].RequestSpec \
            .obj_from_primitive(jsonutils.loads(blob))
        self.assertSame(blob, nova_spec, 'retry')
        # and nova never stores them
        stored = requestspec.parse(requestspecs.stored(nova_spec), 'x')
        self.assertIsNone(stored.retry)
        self.assertIsNone(stored.requested_destination)
        self.assertIsNone(stored.ignore_hosts)

    def test_legacy_numa_cell_read_as_nova_migrates_it(self):
        n = requestspecs.nova()
        spec = requestspecs.build(**requestspecs.CASES['dedicated-two-numa'])
        blob = requestspecs.legacy_numa(spec)
        nova_spec = n['objects'].RequestSpec.obj_from_primitive(
            jsonutils.loads(blob))
        self.assertEqual('1.4', nova_spec.numa_topology.cells[0].VERSION)
        self.assertTrue(n['objects'].InstanceNUMATopology
                        ._migrate_legacy_dedicated_instance_cpuset(
                            nova_spec.numa_topology))
        self.assertSame(blob, nova_spec, 'legacy')

    def test_committed_fixtures_are_what_nova_writes(self):
        def without_request_ids(spec):
            # nova draws a fresh request_id for each boot
            return dataclasses.replace(spec, pci_requests=tuple(
                dataclasses.replace(r, request_id=None)
                for r in spec.pci_requests or ()))

        fresh = requestspecs.fixtures()
        committed = sorted(f[:-5] for f in os.listdir(FIXTURES))
        self.assertEqual(sorted(fresh), committed)
        for name, blob in fresh.items():
            with open(os.path.join(FIXTURES, f'{name}.json')) as f:
                ours = requestspec.parse(f.read(), name)
            self.assertEqual(
                without_request_ids(requestspec.parse(blob, name)),
                without_request_ids(ours), name)
