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

"""Our rules against nova's own code, case by case.

nova 34.0.0 is importable in this environment, so instead of trusting our
reading of nova we ask nova: its [pci] alias parser
(``get_alias_from_config``), its extra-spec validator, and its scheduler's
pool filters (``PciDeviceStats._filter_pools`` and ``support_requests``)
get the same seeded random inputs as ours, and must give the same answers.
"""

import json
import random
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st
import testtools

from gpupassthrough_osc.pci import alias as our_alias
from gpupassthrough_osc.pci import audit as our_audit
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import pools as our_pools
from gpupassthrough_osc.pci import request as our_request
from tests import fuzzing  # noqa: F401  (the settings profile)

CASES = 600

ALIAS_LINES = [
    '{"name": "a", "vendor_id": "10de", "product_id": "2235"}',
    '{"name": "a", "vendor_id": "10de", "product_id": "2236", '
    '"device_type": "type-PF"}',
    '{"name": "a", "vendor_id": "10de", "product_id": "2235", '
    '"device_type": "type-PF"}',
    '{"name": "a", "vendor_id": "10de", "product_id": "2237", '
    '"device_type": "type-VF"}',
    '{"name": "a", "vendor_id": "10de", "product_id": "2235", '
    '"numa_policy": "required", "device_type": "type-PF"}',
    '{"name": "b", "vendor_id": "10DE", "product_id": "1DF6"}',
    '{"name": "b", "resource_class": "CUSTOM_GPU"}',
    '{"name": "c"}',
    '{"name": " c ", "vendor_id": "8086", "product_id": "1889", '
    '"live_migratable": "yes"}',
    '{"name": "c", "vendor_id": "8086", "product_id": "1889", '
    '"live_migratable": "maybe"}',
    '{"name": "d", "vendor_id": "10de", "product_id": "2235", '
    '"device_type": "vdpa"}',
    '{"name": "d", "vendor_id": "10dex", "product_id": "2235"}',
    '{"name": "d", "vendor_id": "10de", "product_id": "2235", "x": 1}',
    '{"name": "", "vendor_id": "10de", "product_id": "2235"}',
    '[{"name": "e", "vendor_id": "10de", "product_id": "2235"}]',
    '{"name": "e", vendor_id: 10de}',
    '',
    '{"name": "f", "vendor_id": "10de", "product_id": "2235", '
    '"capability_type": "pci"}',
    '{"name": "f", "vendor_id": "10de", "product_id": "2235", '
    '"numa_policy": "socket", "traits": "X"}',
    '{"vendor_id": "10de", "product_id": "2235"}',
    '{"name": 5}',
    '"a string"',
]

_NOVA = {}


def nova():
    """nova's modules, with its configuration initialised once."""
    if not _NOVA:
        from nova.api.validation.extra_specs import validators
        from nova import conf
        from nova import exception
        from nova import objects
        from nova.pci import request
        from nova.pci import stats

        conf.CONF([], project='nova', default_config_files=[])
        objects.register_all()
        _NOVA.update(conf=conf.CONF, exception=exception, objects=objects,
                     request=request, stats=stats, validators=validators)
    return _NOVA


class TestAliasConfig(testtools.TestCase):

    def nova_parse(self, lines, pci_in_placement):
        n = nova()
        n['conf'].set_override('alias', lines, 'pci')
        n['conf'].set_override('pci_in_placement', pci_in_placement,
                               'filter_scheduler')
        n['request'].get_alias_from_config.cache_clear()
        try:
            return n['request'].get_alias_from_config(), None
        except n['exception'].PciInvalidAlias as exc:
            return None, str(exc)

    def test_same_verdicts_and_reasons(self):
        rng = random.Random(1)
        for _ in range(CASES):
            lines = rng.sample(ALIAS_LINES, rng.randint(1, 4))
            placement = rng.random() < 0.3
            aliases, error = self.nova_parse(lines, placement)
            ours = our_alias.parse_config(lines,
                                          pci_in_placement=placement)
            case = f'{lines} pci_in_placement={placement}'
            if error is None:
                self.assertIsNone(ours.error, case)
                self.assertEqual(aliases, ours.aliases(), case)
            else:
                self.assertIsNotNone(ours.error, f'{case}: nova: {error}')
                reason = error.removeprefix('Invalid PCI alias definition: ')
                self.assertIn(reason, ours.error, case)


# Generated [pci] alias lines: every schema key and one it lacks, values
# near each rule's edge (case, a trailing newline the pattern's '$'
# accepts, lengths, non-strings), and names that collide so the same-name
# rules run.
ALIAS_KEYS = ['name', 'vendor_id', 'product_id', 'device_type',
              'numa_policy', 'capability_type', 'resource_class', 'traits',
              'live_migratable', 'x']
ALIAS_VALUES = st.one_of(
    st.sampled_from(['a', 'b', ' a ', '', '10de', '10DE', '2235', '10de\n',
                     '10d', 'type-PF', 'type-PCI', 'type-VF', 'vdpa',
                     'legacy', 'required', 'socket', 'preferred', 'pci',
                     'CUSTOM_GPU', 'yes', 'no', 'maybe', 'x' * 257]),
    st.text(max_size=4), st.integers(-1, 2), st.none(), st.booleans())
ALIAS_OBJECTS = st.dictionaries(st.sampled_from(ALIAS_KEYS), ALIAS_VALUES,
                                max_size=6)
ALIAS_LINE = st.one_of(
    ALIAS_OBJECTS.map(json.dumps),
    st.lists(ALIAS_OBJECTS, max_size=2).map(json.dumps),
    st.text(max_size=8))


class TestAliasConfigProperty(TestAliasConfig):
    """Hypothesis: any generated alias list gets nova's verdict."""

    test_same_verdicts_and_reasons = None

    @given(st.lists(ALIAS_LINE, min_size=1, max_size=3), st.booleans())
    def test_generated_lines_get_novas_verdict(self, lines, placement):
        aliases, error = self.nova_parse(lines, placement)
        ours = our_alias.parse_config(lines, pci_in_placement=placement)
        case = f'{lines} pci_in_placement={placement}'
        if error is None:
            self.assertIsNone(ours.error, case)
            self.assertEqual(aliases, ours.aliases(), case)
        else:
            self.assertIsNotNone(ours.error, f'{case}: nova: {error}')
            self.assertIn(
                error.removeprefix('Invalid PCI alias definition: '),
                ours.error, case)


class TestExtraSpecGrammar(testtools.TestCase):

    def test_same_verdicts(self):
        n = nova()
        rng = random.Random(2)
        alphabet = ['a', 'b', ':', ',', ' ', '1', '0', '-', '\t']
        values = ['gpuA40:1', 'nvme155:1,gpu3080:1', 'a:1 , b:2', 'a :1']
        values += [''.join(rng.choice(alphabet)
                           for _ in range(rng.randint(0, 9)))
                   for _ in range(CASES * 3)]
        for value in values:
            try:
                n['validators'].validate('pci_passthrough:alias', value)
                accepted = True
            except n['exception'].ValidationError:
                accepted = False
            self.assertEqual(accepted, our_request.nova_accepts(value),
                             repr(value))


class TestExtraSpecGrammarProperty(testtools.TestCase):

    @given(st.text(alphabet='ab:,10- \t', max_size=12))
    def test_generated_values_get_novas_verdict(self, value):
        n = nova()
        try:
            n['validators'].validate('pci_passthrough:alias', value)
            accepted = True
        except n['exception'].ValidationError:
            accepted = False
        self.assertEqual(accepted, our_request.nova_accepts(value),
                         repr(value))


DEVICE_SPEC_VALUES = st.one_of(
    st.sampled_from(['10de', '2235', '*', '0000:21:00.0', '0000:21:*.*',
                     'physnet1', 'true', '', 'x']),
    st.integers(-1, 2), st.none(), st.booleans())
DEVICE_SPEC_OBJECTS = st.dictionaries(
    st.sampled_from(['vendor_id', 'product_id', 'address', 'devname',
                     'physical_network', 'trusted']),
    DEVICE_SPEC_VALUES, max_size=3)
DEVICE_SPEC_LINE = st.one_of(
    DEVICE_SPEC_OBJECTS.map(json.dumps),
    st.lists(st.one_of(DEVICE_SPEC_OBJECTS, DEVICE_SPEC_VALUES),
             max_size=2).map(json.dumps),
    DEVICE_SPEC_VALUES.map(json.dumps), st.text(max_size=6))


class TestDeviceSpecProperty(testtools.TestCase):
    """DEVICE_SPEC_INVALID only where nova-compute refuses the value.

    Ours checks the structure nova checks first (JSON, an object or a list
    of objects); nova refuses more (addresses, keys), so the property is
    one way: whenever we say invalid, nova's Whitelist refuses too.
    """

    @given(DEVICE_SPEC_LINE)
    def test_our_invalid_is_novas_invalid(self, value):
        from nova.pci import whitelist

        nova()
        conf = mock.Mock(path='nova.conf', device_spec=[value],
                         device_spec_lines=[])
        ours = our_audit.device_spec_invalid(model.Inventory(
            confs=[conf]))
        try:
            whitelist.Whitelist([value])
            nova_refuses = False
        except Exception:  # any of nova's PciConfigInvalidSpec family
            nova_refuses = True
        if ours:
            self.assertTrue(nova_refuses, value)


def random_pool(rng):
    pool = {'vendor_id': rng.choice(['10de', '10DE', '8086']),
            'product_id': rng.choice(['2235', '1df6']),
            'dev_type': rng.choice(['type-PCI', 'type-PF', 'type-VF',
                                    'vdpa']),
            'numa_node': rng.choice([0, 1, None]),
            'count': rng.randint(1, 3)}
    for tag, values in (('remote_managed', ['true', 'false', 'yes']),
                        ('live_migratable', ['true', 'false'])):
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


class TestPoolFilters(testtools.TestCase):

    def stats(self):
        n = nova()
        return n['stats'].PciDeviceStats(
            n['objects'].NUMATopology(cells=[]), dev_filter=mock.Mock())

    def request(self, count, specs):
        return nova()['objects'].InstancePCIRequest(
            count=count, spec=specs, alias_name='a', numa_policy='legacy',
            request_id=None)

    def test_filter_pools(self):
        rng = random.Random(3)
        stats = self.stats()
        for _ in range(CASES * 2):
            pools = [random_pool(rng) for _ in range(rng.randint(1, 4))]
            specs = [random_spec(rng) for _ in range(rng.randint(1, 2))]
            count = rng.randint(1, 3)
            theirs = stats._filter_pools([dict(p) for p in pools],
                                         self.request(count, specs), None,
                                         [])
            kept, _dropped = our_pools.filter_pools(
                [dict(p) for p in pools], specs)
            case = f'pools={pools} specs={specs} count={count}'
            if theirs is None:
                self.assertLess(sum(p['count'] for p in kept), count, case)
            else:
                self.assertEqual(theirs, kept, case)

    def test_support_requests(self):
        rng = random.Random(4)
        for _ in range(CASES * 2):
            pools = [random_pool(rng) for _ in range(rng.randint(1, 4))]
            wanted = [(rng.randint(1, 3),
                       [random_spec(rng) for _ in range(rng.randint(1, 2))])
                      for _ in range(rng.randint(1, 2))]
            stats = self.stats()
            stats.pools = [dict(p) for p in pools]
            theirs = stats.support_requests(
                [self.request(c, s) for c, s in wanted], {})
            self.assertEqual(theirs, our_pools.supports(pools, wanted),
                             f'pools={pools} wanted={wanted}')


class TestTranslation(testtools.TestCase):
    """Stored values nova turns into PCI requests at boot, or fails on."""

    def test_same_requests_or_same_failure(self):
        n = nova()
        lines = ['{"name": "a", "vendor_id": "10de", "product_id": "2235"}',
                 '{"name": "b", "vendor_id": "10de", "product_id": "1df6"}']
        n['conf'].set_override('alias', lines, 'pci')
        n['conf'].set_override('pci_in_placement', False, 'filter_scheduler')
        n['request'].get_alias_from_config.cache_clear()
        aliases = our_alias.parse_config(lines).aliases()
        rng = random.Random(5)
        alphabet = ['a', 'b', 'c', ':', ',', ' ', '1', '2', '0']
        values = [''.join(rng.choice(alphabet)
                          for _ in range(rng.randint(1, 8)))
                  for _ in range(CASES * 3)]
        for value in values:
            try:
                theirs = [(r.alias_name, r.count) for r in
                          n['request']._translate_alias_to_requests(value)]
            except Exception:
                theirs = None
            try:
                requests = our_request.translate(value)
                ours = None if our_request.undefined_aliases(
                    requests, aliases) else [(r.name, r.count)
                                             for r in requests]
            except our_request.RequestError:
                ours = None
            self.assertEqual(theirs, ours, repr(value))
