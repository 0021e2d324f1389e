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

"""[pci] alias definitions validated as nova's get_alias_from_config."""

import json

import testtools

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.pci import alias


def line(**kw):
    return json.dumps(kw)


A40 = line(name='gpuA40', vendor_id='10de', product_id='2235')


class TestSchema(testtools.TestCase):

    def reason(self, raw, **kw):
        return alias.parse_config([raw], **kw).entries[0].reason

    def test_valid(self):
        entry = alias.parse_config([A40]).entries[0]
        self.assertIsNone(entry.reason)
        self.assertEqual('gpuA40', entry.name)
        self.assertEqual('legacy', entry.numa_policy)
        self.assertEqual({'vendor_id': '10de', 'product_id': '2235'},
                         entry.spec)

    def test_device_type_becomes_dev_type(self):
        entry = alias.parse_config([line(
            name='a', vendor_id='10de', product_id='2235',
            device_type='type-PF', numa_policy='required')]).entries[0]
        self.assertEqual('type-PF', entry.spec['dev_type'])
        self.assertNotIn('device_type', entry.spec)
        self.assertEqual('required', entry.numa_policy)

    def test_unknown_key_refused(self):
        self.assertIn('Additional properties are not allowed',
                      self.reason(line(name='a', vendor_id='10de',
                                       product_id='2235', devicetype='x')))

    def test_bad_hex_refused(self):
        self.assertIn('does not match',
                      self.reason(line(name='a', vendor_id='10DEX',
                                       product_id='2235')))

    def test_uppercase_hex_accepted(self):
        self.assertIsNone(self.reason(line(name='a', vendor_id='10DE',
                                           product_id='2235')))

    def test_vdpa_device_type_refused(self):
        self.assertIn("is not one of",
                      self.reason(line(name='a', vendor_id='10de',
                                       product_id='2235',
                                       device_type='vdpa')))

    def test_bad_numa_policy_refused(self):
        self.assertIn("is not one of",
                      self.reason(line(name='a', vendor_id='10de',
                                       product_id='2235',
                                       numa_policy='strict')))

    def test_name_required(self):
        self.assertIn("'name' is a required property",
                      self.reason(line(vendor_id='10de', product_id='2235')))

    def test_empty_name_refused(self):
        self.assertIn('should be non-empty',
                      self.reason(line(name='', vendor_id='10de',
                                       product_id='2235')))

    def test_json_list_refused(self):
        reason = self.reason(json.dumps([json.loads(A40)]))
        self.assertIn("is not of type 'object'", reason)
        self.assertIn('JSON list is refused', reason)

    def test_not_json(self):
        self.assertIn('not valid JSON', self.reason('{"name": gpu}'))

    def test_ids_required_since_nova_32(self):
        self.assertEqual(
            'The PCI alias(es) a does not have vendor_id and product_id '
            'fields set.', self.reason(line(name='a', vendor_id='10de')))

    def test_resource_class_enough_with_pci_in_placement(self):
        self.assertIsNone(self.reason(
            line(name='a', resource_class='CUSTOM_GPU'),
            pci_in_placement=True))
        self.assertIn('resource_class field set', self.reason(
            line(name='a', traits='X'), pci_in_placement=True))

    def test_live_migratable_strict_bool(self):
        entry = alias.parse_config([line(
            name='a', vendor_id='10de', product_id='2235',
            live_migratable='yes')]).entries[0]
        self.assertEqual('true', entry.spec['live_migratable'])
        self.assertIn('Unrecognized value', self.reason(line(
            name='a', vendor_id='10de', product_id='2235',
            live_migratable='maybe')))


class TestSameName(testtools.TestCase):

    def test_alternatives_with_same_device_type(self):
        config = alias.parse_config([
            line(name='g', vendor_id='10de', product_id='2204',
                 device_type='type-PCI'),
            line(name='g', vendor_id='10de', product_id='2206',
                 device_type='type-PCI')])
        self.assertIsNone(config.error)
        policy, specs = config.aliases()['g']
        self.assertEqual(2, len(specs))

    def test_numa_mismatch(self):
        config = alias.parse_config([
            A40, line(name='gpuA40', vendor_id='10de', product_id='2236',
                      numa_policy='required')])
        self.assertEqual("NUMA policy mismatch for alias 'gpuA40'",
                         config.error)

    def test_device_type_mismatch(self):
        config = alias.parse_config([
            line(name='g', vendor_id='10de', product_id='2235',
                 device_type='type-PF'),
            line(name='g', vendor_id='10de', product_id='2235',
                 device_type='type-VF')])
        self.assertEqual("Device type mismatch for alias 'g'", config.error)

    def test_missing_device_type_is_novas_dev_type_error(self):
        config = alias.parse_config([
            A40, line(name='gpuA40', vendor_id='10de', product_id='2236',
                      device_type='type-PF')])
        self.assertTrue(config.error.startswith("'dev_type'"))
        self.assertTrue(config.entries[0].valid)
        self.assertFalse(config.entries[1].valid)

    def test_one_spec_per_name_with_pci_in_placement(self):
        config = alias.parse_config([
            line(name='g', vendor_id='10de', product_id='2204',
                 device_type='type-PCI'),
            line(name='g', vendor_id='10de', product_id='2206',
                 device_type='type-PCI')], pci_in_placement=True)
        self.assertIn('multiple specs', config.error)

    def test_multispec_names_in_order_of_first_appearance(self):
        # nova walks its alias dict: 'a' came first, though 'b' repeats
        # first
        config = alias.parse_config(
            [line(name=n, vendor_id='10de', product_id='2204',
                  device_type='type-PCI') for n in ('a', 'b', 'b', 'a')],
            pci_in_placement=True)
        self.assertIn('alias(es) a,b have multiple specs', config.error)

    def test_loop_error_reported_before_missing_ids(self):
        # nova checks the ids only after every line parsed
        config = alias.parse_config([line(name='a'), 'nope'])
        self.assertIn('not valid JSON', config.error)

    def test_missing_ids_names_all_sorted(self):
        config = alias.parse_config([line(name='b'), line(name='a')])
        self.assertIn('alias(es) a,b does', config.error)

    def test_valid_config_has_no_error(self):
        self.assertIsNone(alias.parse_config([A40]).error)
        self.assertIsNone(alias.parse_config([]).error)


class TestRender(testtools.TestCase):

    def test_render_pf(self):
        self.assertEqual(
            '{"name": "gpuA40", "vendor_id": "10de", "product_id": "2235", '
            '"device_type": "type-PF"}',
            alias.render('gpuA40', '10DE', '2235', 'type-PF'))

    def test_render_refuses_invalid(self):
        self.assertRaises(exceptions.InvalidAlias, alias.render, 'a', '10de',
                          'xyz')


class TestCheapParsing(testtools.TestCase):

    def test_fast_path_reads_only_keywords_it_knows(self):
        for rule in alias.ALIAS_SCHEMA['properties'].values():
            self.assertLessEqual(set(rule), alias.FAST_PATH_KEYWORDS)
        self.assertEqual({'type', 'additionalProperties', 'properties',
                          'required'}, set(alias.ALIAS_SCHEMA))

    def test_fast_path_never_accepts_what_jsonschema_refuses(self):
        import jsonschema

        name = {'name': 'g'}
        for data in (name, dict(name, vendor_id='10DE'),
                     dict(name, vendor_id='10de\n'),
                     dict(name, vendor_id='10d'), dict(name, vendor_id=10),
                     {'name': 'x' * 256}, {'name': 'x' * 257},
                     {'name': ''}, {'name': 'é' * 256}, {'vendor_id': '10de'},
                     dict(name, device_type='vdpa'), dict(name, other='1'),
                     dict(name, numa_policy='socket'), dict(name, traits=1),
                     [name], 'g', None, dict(name, capability_type='pci')):
            try:
                jsonschema.validate(data, alias.ALIAS_SCHEMA)
                valid = True
            except jsonschema.ValidationError:
                valid = False
            if alias._plainly_valid(data):
                self.assertTrue(valid, data)

    def test_validator_built_once(self):
        alias._validator.cache_clear()
        alias.parse_config([json.dumps({'name': f'g{i}', 'vendor_id': 'zz'})
                            for i in range(50)])
        self.assertEqual(1, alias._validator.cache_info().misses)
