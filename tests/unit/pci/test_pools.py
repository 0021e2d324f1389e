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

"""nova's pool filters and one-host satisfiability."""

import testtools

from gpupassthrough_osc.pci import pools


def pool(product_id, dev_type, count, vendor_id='10de'):
    return {'vendor_id': vendor_id, 'product_id': product_id,
            'dev_type': dev_type, 'numa_node': 0, 'count': count}


class TestFilters(testtools.TestCase):

    def test_pf_rule(self):
        kept, dropped = pools.filter_pools(
            [pool('2235', 'type-PF', 1)],
            [{'vendor_id': '10de', 'product_id': '2235'}])
        self.assertEqual([], kept)
        self.assertEqual([('unrequested PF', 1)], dropped)

    def test_pf_requested_in_any_alternative(self):
        kept, _ = pools.filter_pools(
            [pool('2235', 'type-PF', 1)],
            [{'vendor_id': '10de', 'product_id': '2235',
              'dev_type': 'type-PF'}, {'vendor_id': '10de'}])
        self.assertEqual(1, len(kept))

    def test_vdpa_and_remote_managed_dropped_unless_asked(self):
        vdpa = pool('101e', 'vdpa', 2, vendor_id='15b3')
        remote = dict(pool('101e', 'type-VF', 2, vendor_id='15b3'),
                      remote_managed='true')
        kept, dropped = pools.filter_pools([vdpa, remote],
                                           [{'vendor_id': '15b3'}])
        self.assertEqual([], kept)
        self.assertEqual(['unrequested vdpa', 'unrequested remote-managed'],
                         [d for d, _ in dropped])

    def test_resource_class_and_traits_ignored(self):
        kept, _ = pools.filter_pools(
            [pool('2204', 'type-PCI', 1)],
            [{'vendor_id': '10de', 'product_id': '2204',
              'resource_class': 'CUSTOM_GPU', 'traits': 'X'}])
        self.assertEqual(1, len(kept))

    def test_aggregate_counts_statuses(self):
        devices = [
            {'compute_node_id': 1, 'vendor_id': '10DE', 'product_id': '2235',
             'dev_type': 'type-PF', 'status': status, 'numa_node': '0'}
            for status in ('available', 'allocated', 'claimed', 'removed',
                           'unavailable')]
        [p] = pools.aggregate(devices, cell='c')
        self.assertEqual((5, 4, 1, 2), (p.total, p.usable, p.available,
                                        p.used))
        self.assertEqual('10de', p.vendor_id)


class TestSupports(testtools.TestCase):

    def test_requests_consume_devices(self):
        # two requests for the same alias cannot both use one device
        spec = [{'vendor_id': '10de', 'product_id': '2204'}]
        host = [pool('2204', 'type-PCI', 1)]
        self.assertTrue(pools.supports(host, [(1, spec)]))
        self.assertFalse(pools.supports(host, [(1, spec), (1, spec)]))

    def test_alternatives_pooled(self):
        spec = [{'product_id': '2204'}, {'product_id': '2206'}]
        host = [pool('2204', 'type-PCI', 1), pool('2206', 'type-PCI', 1)]
        self.assertTrue(pools.supports(host, [(2, spec)]))
        self.assertFalse(pools.supports(host, [(3, spec)]))

    def test_does_not_change_callers_pools(self):
        host = [pool('2204', 'type-PCI', 1)]
        pools.supports(host, [(1, [{'product_id': '2204'}])])
        self.assertEqual(1, host[0]['count'])


def device_pool(node, product_id, dev_type, numa_node=0, usable=1):
    return pools.DevicePool('c', node, '10de', product_id, dev_type,
                            numa_node, usable, usable, usable, 0)


class TestPoolIndex(testtools.TestCase):
    """Each kind of pool matched once gives every pool's own verdict."""

    def test_matching_keeps_nova_answer_and_order(self):
        fleet = [device_pool(n, '2235', 'type-PF', numa_node=n % 2)
                 for n in range(6)] + [device_pool(9, '2235', 'type-VF')]
        index = pools.PoolIndex(fleet)
        specs = [{'vendor_id': '10de', 'product_id': '2235',
                  'dev_type': 'type-PF', 'numa_node': 1},
                 {'vendor_id': '10DE', 'product_id': '2235',
                  'dev_type': 'type-VF'}]
        pf_on_node1 = [p for p in fleet
                       if pools.prop_match(p.nova_pool(1), specs[:1])]
        self.assertEqual(pf_on_node1 + fleet[-1:], index.matching(specs))
        self.assertEqual([1, 3, 5, 9], [p.compute_node_id
                                        for p in index.matching(specs)])
        self.assertEqual([fleet[-1]], index.node_pools()[('c', 9)])

    def test_summed_pools_keep_and_drop_the_same_devices(self):
        fleet = [device_pool(n, '2235', 'type-PF', usable=n % 3)
                 for n in range(5)] + [device_pool(7, '1df6', 'type-PCI')]
        specs = [{'vendor_id': '10de', 'product_id': '2235'}]
        each = pools.filter_pools([p.nova_pool(p.usable) for p in fleet],
                                  specs)
        summed = pools.filter_pools(pools.summed(fleet), specs)
        self.assertEqual(each[1], summed[1])
        self.assertEqual(sum(p['count'] for p in each[0]),
                         sum(p['count'] for p in summed[0]))
        self.assertEqual([{'vendor_id': '10de', 'product_id': '2235',
                           'dev_type': 'type-PF', 'numa_node': 0,
                           'count': 4}], pools.summed(fleet[:5]))
