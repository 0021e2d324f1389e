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

"""pci.numa: nova's NUMA rules one by one, and the audit's NUMA findings."""

import json

import testtools

from gpupassthrough_osc.pci import audit
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import numa
from gpupassthrough_osc.pci import pools
from tests.unit.pci import builders as ta


envelope = ta.envelope
cell = ta.cell
blob = ta.blob

V100S = {'name': 'v100s', 'vendor_id': '10de', 'product_id': '1df6'}


def v100s_pool(node, numa_node, total=1, available=None):
    available = total if available is None else available
    return pools.DevicePool('cell1', node, '10de', '1df6', 'type-PCI',
                            numa_node, total=total, usable=total,
                            available=available)


def flavor(name='v100s.2', alias='v100s:2', vcpus=8, memory_mb=16384,
           **specs):
    specs['pci_passthrough:alias'] = alias
    return model.Flavor('id-' + name, name, specs, vcpus, memory_mb)


def hw(**kw):
    """hw:<key> specs from keyword arguments."""
    return {f'hw:{k}': v for k, v in kw.items()}


TWO_NODES = blob(cell(0, range(0, 8), socket=0),
                 cell(1, range(8, 16), socket=0))


def inventory(flavors, node_pools, topology=TWO_NODES, read=True):
    nodes = {('cell1', 1): model.Node('cell1', 1, 'compute1',
                                      numa_topology=topology,
                                      numa_read=read)}
    return model.Inventory(confs=[ta.conf(V100S)], pools=node_pools,
                           nodes=nodes, flavors=flavors)


class TestHostTopology(testtools.TestCase):

    def test_nova_format(self):
        cells = numa.parse_host_topology(blob(
            cell(0, [0, 1], [2, 3], memory=4096, pinned=[2], socket=0,
                 memory_usage=1024, pages=[(4, 1048576, 262144)])))
        self.assertEqual(1, len(cells))
        c = cells[0]
        self.assertEqual((0, {0, 1}, {2, 3}, {2}, 4096, 1024, 0),
                         (c.id, c.cpuset, c.pcpuset, c.pinned_cpus,
                          c.memory, c.memory_usage, c.socket))
        self.assertEqual({3}, c.free_pcpus)
        self.assertEqual(262144, c.mempages[0].used)

    def test_absent_usage_is_zero_and_null_is_none(self):
        raw = json.loads(blob(cell(0, [0])))
        data = raw['nova_object.data']['cells'][0]['nova_object.data']
        del data['cpu_usage'], data['memory_usage']
        cells = numa.parse_host_topology(json.dumps(raw))
        self.assertEqual((0, 0), (cells[0].cpu_usage,
                                  cells[0].memory_usage))
        self.assertIsNone(numa.parse_host_topology(None))

    def test_malformed_names_the_node(self):
        for bad in ('{not json', '{"nova_object.data": {}}',
                    blob(cell(0, ['x']))):
            exc = self.assertRaises(numa.TopologyError,
                                    numa.parse_host_topology, bad,
                                    'compute7')
            self.assertIn('compute7', str(exc))
            self.assertNotIn('\n', str(exc))

    def test_empty_host(self):
        cells = numa.empty_host(numa.parse_host_topology(blob(cell(
            0, [0, 1], pinned=[0], memory_usage=5, cpu_usage=1,
            pages=[(4, 100, 50)]))))
        self.assertEqual((frozenset(), 0, 0, 0),
                         (cells[0].pinned_cpus, cells[0].memory_usage,
                          cells[0].cpu_usage, cells[0].mempages[0].used))


class TestGuestTopology(testtools.TestCase):

    def test_none_without_a_numa_spec(self):
        for specs in ({}, hw(cpu_policy='shared'),
                      hw(pci_numa_affinity_policy='required'),
                      {'hw:numa_cpus.0': '0-3', 'hw:numa_mem.0': '4096'},
                      {'resources:VCPU': '4'}):
            self.assertIsNone(numa.guest_topology(specs, 4, 4096), specs)

    def test_dedicated_is_one_pinned_node(self):
        guest = numa.guest_topology(hw(cpu_policy='dedicated'), 4, 4096)
        self.assertEqual(1, len(guest.cells))
        self.assertEqual(({0, 1, 2, 3}, set(), 4096),
                         (guest.cells[0].pcpuset, guest.cells[0].cpuset,
                          guest.cells[0].memory))
        self.assertEqual('1-node guest with dedicated CPUs',
                         numa.describe(guest))

    def test_pcpu_resources_force_dedicated(self):
        guest = numa.guest_topology({'resources:PCPU': '4'}, 4, 4096)
        self.assertEqual(numa.DEDICATED, guest.cpu_policy)

    def test_small_pages_and_pmem_create_one(self):
        self.assertEqual(numa.MEMPAGES_SMALL, numa.guest_topology(
            hw(mem_page_size='small'), 2, 2048).cells[0].pagesize)
        self.assertEqual(2048, numa.guest_topology(
            hw(mem_page_size='2MB'), 2, 2048).cells[0].pagesize)
        self.assertIsNotNone(numa.guest_topology(hw(pmem='6GB'), 2, 2048))

    def test_two_nodes_split_evenly(self):
        guest = numa.guest_topology(hw(numa_nodes='2'), 4, 4096)
        self.assertEqual([({0, 1}, 2048), ({2, 3}, 2048)],
                         [(c.cpuset, c.memory) for c in guest.cells])
        self.assertRaises(numa.GuestTopologyError, numa.guest_topology,
                          hw(numa_nodes='2'), 3, 4096)

    def test_manual_memory_is_mib(self):
        guest = numa.guest_topology(
            {'hw:numa_nodes': '2', 'hw:numa_cpus.0': '0', 'hw:numa_mem.0':
             '1024', 'hw:numa_cpus.1': '1-3', 'hw:numa_mem.1': '3072'},
            4, 4096)
        self.assertEqual([({0}, 1024), ({1, 2, 3}, 3072)],
                         [(c.cpuset, c.memory) for c in guest.cells])

    def test_mixed_splits_cpus(self):
        guest = numa.guest_topology(
            hw(cpu_policy='mixed', cpu_dedicated_mask='^0'), 4, 4096)
        self.assertEqual(({0}, {1, 2, 3}),
                         (guest.cells[0].cpuset, guest.cells[0].pcpuset))

    def test_refusals(self):
        for specs in (hw(cpu_policy='pinned'), hw(numa_nodes='0'),
                      hw(cpu_thread_policy='isolate'),
                      hw(cpu_policy='mixed'),
                      hw(mem_page_size='huge'),
                      {'hw:cpu_policy': 'dedicated', 'resources:PCPU': '4'},
                      {'hw:numa_nodes': '1', 'hw:numa_cpus.0': '0-3'}):
            self.assertRaises(numa.GuestTopologyError, numa.guest_topology,
                              specs, 4, 4096)


class TestPolicy(testtools.TestCase):

    def test_flavor_overrides_alias_silently(self):
        self.assertEqual('preferred', numa.request_policy(
            'required', hw(pci_numa_affinity_policy='preferred')))
        self.assertEqual('required', numa.request_policy('required', {}))
        self.assertEqual('legacy', numa.request_policy(None, {}))
        self.assertRaises(numa.GuestTopologyError, numa.request_policy,
                          None, hw(pci_numa_affinity_policy='strict'))

    def pools(self):
        return [{'numa_node': 0, 'count': 1, 'dev_type': 'type-PCI'},
                {'numa_node': None, 'count': 1, 'dev_type': 'type-PCI'},
                {'numa_node': 1, 'count': 1, 'dev_type': 'type-PCI'},
                {'numa_node': -1, 'count': 1, 'dev_type': 'type-PCI'}]

    def nodes(self, policy, count, cells=(0,), sockets=(0, 0)):
        host = [numa.HostCell(i, frozenset(), frozenset(), 0, socket=s)
                for i, s in enumerate(sockets)]
        return [p['numa_node'] for p in numa.filter_pools_for_numa_cells(
            self.pools(), count, policy, list(cells), host)]

    def test_each_policy(self):
        self.assertEqual([0], self.nodes('required', 2))
        self.assertEqual([0], self.nodes('legacy', 1))
        self.assertEqual([0, None], self.nodes('legacy', 2))
        self.assertEqual([0, None], self.nodes('legacy', 3))
        self.assertEqual([0, None, 1, -1], self.nodes('preferred', 3))
        self.assertEqual([0, 1], self.nodes('socket', 2))
        self.assertEqual([], self.nodes('socket', 2, sockets=(0, None)))
        self.assertEqual([0], self.nodes('socket', 1, sockets=(0, None)))
        self.assertEqual([0, None, 1, -1], self.nodes('required', 9, ()))

    def test_numa_step_runs_before_pf_filter(self):
        # a local unrequested PF is "enough local": the remote VF is never
        # considered, even under preferred (nova-numa-facts 7.3)
        pools = [{'vendor_id': 'a', 'product_id': 'b', 'numa_node': 0,
                  'dev_type': 'type-PF', 'count': 1},
                 {'vendor_id': 'a', 'product_id': 'b', 'numa_node': 1,
                  'dev_type': 'type-VF', 'count': 1}]
        host = [numa.HostCell(i, frozenset(), frozenset(), 0)
                for i in (0, 1)]
        request = [(1, [{'vendor_id': 'a', 'product_id': 'b'}],
                    'preferred')]
        self.assertFalse(numa.support_requests(pools, request, [0], host))
        self.assertTrue(numa.support_requests(pools, request, None, host))
        self.assertTrue(numa.support_requests(pools, request, [1], host))


class TestFit(testtools.TestCase):

    host = numa.parse_host_topology(TWO_NODES)
    split = [{'vendor_id': '10de', 'product_id': '1df6', 'numa_node': n,
              'dev_type': 'type-PCI', 'count': 1} for n in (0, 1)]
    spec = [{'vendor_id': '10de', 'product_id': '1df6'}]

    def fit(self, specs, policy='legacy', vcpus=8, host=None):
        guest = numa.guest_topology(specs, vcpus, 16384)
        return numa.fit_instance_to_host(host or self.host, guest,
                                         self.split,
                                         [(2, self.spec, policy)])

    def test_v100s_split_over_two_nodes(self):
        self.assertIsNone(self.fit(hw(cpu_policy='dedicated')))
        self.assertIsNotNone(self.fit(hw(cpu_policy='dedicated'),
                                      'preferred'))
        self.assertEqual((0, 1), self.fit(hw(cpu_policy='dedicated',
                                             numa_nodes='2')))

    def test_no_guest_topology_no_fit_question(self):
        self.assertIsNone(self.fit({}))

    def test_pinned_cpus_and_memory(self):
        full = numa.parse_host_topology(blob(
            cell(0, range(8), pinned=range(6)), cell(1, range(8, 16))))
        self.assertIsNone(self.fit(hw(cpu_policy='dedicated',
                                      numa_nodes='2'), host=full))
        self.assertEqual((0, 1), self.fit(
            hw(cpu_policy='dedicated', numa_nodes='2'), vcpus=4,
            host=full))
        small = numa.parse_host_topology(blob(
            cell(0, range(8), memory=4096), cell(1, range(8, 16))))
        self.assertIsNone(self.fit(hw(numa_nodes='2'), host=small))

    def test_sorts_pick_the_device_cell_first(self):
        one = [dict(self.split[1])]
        guest = numa.guest_topology(hw(cpu_policy='dedicated'), 4, 4096)
        self.assertEqual((1,), numa.fit_instance_to_host(
            self.host, guest, one, [(1, self.spec, 'legacy')]))
        self.assertEqual((0,), numa.fit_instance_to_host(
            self.host, guest, one, []))

    def test_thread_policies(self):
        smt = numa.parse_host_topology(json.dumps(envelope(
            'NUMATopology', {'cells': [envelope('NUMACell', {
                'id': 0, 'cpuset': [0, 1, 2, 3], 'pcpuset': [0, 1, 2, 3],
                'memory': 8192, 'pinned_cpus': [0],
                'siblings': [[0, 1], [2, 3]], 'mempages': [],
                'socket': 0})]})))
        guest = numa.guest_topology(hw(cpu_policy='dedicated',
                                       cpu_thread_policy='isolate'),
                                    1, 1024)
        self.assertEqual((0,), numa.fit_instance_to_host(smt, guest, [],
                                                         []))
        guest = numa.guest_topology(hw(cpu_policy='dedicated',
                                       cpu_thread_policy='isolate'),
                                    2, 1024)
        self.assertIsNone(numa.fit_instance_to_host(smt, guest, [], []))
        guest = numa.guest_topology(hw(cpu_policy='dedicated',
                                       cpu_thread_policy='require'),
                                    2, 1024)
        self.assertEqual((0,), numa.fit_instance_to_host(smt, guest, [],
                                                         []))


class TestAuditRule(testtools.TestCase):

    def findings(self, *flavors, **kw):
        kw.setdefault('node_pools', [v100s_pool(1, 0), v100s_pool(1, 1)])
        return audit.flavor_problems(inventory(list(flavors), **kw))

    def test_v100s_dedicated_never_fits(self):
        found = self.findings(flavor(**hw(cpu_policy='dedicated')))
        self.assertEqual(['FLAVOR_NUMA_UNSATISFIABLE'],
                         [f.code for f in found])
        f = found[0]
        self.assertEqual(('error', 'flavor v100s.2'), (f.severity,
                                                       f.subject))
        self.assertIn('needs 2 v100s on the NUMA node(s) of a 1-node guest '
                      'with dedicated CPUs', f.message)
        self.assertIn('best host compute1 has 1 on node 0, 1 on node 1',
                      f.message)
        self.assertIn('image properties', f.message)
        self.assertIn('hw:pci_numa_affinity_policy=preferred', f.fix)
        self.assertIn('hw:numa_nodes=2', f.fix)

    def test_shared_preferred_and_two_nodes_fit(self):
        for specs in ({}, hw(cpu_policy='shared'),
                      hw(cpu_policy='dedicated',
                         pci_numa_affinity_policy='preferred'),
                      hw(cpu_policy='dedicated', numa_nodes='2')):
            self.assertEqual([], self.findings(flavor(**specs)), specs)

    def test_fits_ever_not_now(self):
        busy = blob(cell(0, range(8), pinned=range(8), socket=0),
                    cell(1, range(8, 16), socket=0))
        found = self.findings(
            flavor(alias='v100s:1', **hw(cpu_policy='dedicated')),
            node_pools=[v100s_pool(1, 0)], topology=busy)
        self.assertEqual([('FLAVOR_NUMA_NO_FREE_CAPACITY', 'warning')],
                         [(f.code, f.severity) for f in found])

    def test_missing_numa_data_is_a_note(self):
        found = self.findings(flavor(**hw(cpu_policy='dedicated')),
                              read=False)
        self.assertEqual([('FLAVOR_NUMA_UNCHECKED', 'info')],
                         [(f.code, f.severity) for f in found])
        self.assertIn('no numa_topology column', found[0].message)

    def test_no_node_row_is_a_note(self):
        inv = inventory([flavor(**hw(cpu_policy='dedicated'))],
                        [v100s_pool(1, 0), v100s_pool(1, 1)])
        inv.nodes = {}
        found = audit.flavor_problems(inv)
        self.assertEqual(['FLAVOR_NUMA_UNCHECKED'], [f.code for f in found])
        self.assertIn('no compute_nodes row', found[0].message)

    def test_host_without_topology_claim_drops_it(self):
        found = self.findings(flavor(**hw(cpu_policy='dedicated')),
                              topology=None)
        self.assertEqual(['FLAVOR_NUMA_UNCHECKED'], [f.code for f in found])
        self.assertIn('drops the guest', found[0].message)

    def test_malformed_topology_is_a_note(self):
        found = self.findings(flavor(**hw(cpu_policy='dedicated')),
                              topology='{"cells": 3')
        self.assertEqual(['FLAVOR_NUMA_UNCHECKED'], [f.code for f in found])
        self.assertIn('compute1', found[0].message)

    def test_device_without_numa_node_is_a_note(self):
        found = self.findings(
            flavor(alias='v100s:1', **hw(cpu_policy='dedicated')),
            node_pools=[v100s_pool(1, None)])
        self.assertEqual(['FLAVOR_NUMA_UNCHECKED'], [f.code for f in found])
        self.assertIn('numa_node NULL', found[0].message)

    def test_invalid_numa_spec(self):
        found = self.findings(flavor(**hw(cpu_policy='pinned')))
        self.assertEqual([('FLAVOR_NUMA_INVALID', 'error')],
                         [(f.code, f.severity) for f in found])

    def test_no_vcpus_known(self):
        found = self.findings(flavor(vcpus=None,
                                     **hw(cpu_policy='dedicated')))
        self.assertEqual(['FLAVOR_NUMA_UNCHECKED'], [f.code for f in found])


class TestExplain(testtools.TestCase):
    """gpu flavor explain asks the same FlavorFit, host by host."""

    def explain(self, topology, **specs):
        from gpupassthrough_osc.pci import explain

        inv = inventory([flavor(**specs)],
                        [v100s_pool(1, 0), v100s_pool(1, 1)],
                        topology=topology)
        return explain.explain_flavor(inv, inv.flavors[0])

    def test_split_gpus_refused_at_numa_fit(self):
        result = self.explain(TWO_NODES, **hw(cpu_policy='dedicated'))
        [row] = result.hosts
        self.assertEqual(('never fits', 'NUMA fit'), (row.verdict,
                                                      row.step))
        self.assertIn('1 on node 0, 1 on node 1', row.reason)
        self.assertFalse(result.boots_now)

    def test_pinned_cpus_refuse_now_only(self):
        busy = blob(cell(0, range(8), pinned=range(8), socket=0),
                    cell(1, range(8, 16), pinned=range(8, 16), socket=0))
        [row] = self.explain(busy, **hw(cpu_policy='dedicated',
                                        numa_nodes='2')).hosts
        self.assertEqual(('fits once devices are freed', 'NUMA fit'),
                         (row.verdict, row.step))

    def test_shared_cpus_fit(self):
        [row] = self.explain(TWO_NODES).hosts
        self.assertTrue(row.fits_now)


class TestTopologyWanted(testtools.TestCase):
    """NUMA cells are read only for hosts a NUMA flavor's aliases match."""

    def test_only_pools_a_numa_flavor_can_use(self):
        a40 = pools.DevicePool('cell1', 2, '10de', '2235', 'type-PF', 0, 1,
                               1, 1)
        numa_flavor = flavor(**hw(cpu_policy='dedicated'))
        wanted = numa.topology_wanted(inventory([numa_flavor], None))
        self.assertTrue(wanted(v100s_pool(1, 0)))
        self.assertFalse(wanted(a40))

    def test_nothing_without_a_numa_flavor(self):
        self.assertIs(False, numa.topology_wanted(
            inventory([flavor()], None)))
        # an alias no config defines: the capacity check never runs
        self.assertIs(False, numa.topology_wanted(inventory(
            [flavor(alias='undefined:1', **hw(cpu_policy='dedicated'))],
            None)))
