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

"""pci.numa against nova's own NUMA code, on generated hosts and flavors.

Each case is a host NUMA topology (1-2 cells: CPUs, dedicated CPUs,
pinned CPUs, siblings, memory, page sizes, sockets including null), the
host's PCI pools (on a node, on none, on -1), a flavor (shared, dedicated
or mixed CPUs, 1-2 nodes, page sizes, thread policies, manual cells) and
PCI requests with every policy. Nova serialises the host as
``compute_nodes.numa_topology`` and we parse that text; nova's
``numa_get_constraints`` and ours build the guest; then
``hardware.numa_fit_instance_to_host(..., pci_requests, pci_stats)`` and
``numa.fit_instance_to_host`` must pick the same host cells, or both none.

Fixed seeds always run, plus one random seed (``$GPU_TEST_SEED`` to
replay), printed in every failure message.
"""

from unittest import mock

import testtools

from gpupassthrough_osc.pci import numa
from tests.functional_nova import seeds
from tests.functional_nova import test_agreement

CASES = 400
SEEDS = (11, 12, 13)
SPEC = {'vendor_id': '10de', 'product_id': '1df6'}


def host_cell(rng, cell_id, first_cpu, roomy=False):
    """One NUMACell as the libvirt driver could report it, with usage.

    A ``roomy`` cell has many CPUs and much memory: without such hosts
    too few guests fit to test the "fits" side.
    """
    n = 12 if roomy else rng.choice([2, 4, 8, 8, 8, 12])
    cpus = list(range(first_cpu, first_cpu + n))
    layout = rng.choice(['legacy'] * 5 + ['split', 'split',
                                          'shared-only'])
    if layout == 'legacy':          # vcpu_pin_set: cpuset == pcpuset
        cpuset, pcpuset = set(cpus), set(cpus)
    elif layout == 'split':         # cpu_shared_set + cpu_dedicated_set
        cut = rng.randint(1, n - 1)
        cpuset, pcpuset = set(cpus[:cut]), set(cpus[cut:])
    else:
        cpuset, pcpuset = set(cpus), set()
    smt = rng.random() < 0.4
    siblings = ([{c, c + 1} for c in cpus[::2]] if smt
                else [{c} for c in cpus])
    pinned = set(rng.sample(sorted(pcpuset),
                            rng.randint(0, len(pcpuset)))) \
        if rng.random() < 0.25 and not roomy else set()
    memory = 16384 if roomy else rng.choice([2048, 4096, 8192, 16384])
    pages = []
    if rng.random() < 0.8:
        pages.append((4, memory * 256, rng.choice([0, 0, 0, memory * 128])))
        if rng.random() < 0.4:
            pages.append((2048, rng.choice([0, 1024, 2048, 4096]),
                          rng.choice([0, 0, 256])))
        if rng.random() < 0.3:
            # 1G pages on some cells only: nova keeps the size it picked
            # for a guest cell on one host cell when it tries the next
            pages.append((1048576, rng.choice([1, 2, 4]), 0))
    return dict(
        id=cell_id, cpuset=cpuset, pcpuset=pcpuset, memory=memory,
        memory_usage=rng.choice([0] * 4 + [memory // 2, memory]),
        cpu_usage=rng.choice([0, 0, len(cpuset)]), pinned_cpus=pinned,
        siblings=siblings, mempages=pages)


def random_host(rng, roomy):
    # one socket, two, or null where libvirt cannot tell (a cell spanning
    # sockets, a memory-only node): socket affinity depends on all cells
    sockets = rng.choice([(0, 0), (0, 0), (0, 1), (0, None), (None, None),
                          (None, None)])
    cells, first = [], 0
    for cell_id in range(2 if roomy else rng.choice([1, 2, 2, 2, 2])):
        cells.append(dict(host_cell(rng, cell_id, first, roomy),
                          socket=sockets[cell_id]))
        first += 16
    return cells


def random_pools(rng, roomy):
    pools = []
    for _ in range(4 if roomy else rng.choice([0, 1, 2, 3, 3, 4])):
        pools.append({
            'vendor_id': '10de',
            'product_id': rng.choice(['1df6'] * 5 + ['2235']),
            'dev_type': rng.choice(['type-PCI'] * 4 + ['type-PF',
                                                       'type-VF']),
            'numa_node': rng.choice([0, 0, 1, 1, None, -1]),
            'count': rng.randint(1, 3)})
    return pools


def random_flavor(rng):
    """(vcpus, memory_mb, extra specs), mostly with a guest topology."""
    vcpus = rng.choice([1, 2, 2, 2, 4, 4, 6])
    memory = rng.choice([512, 1024, 1024, 2048, 4096])
    specs = {}
    policy = rng.choice(['dedicated', 'dedicated', 'shared', 'mixed', None])
    if policy:
        specs['hw:cpu_policy'] = policy
    if policy == 'mixed':
        specs['hw:cpu_dedicated_mask'] = rng.choice(['^0', '0', '1'])
    if policy == 'dedicated' and rng.random() < 0.3:
        specs['hw:cpu_thread_policy'] = rng.choice(['prefer', 'isolate',
                                                    'require'])
    if policy in ('dedicated', 'mixed') and rng.random() < 0.1:
        specs['hw:emulator_threads_policy'] = 'isolate'
    if policy is None and rng.random() < 0.3:
        specs['resources:PCPU'] = str(vcpus)      # forces dedicated
    if rng.random() < 0.5 or (policy in ('shared', None) and
                              rng.random() < 0.9):
        specs['hw:numa_nodes'] = rng.choice(['1', '1', '2', '2', '2'])
    elif rng.random() < 0.1:
        # alone, these create no topology
        specs.update({'hw:numa_cpus.0': f'0-{vcpus - 1}',
                      'hw:numa_mem.0': str(memory)})
    if specs.get('hw:numa_nodes') == '2' and rng.random() < 0.2:
        specs.update({'hw:numa_cpus.0': '0', 'hw:numa_mem.0': str(
            memory // 4), 'hw:numa_cpus.1': f'1-{vcpus - 1}',
            'hw:numa_mem.1': str(memory - memory // 4)})
    if rng.random() < 0.25:
        specs['hw:mem_page_size'] = rng.choice(['small', 'large', 'large',
                                                'any', 'any', '2048', '2MB',
                                                '4', '1GB'])
    if rng.random() < 0.3:
        specs['hw:pci_numa_affinity_policy'] = rng.choice(numa.POLICIES)
    return vcpus, memory, specs


def random_requests(rng, specs):
    requests = []
    for _ in range(rng.choice([1, 1, 1, 1, 2])):
        spec = dict(SPEC)
        if rng.random() < 0.1:
            spec['dev_type'] = rng.choice(['type-PF', 'type-VF'])
        alias_policy = rng.choice([None, 'legacy', 'preferred', 'required',
                                   'socket', 'socket'])
        requests.append((rng.choice([1, 1, 1, 2]), [spec],
                         numa.request_policy(alias_policy, specs)))
    return requests


class TestNumaFit(testtools.TestCase):

    def setUp(self):
        super().setUp()
        n = test_agreement.nova()
        from nova.virt import hardware
        self.n = n
        self.hardware = hardware

    # nova's side -------------------------------------------------------

    def nova_host(self, cells):
        o = self.n['objects']
        return o.NUMATopology(cells=[o.NUMACell(
            id=c['id'], cpuset=set(c['cpuset']), pcpuset=set(c['pcpuset']),
            memory=c['memory'], memory_usage=c['memory_usage'],
            cpu_usage=c['cpu_usage'], pinned_cpus=set(c['pinned_cpus']),
            siblings=[set(s) for s in c['siblings']],
            mempages=[o.NUMAPagesTopology(size_kb=s, total=t, used=u,
                                          reserved=0)
                      for s, t, u in c['mempages']],
            network_metadata=o.NetworkMetadata(physnets=set(),
                                               tunneled=False),
            socket=c['socket']) for c in cells])

    def nova_guest(self, vcpus, memory, specs):
        o = self.n['objects']
        flavor = o.Flavor(vcpus=vcpus, memory_mb=memory, extra_specs=specs,
                          name='f')
        image = o.ImageMeta.from_dict({'properties': {}})
        try:
            return self.hardware.numa_get_constraints(flavor, image), None
        except (self.n['exception'].Invalid,
                self.n['exception'].Forbidden) as exc:
            return None, exc

    def nova_fit(self, host, guest, pools, requests, limits, packing):
        o = self.n['objects']
        stats = self.n['stats'].PciDeviceStats(host, dev_filter=mock.Mock())
        stats.pools = [dict(p) for p in pools]
        pci = [o.InstancePCIRequest(count=c, spec=s, numa_policy=p,
                                    alias_name='a', request_id=None)
               for c, s, p in requests]
        if limits:
            limits = o.NUMATopologyLimits(cpu_allocation_ratio=limits[0],
                                          ram_allocation_ratio=limits[1])
        self.n['conf'].set_override(
            'packing_host_numa_cells_allocation_strategy', packing,
            'compute')
        fitted = self.hardware.numa_fit_instance_to_host(
            host, guest, None, limits=limits, pci_requests=pci or None,
            pci_stats=stats)
        return None if fitted is None else tuple(c.id for c in fitted.cells)

    # the comparison ----------------------------------------------------

    def one_case(self, rng, tally):
        roomy = rng.random() < 0.4
        cells = random_host(rng, roomy)
        host = self.nova_host(cells)
        blob = host._to_json()
        pools = random_pools(rng, roomy)
        vcpus, memory, specs = random_flavor(rng)
        requests = random_requests(rng, specs)
        case = (f'host={blob} pools={pools} vcpus={vcpus} memory={memory} '
                f'specs={specs} requests={requests}')
        guest, refused = self.nova_guest(vcpus, memory, specs)
        try:
            ours = numa.guest_topology(specs, vcpus, memory)
        except numa.GuestTopologyError as exc:
            self.assertIsNotNone(refused, f'we refuse ({exc}), nova '
                                 f'does not: {case}')
            tally['refused'] += 1
            return
        self.assertIsNone(refused, f'nova refuses ({refused}): {case}')
        if guest is None:
            self.assertIsNone(ours, case)
            tally['no topology'] += 1
            return
        self.assertEqual(
            [(c.cpuset, c.pcpuset, c.memory, c.pagesize) for c in
             guest.cells],
            [(set(c.cpuset), set(c.pcpuset), c.memory, c.pagesize)
             for c in ours.cells], case)
        # NUMATopologyFilter's limits (allocation ratios), sometimes
        limits = rng.choice([None, None, (1.0, 1.0), (4.0, 1.5),
                             (0.5, 0.8)])
        packing = rng.random() < 0.2
        case += f' limits={limits} packing={packing}'
        theirs = self.nova_fit(host, guest, pools, requests, limits,
                               packing)
        mine = numa.fit_instance_to_host(
            numa.parse_host_topology(blob, 'generated'), ours, pools,
            requests, limits, packing)
        self.assertEqual(theirs, mine, case)
        tally['fit' if theirs else 'no fit'] += 1

    def run_seed(self, seed, share=1 / 3):
        """Every case of one seed; ``share``: the least of each answer."""
        tally = seeds.run(self, seed, CASES, self.one_case)
        judged = tally['fit'] + tally['no fit']
        # a generator that stops producing both answers tests nothing
        self.assertGreaterEqual(tally['fit'], judged * share,
                                f'{seed} {tally}')
        self.assertGreaterEqual(tally['no fit'], judged * share,
                                f'{seed} {tally}')
        return tally

    def test_fixed_seeds(self):
        for seed in SEEDS:
            self.run_seed(seed)

    def test_random_seed(self):
        # about 39% fit: a quarter keeps a random seed from flaking
        self.run_seed(seeds.random_seed(), share=1 / 4)

    def test_page_size_nova_remembers(self):
        # Rare in the generated cases, so built by hand: guest cell 0
        # (3 pinned vCPUs, "large" pages) gets 1G pages on host cell 0,
        # which then lacks CPUs; nova keeps 1G on the guest cell, and host
        # cell 1 has no 1G pages, so nothing fits, though cell 0 -> host 1
        # and cell 1 -> host 0 would have.
        def host_cell(cell_id, cpus, pages):
            return dict(id=cell_id, cpuset=set(cpus), pcpuset=set(cpus),
                        memory=8192, memory_usage=0, cpu_usage=0,
                        pinned_cpus=set(), siblings=[{c} for c in cpus],
                        mempages=[(4, 8192 * 256, 0)] + pages, socket=0)

        host = self.nova_host([
            host_cell(0, [0, 1], [(1048576, 2, 0)]),
            host_cell(1, [16, 17, 18, 19], [(2048, 1024, 0)])])
        specs = {'hw:cpu_policy': 'dedicated', 'hw:mem_page_size': 'large',
                 'hw:numa_nodes': '2', 'hw:numa_cpus.0': '0-2',
                 'hw:numa_mem.0': '1024', 'hw:numa_cpus.1': '3',
                 'hw:numa_mem.1': '1024'}
        guest, _refused = self.nova_guest(4, 2048, specs)
        theirs = self.nova_fit(host, guest, [], [], None, False)
        ours = numa.fit_instance_to_host(
            numa.parse_host_topology(host._to_json()),
            numa.guest_topology(specs, 4, 2048), [], [])
        self.assertIsNone(theirs)
        self.assertIsNone(ours)
