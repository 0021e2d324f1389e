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

"""PCI in placement: resource class and trait names, and the rule."""

import dataclasses
import json

import testtools

from gpupassthrough_osc.pci import audit
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import placement
from tests.unit.pci import builders as t

V100S = t.pool(1, '1df6', 'type-PCI')


def conf(*aliases, device_spec=None, report=True, pci_in_placement=True):
    specs = device_spec if device_spec is not None else [
        {'vendor_id': '10de', 'product_id': '1df6'}]
    return dataclasses.replace(
        t.conf(*aliases, device_spec=[json.dumps(s) for s in specs],
               report_in_placement=report),
        pci_in_placement=pci_in_placement)


def codes(nova_conf, value='v:1', pools=(V100S,)):
    inventory = model.Inventory(confs=[nova_conf], pools=list(pools),
                                nodes=t.nodes('gpu1'),
                                flavors=[t.flavor(value)])
    return [(f.code, f.subject) for f in
            placement.flavors_without_candidates(inventory)]


class TestNames(testtools.TestCase):
    """Cases nova's own functions were run on (shared/ placement facts)."""

    def test_resource_class(self):
        self.assertEqual('CUSTOM_CRYPTO',
                         placement.resource_class('crypto', None, None))
        self.assertEqual('CUSTOM_MY_DEV_',
                         placement.resource_class('my dev ', None, None))
        self.assertEqual('VGPU', placement.resource_class('vgpu', None, None))
        self.assertEqual('CUSTOM_MY-DEV',
                         placement.resource_class('CUSTOM_my-dev', None,
                                                  None))
        self.assertEqual('CUSTOM_PCI_10DE_1DF6',
                         placement.resource_class(None, '10de', '1df6'))

    def test_traits(self):
        self.assertEqual({'CUSTOM_HW_NIC_SRIOV'},
                         placement.traits('hw_nic_sriov'))
        self.assertEqual({'CUSTOM_BLUE', 'CUSTOM__BIG'},
                         placement.traits('blue, big'))
        self.assertEqual({'CUSTOM_X', 'HW_CPU_X86_AVX'},
                         placement.traits('custom_x,HW_CPU_X86_AVX'))
        self.assertEqual(frozenset(), placement.traits(''))


class TestFlavorsWithoutCandidates(testtools.TestCase):

    def test_ids_only_alias_matches_generated_class(self):
        self.assertEqual([], codes(conf(t.alias('v', product_id='1df6'))))

    def test_same_resource_class_on_both_sides(self):
        self.assertEqual([], codes(conf(
            {'name': 'v', 'resource_class': 'gpu_v100s'},
            device_spec=[{'vendor_id': '10de', 'product_id': '1df6',
                          'resource_class': 'CUSTOM_GPU_V100S'}])))

    def test_resource_class_mismatch_fires(self):
        self.assertEqual(
            [('FLAVOR_PLACEMENT_NO_CANDIDATE', 'flavor gpu')],
            codes(conf({'name': 'v', 'resource_class': 'CUSTOM_GPU_TESLA'},
                       device_spec=[{'vendor_id': '10de',
                                     'product_id': '1df6',
                                     'resource_class': 'CUSTOM_GPU_V100S'}])))

    def test_fix_asks_for_what_the_providers_offer(self):
        nova_conf = conf(
            t.alias('v', product_id='1df6', traits='CUSTOM_NVLINK,blue'),
            device_spec=[{'vendor_id': '10de', 'product_id': '1df6',
                          'resource_class': 'gpu', 'traits': 'blue'}])
        inventory = model.Inventory(confs=[nova_conf], pools=[V100S],
                                    nodes=t.nodes('gpu1'),
                                    flavors=[t.flavor('v:1')])
        fix = placement.flavors_without_candidates(inventory)[0].fix
        line = json.loads(fix.split('alias = ', 1)[1].split('}', 1)[0] + '}')
        self.assertEqual({'name': 'v', 'vendor_id': '10de',
                          'product_id': '1df6', 'resource_class': 'CUSTOM_GPU',
                          'traits': 'CUSTOM_BLUE'}, line)

    def test_ids_alias_misses_a_custom_device_class(self):
        self.assertEqual(
            [('FLAVOR_PLACEMENT_NO_CANDIDATE', 'flavor gpu')],
            codes(conf(t.alias('v', product_id='1df6'),
                       device_spec=[{'vendor_id': '10de',
                                     'product_id': '1df6',
                                     'resource_class': 'CUSTOM_GPU'}])))

    def test_missing_trait_fires_and_present_trait_does_not(self):
        wanted = t.alias('v', product_id='1df6', traits='CUSTOM_NVLINK')
        self.assertEqual(
            [('FLAVOR_PLACEMENT_NO_CANDIDATE', 'flavor gpu')],
            codes(conf(wanted)))
        self.assertEqual([], codes(conf(wanted, device_spec=[
            {'vendor_id': '10de', 'product_id': '1df6',
             'traits': 'nvlink'}])))

    def test_nothing_reports_to_placement(self):
        found = codes(conf(t.alias('v', product_id='1df6'), report=False))
        self.assertEqual([('FLAVOR_PLACEMENT_NO_CANDIDATE', 'flavor gpu')],
                         found)

    def test_physical_network_devices_are_not_reported(self):
        self.assertEqual(
            [('FLAVOR_PLACEMENT_NO_CANDIDATE', 'flavor gpu')],
            codes(conf(t.alias('v', product_id='1df6'), device_spec=[
                {'vendor_id': '10de', 'physical_network': 'physnet1'}])))

    def test_quiet_when_placement_does_not_schedule_pci(self):
        self.assertEqual([], codes(conf(
            t.alias('v', product_id='1df6', resource_class='CUSTOM_OTHER'),
            pci_in_placement=False)))


def _view(providers, devices, entries=None):
    return model.NodeView('host1', 'host1', 'root', providers, devices,
                          entries)


def _rule_codes(*views):
    inventory = model.Inventory(confs=[], providers=list(views))
    return [(f.code, f.subject) for f in audit.run(inventory)
            if f.code.startswith('PLACEMENT_')]


A40 = model.Device('0000:21:00.0', '10de', '2235', 'type-PF',
                   'available')


class TestPlacementView(testtools.TestCase):

    def test_provider_name(self):
        self.assertEqual('cn1_0000:AF:00.0', placement.provider_name(
            'cn1', dataclasses.replace(A40, address='0000:af:00.0')))
        vf = model.Device('0000:af:00.3', '10de', '2236', 'type-VF',
                          'available', parent_addr='0000:af:00.0')
        self.assertEqual('cn1_0000:AF:00.0',
                         placement.provider_name('cn1', vf))

    def test_no_providers_read_no_finding(self):
        self.assertEqual([], _rule_codes())

    def test_export_without_traits_or_usages_skips_those_checks(self):
        rp = model.Provider('u', 'host1_0000:21:00.0', 'root', 'root',
                            {'CUSTOM_PCI_10DE_2235': {'total': 1}})
        self.assertEqual([], _rule_codes(_view([rp], [
            dataclasses.replace(A40, status='allocated')])))

    def test_root_named_like_a_device_is_not_its_provider(self):
        root = model.Provider('root', 'host1_0000:21:00.0')
        self.assertEqual([('PLACEMENT_DEVICE_NO_PROVIDER', 'host1')],
                         _rule_codes(_view([root], [A40])))

    def test_message_names_host_devices_and_reason(self):
        root = model.Provider('root', 'host1', traits=frozenset())
        finding, = placement.devices_without_provider(model.Inventory(
            confs=[], providers=[_view([root], [A40])]))
        self.assertIn('host1_0000:21:00.0', finding.message)
        self.assertIn('0000:21:00.0 (10de:2235 type-PF)', finding.message)
        self.assertIn('report_in_placement is off', finding.message)


class TestHealFix(testtools.TestCase):
    """What PLACEMENT_DEVICE_NOT_ALLOCATED says heals it."""

    def _fix(self, allocations):
        rp = model.Provider('rp', 'host1_0000:21:00.0', 'root', 'root',
                            {'CUSTOM_PCI_10DE_2235': {'total': 1}},
                            usages={'CUSTOM_PCI_10DE_2235': 0})
        root = model.Provider('root', 'host1')
        view = _view([root, rp], [dataclasses.replace(
            A40, status='allocated', instance_uuid='i-1')])
        self.assertEqual(['i-1'], placement.unallocated_holders(view))
        view.allocations = allocations
        finding, = placement.usage_mismatches(model.Inventory(
            confs=[], providers=[view]))
        return finding.fix

    def test_allocation_elsewhere_is_not_healed(self):
        fix = self._fix({'i-1': {'other-root': {'VCPU': 1}}})
        self.assertIn('i-1 has no allocation on this host', fix)

    def test_allocation_on_this_host_is_healed(self):
        self.assertIn('nova-compute heals', self._fix(
            {'i-1': {'root': {'VCPU': 1}}}))

    def test_not_read(self):
        self.assertIn('otherwise nova-manage placement heal_allocations',
                      self._fix(None))
