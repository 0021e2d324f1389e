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

"""Each audit rule: one test that makes it fire, one that keeps it quiet."""

import testtools

from gpupassthrough_osc.pci import audit
from gpupassthrough_osc.pci import model
from tests.unit.pci import builders


conf = builders.conf
alias = builders.alias
pool = builders.pool
nodes = builders.nodes
flavor = builders.flavor
A40_PF_POOL = builders.A40_PF_POOL
RuleTestCase = builders.RuleTestCase


class TestAliasNeverMatches(RuleTestCase):
    rule = staticmethod(audit.alias_never_matches)

    def test_seed_a40_fires(self):
        found = self.findings(confs=[conf(alias('gpuA40'))],
                              pools=[A40_PF_POOL])
        self.assertEqual(['ALIAS_DROPS_PF'], [f.code for f in found])
        self.assertEqual('error', found[0].severity)
        self.assertIn('"device_type": "type-PF"}', found[0].fix)
        self.assertIn('gpu1', found[0].message)

    def test_type_pf_alias_quiet(self):
        self.assertEqual([], self.codes(
            confs=[conf(alias('gpuA40', device_type='type-PF'))],
            pools=[A40_PF_POOL]))

    def test_type_pci_on_a40_mismatch(self):
        found = self.findings(
            confs=[conf(alias('gpuA40', device_type='type-PCI'))],
            pools=[A40_PF_POOL])
        self.assertEqual(['ALIAS_DEVICE_TYPE_MISMATCH'],
                         [f.code for f in found])
        self.assertIn('"device_type": "type-PF"', found[0].fix)

    def test_type_pf_on_v100s_mismatch(self):
        found = self.findings(
            confs=[conf(alias('gpuV100S', product_id='1df6',
                              device_type='type-PF'))],
            pools=[pool(1, '1df6', 'type-PCI')])
        self.assertEqual(['ALIAS_DEVICE_TYPE_MISMATCH'],
                         [f.code for f in found])
        self.assertIn('"device_type": "type-PCI"', found[0].fix)

    def test_v100s_without_type_quiet(self):
        # an alias without device_type does match type-PCI pools
        self.assertEqual([], self.codes(
            confs=[conf(alias('gpuV100S', product_id='1df6'))],
            pools=[pool(1, '1df6', 'type-PCI')]))

    def test_no_device(self):
        self.assertEqual(['ALIAS_NO_DEVICE'], self.codes(
            confs=[conf(alias('gpu3090', product_id='2204'))],
            pools=[A40_PF_POOL]))

    def test_uppercase_ids_match_like_nova(self):
        self.assertEqual([], self.codes(
            confs=[conf(alias('gpuA40', vendor_id='10DE',
                              device_type='type-PF'))],
            pools=[A40_PF_POOL]))

    def test_only_vfs_left_warns(self):
        found = self.findings(
            confs=[conf(alias('gpuA40'))],
            pools=[pool(1, '2235', 'type-PF'),
                   pool(1, '2235', 'type-VF', total=4)])
        self.assertEqual([('ALIAS_SKIPS_PF', 'warning')],
                         [(f.code, f.severity) for f in found])

    def test_no_device_data_quiet(self):
        self.assertEqual([], self.codes(confs=[conf(alias('gpuA40'))],
                                        pools=None))

    def test_capability_type_never_matches(self):
        # nova compares every alias key with the pool; pools have no
        # capability_type, so such an alias matches nothing
        found = self.findings(
            confs=[conf(alias('gpuA40', device_type='type-PF',
                              capability_type='pci'))],
            pools=[A40_PF_POOL])
        self.assertEqual([('ALIAS_NO_DEVICE', 'error')],
                         [(f.code, f.severity) for f in found])
        self.assertIn('remove capability_type', found[0].fix)

    def test_vdpa_only_filtered_out(self):
        found = self.findings(
            confs=[conf(alias('nic', vendor_id='15b3',
                              product_id='101e'))],
            pools=[pool(1, '101e', 'vdpa', vendor_id='15b3')])
        self.assertEqual(['ALIAS_FILTERED_OUT'], [f.code for f in found])
        self.assertIn('unrequested vdpa', found[0].message)


class TestAliasInvalid(RuleTestCase):
    rule = staticmethod(audit.alias_invalid)

    def test_fires_with_novas_reason(self):
        found = self.findings(confs=[conf(
            alias('g', device_type='type-PF'), alias('g', product_id='2236'))])
        self.assertEqual(['ALIAS_INVALID'], [f.code for f in found])
        self.assertIn("Invalid PCI alias definition: 'dev_type'",
                      found[0].message)

    def test_names_file_line_alias_and_services(self):
        bad = conf(alias('gpuA40'), path='/etc/nova/nova.conf')
        bad.alias += ['{"name": "gpuX", "vendor_id": 10de}',
                      '{"name": "gpuY", "vendor_id": "zzzz"}']
        bad.alias_lines = [('/etc/nova/nova.conf', 40), None,
                           ('/etc/nova/nova.conf.d/pci.conf', 3)]
        found = self.findings(confs=[bad])
        self.assertEqual(['ALIAS_INVALID'], [f.code for f in found])
        self.assertEqual('/etc/nova/nova.conf [pci] alias', found[0].subject)
        message = found[0].message
        self.assertIn('nova-api (controller) and nova-compute (compute '
                      'node) refuse to start', message)
        # no line found: the file and option instead
        self.assertIn('/etc/nova/nova.conf [pci] alias alias gpuX: not '
                      'valid JSON', message)
        self.assertIn("/etc/nova/nova.conf.d/pci.conf:3 alias gpuY: 'zzzz'",
                      message)
        self.assertNotIn(':40', message)

    def test_each_flavor_requesting_an_alias_is_blocked(self):
        bad = conf(alias('gpuA40'), alias('gpuX', numa_policy='nope'))
        bad.alias_lines = [('nova.conf', 7), ('nova.conf', 8)]
        found = self.findings(confs=[bad], flavors=[
            flavor('gpuA40:1', name='gpu.a40'),
            flavor('other:2', name='gpu.other'),
            model.Flavor('id-small', 'm1.small', {})])
        blocked = [f for f in found
                   if f.code == 'FLAVOR_BLOCKED_BY_BAD_ALIAS']
        self.assertEqual(['flavor gpu.a40', 'flavor gpu.other'],
                         [f.subject for f in blocked])
        self.assertEqual({'error'}, {f.severity for f in blocked})
        self.assertIn('cannot boot while nova.conf:8 (alias gpuX) is there',
                      blocked[0].message)

    def test_quiet(self):
        self.assertEqual([], self.codes(confs=[conf(alias('g'))],
                                        flavors=[flavor('g:1')]))


class TestAliasDiffers(RuleTestCase):
    rule = staticmethod(audit.alias_differs_between_confs)

    def test_missing_on_compute(self):
        found = self.findings(confs=[
            conf(alias('gpuA40'), path='api.conf'),
            conf(path='compute.conf')])
        self.assertEqual(['ALIAS_MISSING_ON_NODE'], [f.code for f in found])
        self.assertIn('not in compute.conf', found[0].message)

    def test_different_definition(self):
        self.assertEqual(['ALIAS_DIFFERS'], self.codes(confs=[
            conf(alias('gpuA40'), path='api.conf'),
            conf(alias('gpuA40', device_type='type-PF'),
                 path='compute.conf')]))

    def test_same_definition_other_key_order_quiet(self):
        api = conf(path='api.conf')
        api.alias = ['{"product_id": "2235", "vendor_id": "10de", '
                     '"name": "gpuA40"}']
        self.assertEqual([], self.codes(confs=[
            api, conf(alias('gpuA40'), path='compute.conf')]))

    def test_single_conf_quiet(self):
        self.assertEqual([], self.codes(confs=[conf(alias('gpuA40'))]))


class TestDeprecatedNames(RuleTestCase):
    rule = staticmethod(audit.deprecated_option_names)

    def test_fires(self):
        self.assertEqual(['DEPRECATED_OPTION'], self.codes(confs=[conf(
            deprecated=[('pci', 'passthrough_whitelist',
                         '[pci] device_spec')])]))

    def test_quiet(self):
        self.assertEqual([], self.codes(confs=[conf()]))


class TestDeviceSpec(RuleTestCase):

    def test_invalid_json_fires(self):
        self.assertEqual(['DEVICE_SPEC_INVALID'], [
            f.code for f in audit.device_spec_invalid(model.Inventory(
                confs=[conf(device_spec=['{"vendor_id": 10de}'])]))])

    def test_whitelist_structure_and_blast_radius(self):
        bad = conf(device_spec=['5', '[{"vendor_id": "10de"}, 1]',
                                '[{"vendor_id": "10de"}]'])
        bad.device_spec_lines = [('nova.conf', 12), ('nova.conf', 13),
                                 ('nova.conf', 14)]
        found = audit.device_spec_invalid(model.Inventory(confs=[bad]))
        self.assertEqual(2, len(found))
        self.assertIn('nova.conf:12: device_spec 5 is neither',
                      found[0].message)
        self.assertIn('nova.conf:13: ', found[1].message)
        self.assertIn('nova-compute refuses to start', found[1].message)
        self.assertIn('not tracked', found[1].message)

    def test_valid_quiet(self):
        self.assertEqual([], audit.device_spec_invalid(model.Inventory(
            confs=[conf(device_spec=['{"vendor_id": "10de"}'])])))

    def pf_vf(self, report, spec):
        return audit.pf_and_vfs_in_placement(model.Inventory(
            confs=[conf(device_spec=[spec], report_in_placement=report)],
            pools=[pool(1, '2235', 'type-PF'),
                   pool(1, '2235', 'type-VF', total=8)]))

    def test_pf_and_vf_in_placement_fires(self):
        found = self.pf_vf(True, '{"vendor_id": "10de", '
                                 '"product_id": "2235"}')
        self.assertEqual(['DEVICE_SPEC_PF_AND_VF'], [f.code for f in found])

    def test_pf_and_vf_without_placement_quiet(self):
        self.assertEqual([], self.pf_vf(False, '{"vendor_id": "10de"}'))

    def test_spec_for_other_product_quiet(self):
        self.assertEqual([], self.pf_vf(True, '[{"vendor_id": "10de", '
                                              '"product_id": "1df6"}]'))


class TestGpusWithoutAlias(RuleTestCase):
    rule = staticmethod(audit.gpus_without_alias)

    def test_fires_for_catalog_gpu(self):
        found = self.findings(confs=[conf(alias('gpuA40'))],
                              pools=[pool(1, '2204', 'type-PCI', total=2)])
        self.assertEqual(['GPU_WITHOUT_ALIAS'], [f.code for f in found])
        self.assertIn('2 GeForce RTX 3090', found[0].message)

    def test_covered_or_unknown_quiet(self):
        self.assertEqual([], self.codes(
            confs=[conf(alias('gpuA40'))],
            pools=[A40_PF_POOL, pool(1, 'a808', 'type-PCI',
                                     vendor_id='144d')]))


class TestFlavors(RuleTestCase):
    rule = staticmethod(audit.flavor_problems)

    def test_undefined_alias(self):
        found = self.findings(confs=[conf(alias('gpuA40'))],
                              flavors=[flavor('gpuA4O:1')])
        self.assertEqual(['FLAVOR_ALIAS_UNDEFINED'], [f.code for f in found])
        self.assertIn("'PCI alias gpuA4O is not defined'", found[0].message)

    def test_bad_stored_value(self):
        found = self.findings(confs=[conf(alias('gpuA40'))],
                              flavors=[flavor('gpuA40:x')])
        self.assertEqual([('FLAVOR_VALUE_INVALID', 'error')],
                         [(f.code, f.severity) for f in found])

    def test_legacy_value_boots_but_warns(self):
        found = self.findings(
            confs=[conf(alias('gpuA40', device_type='type-PF'))],
            flavors=[flavor('gpuA40: 1')], pools=[A40_PF_POOL])
        self.assertEqual([('FLAVOR_VALUE_INVALID', 'warning')],
                         [(f.code, f.severity) for f in found])

    def test_unsatisfiable_on_one_host(self):
        # GPU on host 1, NVMe on host 2: each alone fits, together never
        found = self.findings(
            confs=[conf(alias('gpu', product_id='2206'),
                        alias('nvme', vendor_id='144d',
                              product_id='a808'))],
            pools=[pool(1, '2206', 'type-PCI'),
                   pool(2, 'a808', 'type-PCI', vendor_id='144d')],
            flavors=[flavor('gpu:1,nvme:1')])
        self.assertEqual(['FLAVOR_UNSATISFIABLE'], [f.code for f in found])
        self.assertIn('gpu:1 fits on 1 host(s)', found[0].message)

    def test_count_larger_than_any_host(self):
        self.assertEqual(['FLAVOR_UNSATISFIABLE'], self.codes(
            confs=[conf(alias('gpuA40', device_type='type-PF'))],
            pools=[pool(1, '2235', 'type-PF', total=2),
                   pool(2, '2235', 'type-PF', total=2)],
            flavors=[flavor('gpuA40:3')]))

    def test_busy_now(self):
        self.assertEqual(['FLAVOR_NO_FREE_CAPACITY'], self.codes(
            confs=[conf(alias('gpuA40', device_type='type-PF'))],
            pools=[pool(1, '2235', 'type-PF', total=2, used=2)],
            flavors=[flavor('gpuA40:1')]))

    def test_deleted_node_does_not_count(self):
        self.assertEqual(['FLAVOR_UNSATISFIABLE'], self.codes(
            confs=[conf(alias('gpuA40', device_type='type-PF'))],
            pools=[A40_PF_POOL], nodes=nodes('gpu1', deleted=(1,)),
            flavors=[flavor('gpuA40:1')]))

    def test_satisfiable_quiet(self):
        self.assertEqual([], self.codes(
            confs=[conf(alias('gpu', product_id='2206'),
                        alias('nvme', vendor_id='144d',
                              product_id='a808'))],
            pools=[pool(2, '2206', 'type-PCI'),
                   pool(2, 'a808', 'type-PCI', vendor_id='144d')],
            flavors=[flavor('gpu:1,nvme:1'), model.Flavor('x', 'plain', {})]))

    def test_no_flavor_data_quiet(self):
        self.assertEqual([], self.codes(confs=[conf(alias('gpuA40'))],
                                        flavors=None))


class TestRows(RuleTestCase):

    def leak(self, deleted, node=1):
        return model.Leak('cell1', node, '0000:21:00.0', '10de', '2235',
                          'allocated', 'uuid-1', deleted)

    def test_leak_fires(self):
        found = audit.leaked_allocations(model.Inventory(
            confs=[], nodes=nodes('gpu1'), leaks=[self.leak(True),
                                                  self.leak(False)]))
        self.assertEqual(['PCI_DEVICE_LEAKED'], [f.code for f in found])
        self.assertIn('2 device(s)', found[0].message)
        self.assertIn('host gpu1', found[0].subject)

    def test_no_leak_quiet(self):
        self.assertEqual([], audit.leaked_allocations(model.Inventory(
            confs=[], leaks=[])))

    def test_deleted_node_fires(self):
        found = audit.devices_on_deleted_nodes(model.Inventory(
            confs=[], pools=[A40_PF_POOL],
            nodes=nodes('gpu1', deleted=(1,))))
        self.assertEqual(['DEVICES_ON_DELETED_NODE'], [f.code for f in found])

    def test_live_node_quiet(self):
        self.assertEqual([], audit.devices_on_deleted_nodes(model.Inventory(
            confs=[], pools=[A40_PF_POOL], nodes=nodes('gpu1'))))


class TestRun(testtools.TestCase):

    def test_sorted_by_severity(self):
        findings = audit.run(model.Inventory(
            confs=[conf(alias('gpuA40'), deprecated=[
                ('pci', 'passthrough_whitelist', '[pci] device_spec')])],
            pools=[A40_PF_POOL], nodes=nodes('gpu1'),
            notes=['a note']))
        self.assertEqual(['error', 'warning', 'info'],
                         [f.severity for f in findings])
