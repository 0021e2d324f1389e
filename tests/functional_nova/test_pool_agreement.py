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

"""nova's scheduler pool filters against ours, step by step.

``PciDeviceStats._filter_pools`` (nova/pci/stats.py) runs named steps:
the spec, NUMA affinity, unrequested PFs, vdpa and remote-managed
devices, the placement allocation, live-migratable devices. Both sides
are instrumented (nova's step methods on the stats object, ours through
``pools.FILTERS`` and the NUMA step) and must drop the same pools at the
same step, keep them in the same order, and agree on whether enough
devices remain. The generated specs mostly aim at one of the pools, so
the cases where nova keeps devices dominate.
"""

from unittest import mock

import testtools

from gpupassthrough_osc.pci import numa as our_numa
from gpupassthrough_osc.pci import pools as our_pools
from tests.functional_nova import seeds
from tests.functional_nova import test_agreement

CASES = 700

# nova's step methods, in _filter_pools' order, and our names for them
STEPS = (
    ('_filter_pools_for_spec', 'spec'),
    ('_filter_pools_for_numa_cells', 'NUMA affinity'),
    ('_filter_pools_for_unrequested_pfs', 'unrequested PF'),
    ('_filter_pools_for_unrequested_vdpa_devices', 'unrequested vdpa'),
    ('_filter_pools_for_unrequested_remote_managed_devices',
     'unrequested remote-managed'),
    # ours leaves placement out: with no rp_uuids nova's step keeps all
    ('_filter_pools_based_on_placement_allocation', 'placement'),
    ('_filter_pools_for_live_migratable_devices', 'live-migratable'),
)
# device_spec tags as operators write them; nova's filters compare some
# case-insensitively (the spec), some exactly (live_migratable)
TAGS = {'remote_managed': ('true', 'false', 'yes'),
        'live_migratable': ('true', 'false', 'True', 'False')}
POLICIES = (None, 'legacy', 'preferred', 'required', 'socket')
# (socket of host cell 0, socket of host cell 1)
SOCKETS = ((0, 0), (0, 1), (None, 0))


def random_pool(rng):
    pool = {'vendor_id': rng.choice(['10de', '10DE', '8086']),
            'product_id': rng.choice(['2235', '1df6']),
            'dev_type': rng.choice(['type-PCI', 'type-PF', 'type-VF',
                                    'vdpa']),
            'numa_node': rng.choice([0, 1, None]),
            'count': rng.randint(1, 4)}
    for tag, values in TAGS.items():
        if rng.random() < 0.2:
            pool[tag] = rng.choice(values)
    return pool


def random_spec(rng):
    choices = {
        'vendor_id': ['10de', '10DE', '8086'],
        'product_id': ['2235', '1df6', '1DF6'],
        'dev_type': ['type-PCI', 'type-PF', 'type-VF', 'vdpa'],
        'remote_managed': ['true', 'false'],
        'live_migratable': ['true', 'false'],
        'resource_class': ['CUSTOM_X'],
        'traits': ['T1'],
        'capability_type': ['pci'],
    }
    weights = {'vendor_id': 0.9, 'product_id': 0.8, 'dev_type': 0.5,
               'remote_managed': 0.1, 'live_migratable': 0.1,
               'resource_class': 0.1, 'traits': 0.1, 'capability_type': 0.05}
    return {k: rng.choice(v) for k, v in choices.items()
            if rng.random() < weights[k]}


def aimed_spec(rng, pools):
    """Mostly a spec that one pool meets, in another spelling of case."""
    if rng.random() < 0.1:
        return random_spec(rng)
    pool = rng.choice(pools)
    spec = {key: rng.choice([pool[key], pool[key].upper()])
            for key in ('vendor_id', 'product_id') if rng.random() < 0.9}
    if rng.random() < 0.75:
        spec['dev_type'] = pool['dev_type']
    for tag, values in TAGS.items():
        # an alias's live_migratable is always 'true' or 'false'
        if tag in pool and rng.random() < 0.5:
            spec[tag] = pool[tag].lower()
        elif rng.random() < 0.03:
            spec[tag] = rng.choice(values).lower()
    if rng.random() < 0.1:
        spec['resource_class'] = 'CUSTOM_X'   # ignored by these filters
    return spec


def random_case(rng):
    """(pools, specs, count, numa): numa is (policy, cell ids, sockets)."""
    pools = [random_pool(rng) for _ in range(rng.randint(1, 4))]
    specs = [aimed_spec(rng, pools) for _ in range(rng.choice([1, 1, 2]))]
    numa = None
    if rng.random() < 0.4:
        numa = (rng.choice(POLICIES), rng.choice([[0], [1], [0, 1]]),
                rng.choice(SOCKETS))
    return pools, specs, rng.choice([1, 1, 1, 1, 2, 3]), numa


def dropped(pools, before, after):
    """Indexes in ``pools`` of the pools in ``before`` but not ``after``."""
    kept = {id(p) for p in after}
    index = {id(p): i for i, p in enumerate(pools)}
    return tuple(index[id(p)] for p in before if id(p) not in kept)


class TestPoolFilters(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.n = test_agreement.nova()

    def nova_stats(self, numa):
        o = self.n['objects']
        sockets = numa[2] if numa else (0, 0)
        host = o.NUMATopology(cells=[
            o.NUMACell(id=i, socket=s) for i, s in enumerate(sockets)])
        return self.n['stats'].PciDeviceStats(host, dev_filter=mock.Mock())

    def nova_request(self, count, specs, policy=None):
        return self.n['objects'].InstancePCIRequest(
            count=count, spec=specs, alias_name='a', numa_policy=policy,
            request_id=None)

    def nova_cells(self, numa):
        if not numa:
            return None
        return [self.n['objects'].InstanceNUMACell(id=i) for i in numa[1]]

    def our_host(self, numa):
        sockets = numa[2] if numa else (0, 0)
        return [our_numa.HostCell(id=i, cpuset=frozenset(),
                                  pcpuset=frozenset(), memory=0, socket=s)
                for i, s in enumerate(sockets)]

    def nova_filter(self, pools, specs, count, numa):
        """nova's kept pools (or None) and what each step it ran dropped."""
        stats = self.nova_stats(numa)
        steps = []
        for method, name in STEPS:
            def step(before, *args, _real=getattr(stats, method), _name=name):
                after = _real(before, *args)
                steps.append((_name, dropped(pools, before, after)))
                return after
            setattr(stats, method, step)
        kept = stats._filter_pools(
            list(pools), self.nova_request(count, specs, numa and numa[0]),
            self.nova_cells(numa), [])
        return kept, steps

    def our_filter(self, pools, specs, count, numa):
        """Our kept pools, what each step dropped, and filter_pools' tally."""
        steps = []

        def watched(name, real):
            def step(before, *args):
                after = real(before, *args)
                steps.append((name, dropped(pools, before, after)))
                return after
            return step

        numa_step = watched('NUMA affinity', lambda p: (
            our_numa.filter_pools_for_numa_cells(
                p, count, numa[0], numa[1], self.our_host(numa))
            if numa else p))
        filters = tuple((name, watched(name, real))
                        for name, real in our_pools.FILTERS)
        with mock.patch.object(our_pools, 'FILTERS', filters):
            kept, counted = our_pools.filter_pools(list(pools), specs,
                                                   numa_step)
        return kept, steps, counted

    def compare(self, pools, specs, count, numa, tally):
        case = f'pools={pools} specs={specs} count={count} numa={numa}'
        theirs, their_steps = self.nova_filter(pools, specs, count, numa)
        kept, our_steps, counted = self.our_filter(pools, specs, count, numa)
        # nova stops at the first check that finds too few devices; ours
        # runs every step, so only the steps nova ran are compared
        self.assertEqual([], [s for s in their_steps
                              if s[0] == 'placement' and s[1]], case)
        their_steps = [s for s in their_steps if s[0] != 'placement']
        self.assertEqual(their_steps, our_steps[:len(their_steps)], case)
        ran = {name for name, _ in their_steps}
        self.assertEqual(
            [(name, sum(pools[i]['count'] for i in gone))
             for name, gone in their_steps if gone],
            [(name, n) for name, n in counted if name in ran], case)
        if theirs is None:
            self.assertLess(sum(p['count'] for p in kept), count, case)
            tally['too few'] += 1
            tally[f'too few after {their_steps[-1][0]}'] += 1
        else:
            self.assertEqual(theirs, kept, case)
            tally['kept'] += 1
        for name, gone in their_steps:
            tally[name] += bool(gone)

    def test_filter_pools(self):
        for seed in seeds.every_seed():
            tally = seeds.run(self, seed, CASES, lambda rng, tally:
                              self.compare(*random_case(rng), tally))
            # kept devices dominate, yet every answer and step is reached
            self.assertGreaterEqual(tally['kept'], CASES // 2,
                                    f'{seeds.label(seed)}: {tally}')
            self.assertGreaterEqual(tally['too few'], CASES // 10,
                                    f'{seeds.label(seed)}: {tally}')
            for name in {name for _method, name in STEPS} - {'placement'}:
                self.assertGreaterEqual(
                    tally[name], 5, f'{seeds.label(seed)}: {name}: {tally}')

    def support_requests_case(self, rng, tally):
        pools, _specs, _count, numa = random_case(rng)
        wanted = [(rng.choice([1, 1, 2]),
                   [aimed_spec(rng, pools)
                    for _ in range(rng.choice([1, 1, 2]))],
                   rng.choice(POLICIES))
                  for _ in range(rng.randint(1, 2))]
        stats = self.nova_stats(numa)
        stats.pools = [dict(p) for p in pools]
        theirs = stats.support_requests(
            [self.nova_request(*w) for w in wanted], {},
            self.nova_cells(numa))
        ours = our_numa.support_requests(
            pools, wanted, numa and numa[1], self.our_host(numa))
        self.assertEqual(theirs, ours, f'pools={pools} '
                         f'wanted={wanted} numa={numa}')
        tally[theirs] += 1

    def test_support_requests(self):
        for seed in seeds.every_seed():
            tally = seeds.run(self, seed, CASES // 2,
                              self.support_requests_case)
            self.assertGreaterEqual(tally[True], CASES // 8,
                                    f'{seeds.label(seed)}: {tally}')
            self.assertGreaterEqual(tally[False], CASES // 8,
                                    f'{seeds.label(seed)}: {tally}')
