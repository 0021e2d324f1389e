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

"""``[pci] alias`` parsing: ours against nova's ``get_alias_from_config``.

The generated configurations are mostly well formed, so that nova's
harder rules run: the same name on several lines (nova ORs their specs,
but only with one ``numa_policy`` and ``device_type``, and with
``[filter_scheduler] pci_in_placement`` not at all), then the required
ids. Failures are compared by kind, not only by verdict: at which stage
nova stopped, on which line, why (the exception nova wrapped) and which
alias names its message gives, in its order.
"""

import json
import re

from hypothesis import given
from hypothesis import strategies as st
import testtools

from gpupassthrough_osc.pci import alias as our_alias
from tests.functional_nova import seeds
from tests.functional_nova import test_agreement
from tests import fuzzing  # noqa: F401  (the settings profile)

CASES = 1000

NAMES = ('a', 'b', 'gpu')
VENDORS = ('10de', '10DE', '8086')
PRODUCTS = ('2235', '1df6', '1DF6', '20b5')
DEVICE_TYPES = ('type-PCI', 'type-PF', 'type-VF')
POLICIES = ('legacy', 'required', 'preferred', 'socket')
EXTRAS = {'live_migratable': ('yes', 'no', 'true', 'False', '1', ' on '),
          'capability_type': ('pci',),
          'resource_class': ('CUSTOM_GPU', 'PGPU'),
          'traits': ('CUSTOM_A,CUSTOM_B',)}

# One key changed to what nova refuses, or a line that is no alias object.
BROKEN_VALUES = {
    'vendor_id': ('10dex', '10d', 10, None), 'product_id': ('22355', ''),
    'device_type': ('vdpa', 'type-XX'), 'numa_policy': ('socketx', ''),
    'name': ('', 'x' * 257, 5), 'live_migratable': ('maybe', ''),
    'capability_type': ('pcie',), 'x': (1,)}
BROKEN_LINES = ('', 'a string', '"a string"', '{"name": "a", vendor_id: 1}',
                '[{"name": "a", "vendor_id": "10de", "product_id": "2235"}]',
                '{"vendor_id": "10de", "product_id": "2235"}')


def alias_line(rng, name, policy, device_type):
    """One well-formed line of ``name``'s alias, keys in random order."""
    data = {'name': rng.choice([name, name, f' {name}', f'{name} ']),
            'vendor_id': rng.choice(VENDORS),
            'product_id': rng.choice(PRODUCTS)}
    if device_type:
        data['device_type'] = device_type
    # no numa_policy and 'legacy' are the same policy to nova
    if policy != 'legacy' or rng.random() < 0.5:
        data['numa_policy'] = policy
    for key, values in EXTRAS.items():
        if rng.random() < 0.1:
            data[key] = rng.choice(values)
    if rng.random() < 0.08:
        # without the ids: valid only with pci_in_placement and a class
        del data[rng.choice(['vendor_id', 'product_id'])]
    items = list(data.items())
    rng.shuffle(items)
    return dict(items)


def alias_config(rng):
    """(lines, pci_in_placement): names repeat, a few rules are broken."""
    names = rng.sample(NAMES, rng.randint(1, 3))
    # one policy and device_type per name, as nova requires of its lines;
    # an unset device_type on a repeated name fails nova's dict lookup
    profile = {name: (rng.choice(POLICIES),
                      rng.choice(DEVICE_TYPES + (None,)) if
                      rng.random() < 0.5 else rng.choice(DEVICE_TYPES))
               for name in names}
    entries = [alias_line(rng, name, *profile[name])
               for name in (rng.choice(names)
                            for _ in range(rng.randint(1, 5)))]
    lines = [json.dumps(e) for e in entries]
    where = rng.randrange(len(lines))
    mode = rng.random()
    if mode < 0.12:
        # a repeated name that disagrees with its first line
        key = rng.choice(['numa_policy', 'device_type'])
        entries[where][key] = rng.choice(
            POLICIES if key == 'numa_policy' else DEVICE_TYPES)
        lines[where] = json.dumps(entries[where])
    elif mode < 0.2:
        key = rng.choice(sorted(BROKEN_VALUES))
        entries[where][key] = rng.choice(BROKEN_VALUES[key])
        lines[where] = json.dumps(entries[where])
    elif mode < 0.25:
        lines[where] = rng.choice(BROKEN_LINES)
    elif mode < 0.3:
        del entries[where]['name']
        lines[where] = json.dumps(entries[where])
    return lines, rng.random() < 0.3


def nova_failure(lines, placement):
    """nova's aliases, or None and how nova refused them."""
    n = test_agreement.nova()
    loaded = []
    with test_agreement.nova_alias_conf(lines, placement,
                                        on_line=loaded.append):
        try:
            return n['request'].get_alias_from_config(), None
        except n['exception'].PciInvalidAlias as exc:
            if 'reason' in exc.kwargs:
                # the loop over the lines stopped on the line it loaded
                # last; a wrapped exception says which rule failed
                reason = exc.kwargs['reason']
                cause = exc.__context__
                kind = ('parse', len(loaded) - 1,
                        type(cause).__name__ if cause else None)
            else:
                reason = str(exc)
                kind = ('multispec' if 'multiple specs' in reason else 'ids',
                        None, None)
            return None, kind + (names_in(reason), reason)


def our_failure(config):
    """The same description of our verdict, or None."""
    reason = config.error
    if reason is None:
        return None
    stages = [e.stage for e in config.entries]
    if 'parse' in stages:
        line = stages.index('parse')
        kind = ('parse', line, our_cause(reason))
    else:
        kind = ('multispec' if 'multispec' in stages else 'ids', None, None)
    return kind + (names_in(reason), reason)


def our_cause(reason):
    """The exception nova wraps for the rule our reason reports."""
    if reason.startswith('not valid JSON'):
        return 'JSONDecodeError'
    if reason.startswith("'dev_type'"):
        return 'KeyError'
    if reason.startswith('Unrecognized value'):
        return 'ValueError'   # oslo.utils bool_from_string(strict=True)
    if 'mismatch for alias' in reason:
        return None           # raised directly, nothing wrapped
    return 'ValidationError'


_NAMES = re.compile(r"for alias '(.*)'$|^The PCI alias\(es\) (.*?) (?:have "
                    r"multiple|does not)")


def names_in(reason):
    """The alias names a reason gives, in its order."""
    match = _NAMES.search(reason)
    if not match:
        return ()
    return (match.group(1),) if match.group(1) else tuple(
        match.group(2).split(','))


# nova's same-name rules, by the start of the reason they give
SAME_NAME_RULES = {'NUMA policy mismatch': 'NUMA policy differs',
                   'Device type mismatch': 'device_type differs',
                   "'dev_type'": 'device_type unset',
                   'The PCI alias(es)': 'several specs in placement'}


def tally_of(aliases, failure, tally):
    """Count which of nova's rules a case reached."""
    if failure is None:
        tally['valid'] += 1
        if any(len(specs) > 1 for _policy, specs in aliases.values()):
            tally['valid, a name with several specs'] += 1
            tally['multispec path'] += 1
        return
    stage, _line, cause, names, reason = failure
    rule = next((rule for start, rule in SAME_NAME_RULES.items()
                 if reason.startswith(start) and stage != 'ids'), None)
    if rule:
        tally['multispec path'] += 1
        tally[rule] += 1
    if stage == 'multispec' and len(names) > 1:
        tally['several specs in placement, several names'] += 1
    tally[f'{stage} {cause}'] += 1


class TestAliasConfig(testtools.TestCase):

    def compare(self, lines, placement):
        aliases, theirs = nova_failure(lines, placement)
        config = our_alias.parse_config(lines, pci_in_placement=placement)
        ours = our_failure(config)
        case = f'{lines} pci_in_placement={placement}'
        if theirs is None:
            self.assertIsNone(ours, case)
            self.assertEqual(aliases, config.aliases(), case)
            return aliases, None
        self.assertIsNotNone(ours, f'{case}: nova: {theirs}')
        # stage, line, cause and names exactly; nova's reason inside ours,
        # which may add a hint
        self.assertEqual(theirs[:4], ours[:4], case)
        self.assertIn(theirs[4], ours[4], case)
        return None, theirs

    def run_seed(self, seed):
        return seeds.run(self, seed, CASES, lambda rng, tally: tally_of(
            *self.compare(*alias_config(rng)), tally))

    def test_generated_configs(self):
        for seed in seeds.every_seed():
            tally = self.run_seed(seed)
            # a generator that drifts to refusals only tests nothing
            self.assertGreaterEqual(tally['valid'], CASES // 3,
                                    f'{seeds.label(seed)}: {tally}')
            self.assertGreaterEqual(tally['multispec path'], CASES // 4,
                                    f'{seeds.label(seed)}: {tally}')
            for kind in (*SAME_NAME_RULES.values(),
                         'several specs in placement, several names',
                         'valid, a name with several specs'):
                self.assertGreaterEqual(
                    tally[kind], 5, f'{seeds.label(seed)}: {kind}: {tally}')

    def test_multispec_names_in_order_of_first_line(self):
        # nova's _validate_multispec walks its alias dict, filled in the
        # order each name first appears; 'b' repeats before 'a' does
        lines = [json.dumps({'name': n, 'vendor_id': '10de',
                             'product_id': '2235', 'device_type': 'type-PF'})
                 for n in ('a', 'b', 'b', 'a')]
        _aliases, theirs = self.compare(lines, True)
        self.assertEqual(('a', 'b'), theirs[3])


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
    """Hypothesis: any generated alias list gets nova's verdict and kind."""

    test_generated_configs = None
    test_multispec_names_in_order_of_first_line = None

    @given(st.lists(ALIAS_LINE, min_size=1, max_size=3), st.booleans())
    def test_generated_lines_get_novas_verdict(self, lines, placement):
        self.compare(lines, placement)
