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

"""gpu flavor explain: each step of nova's path refuses where nova does."""

import dataclasses
from unittest import mock

from osc_lib import exceptions
import testtools

from gpupassthrough_osc.commands import explain as explain_cmd
from gpupassthrough_osc.pci import alias as pci_alias
from gpupassthrough_osc.pci import explain
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import scheduler
from tests.unit.pci import builders as t

FILTERS = list(scheduler.DEFAULT_ENABLED_FILTERS) + [scheduler.PCI_FILTER]


def conf(*aliases):
    return dataclasses.replace(t.conf(*aliases), enabled_filters=FILTERS)


def run(flavor, confs, pools, names=('gpu1', 'gpu2'), **kw):
    inventory = model.Inventory(confs=confs, pools=pools,
                                nodes=t.nodes(*names), flavors=[flavor])
    return explain.explain_flavor(inventory, flavor, **kw)


def by_host(result):
    return {r.host: r for r in result.hosts}


class TestExplainFlavor(testtools.TestCase):

    def test_seed_a40_refused_by_the_pf_filter(self):
        result = run(t.flavor('gpuA40:1'), [conf(t.alias('gpuA40'))],
                     [t.A40_PF_POOL])
        row = by_host(result)['gpu1']
        self.assertEqual((explain.NEVER, 'unrequested PF'),
                         (row.verdict, row.step))
        self.assertIn('"device_type": "type-PF"', row.reason)
        self.assertEqual(1, result.unlisted)     # gpu2 has nothing
        self.assertFalse(result.boots_now)

    def test_aliases_parsed_once(self):
        # the path rules run on a copy of the inventory: it shares the
        # parsed [pci] alias lines instead of parsing nova.conf again
        inventory = model.Inventory(
            confs=[conf(t.alias('gpuA40', device_type='type-PF'))],
            pools=[t.A40_PF_POOL], nodes=t.nodes('gpu1'))
        flavor = t.flavor('gpuA40:1')
        with mock.patch.object(pci_alias, 'parse_config',
                               wraps=pci_alias.parse_config) as parse:
            self.assertTrue(explain.explain_flavor(inventory,
                                                   flavor).boots_now)
        self.assertEqual(1, parse.call_count)

    def test_fixed_alias_fits_now(self):
        result = run(t.flavor('gpuA40:1'),
                     [conf(t.alias('gpuA40', device_type='type-PF'))],
                     [t.A40_PF_POOL])
        self.assertEqual(explain.NOW, by_host(result)['gpu1'].verdict)
        self.assertTrue(result.boots_now)

    def test_type_mismatch_refused_at_spec(self):
        result = run(t.flavor('v:1'),
                     [conf(t.alias('v', product_id='1df6',
                                   device_type='type-PF'))],
                     [t.pool(1, '1df6', 'type-PCI')], all_hosts=True)
        self.assertEqual('spec', by_host(result)['gpu1'].step)
        self.assertIn('asks for device_type type-PF but nova recorded '
                      'these devices as type-PCI',
                      by_host(result)['gpu1'].reason)
        self.assertEqual(1, by_host(result)['gpu1'].matching)
        self.assertEqual('spec', by_host(result)['gpu2'].step)

    def test_two_requests_must_share_a_host(self):
        result = run(t.flavor('a:1,b:1'),
                     [conf(t.alias('a', product_id='1df6'),
                           t.alias('b', product_id='2206'))],
                     [t.pool(1, '1df6', 'type-PCI'),
                      t.pool(2, '2206', 'type-PCI')])
        rows = by_host(result)
        self.assertEqual({'spec'}, {r.step for r in rows.values()})
        self.assertIn('needs b:1', rows['gpu1'].reason)
        self.assertIn('needs a:1', rows['gpu2'].reason)

    def test_each_fits_alone_but_not_together(self):
        result = run(t.flavor('a:1,b:1'),
                     [conf(t.alias('a', product_id='1df6'),
                           t.alias('b', product_id='1df6'))],
                     [t.pool(1, '1df6', 'type-PCI')])
        self.assertEqual('one host', by_host(result)['gpu1'].step)

    def test_taken_devices_fit_later(self):
        result = run(t.flavor('v:2'), [conf(t.alias('v', product_id='1df6'))],
                     [t.pool(1, '1df6', 'type-PCI', total=2, used=1)])
        row = by_host(result)['gpu1']
        self.assertEqual((explain.LATER, 'free devices', 2, 1),
                         (row.verdict, row.step, row.matching, row.free))
        self.assertFalse(result.boots_now)

    def test_undefined_alias_blocks_every_host(self):
        result = run(t.flavor('nope:1'), [conf(t.alias('gpuA40'))],
                     [t.A40_PF_POOL])
        self.assertEqual({'alias lookup'}, {r.step for r in result.hosts})
        self.assertIn('PCI alias nope is not defined', result.blocked)

    def test_invalid_alias_blocks_every_host(self):
        bad = dataclasses.replace(conf(), alias=['{"name": "x", "bad": 1}'])
        result = run(t.flavor('x:1'), [bad], [t.A40_PF_POOL])
        self.assertEqual({'alias parse'}, {r.step for r in result.hosts})

    def test_scheduler_without_pci_filter_refuses_the_path(self):
        unfiltered = dataclasses.replace(
            conf(t.alias('v', product_id='1df6')),
            enabled_filters=list(scheduler.DEFAULT_ENABLED_FILTERS))
        result = run(t.flavor('v:1'), [unfiltered],
                     [t.pool(1, '1df6', 'type-PCI')])
        self.assertEqual(explain.NOW, by_host(result)['gpu1'].verdict)
        self.assertEqual(['FLAVOR_PCI_NOT_SCHEDULED'],
                         [c for c, _m in result.refusals])
        self.assertFalse(result.boots_now)

    def test_host_option_lists_only_that_host(self):
        result = run(t.flavor('gpuA40:1'), [conf(t.alias('gpuA40'))],
                     [t.A40_PF_POOL], host='gpu2')
        self.assertEqual(['gpu2'], [r.host for r in result.hosts])


class TestRows(testtools.TestCase):

    def test_totals_row_counts_every_verdict(self):
        result = run(t.flavor('gpuA40:1'), [conf(t.alias('gpuA40'))],
                     [t.A40_PF_POOL])
        last = explain_cmd.rows(result)[-1]
        self.assertEqual(explain_cmd.TOTAL, last[1])
        self.assertIn('2 never fits', last[4])
        self.assertIn('1 more host(s)', last[6])

    def test_find_flavor_by_name_or_id_and_ambiguity(self):
        flavors = [t.flavor('a:1', name='x'), t.flavor('a:1', name='y'),
                   model.Flavor('id-z', 'x', {})]
        self.assertEqual('id-y', explain_cmd.find_flavor(flavors, 'y').id)
        self.assertEqual('x', explain_cmd.find_flavor(flavors, 'id-x').name)
        err = self.assertRaises(exceptions.CommandError,
                                explain_cmd.find_flavor,
                                flavors, 'x')
        self.assertIn('more than one flavor', str(err))
        err = self.assertRaises(exceptions.CommandError,
                                explain_cmd.find_flavor,
                                flavors, 'nope')
        self.assertIn("no flavor with name or ID 'nope'", str(err))
        self.assertIn('--flavors', str(self.assertRaises(
            exceptions.CommandError, explain_cmd.find_flavor, None, 'x')))


class TestMatchingCause(testtools.TestCase):

    def test_every_host_refused_matches_no_valid_host(self):
        result = run(t.flavor('gpuA40:1'), [conf(t.alias('gpuA40'))],
                     [t.A40_PF_POOL])
        cause = explain.matching_cause(
            result, 'No valid host was found. There are not enough hosts '
                    'available.')
        self.assertTrue(cause.startswith('matches:'), cause)
        self.assertIn('"unrequested PF"', cause)

    def test_unscheduled_pci_matches_retries_not_no_valid_host(self):
        unfiltered = dataclasses.replace(
            conf(t.alias('v', product_id='1df6')),
            enabled_filters=list(scheduler.DEFAULT_ENABLED_FILTERS))
        result = run(t.flavor('v:1'), [unfiltered],
                     [t.pool(1, '1df6', 'type-PCI')])
        retries = explain.matching_cause(
            result, 'Exceeded maximum number of retries. Exceeded max '
                    'scheduling attempts 3 for instance x. Last exception: '
                    'Insufficient compute resources: Claim pci failed.')
        self.assertIn('FLAVOR_PCI_NOT_SCHEDULED', retries)
        self.assertTrue(explain.matching_cause(
            result, 'No valid host was found.').startswith(
                'does not match'))

    def test_undefined_alias_and_unrelated_faults(self):
        result = run(t.flavor('nope:1'), [conf(t.alias('gpuA40'))],
                     [t.A40_PF_POOL])
        self.assertIn('PCI alias nope is not defined',
                      explain.matching_cause(
                          result, 'PCI alias nope is not defined'))
        self.assertIn('not one of nova',
                      explain.matching_cause(result, 'Disk full'))
        self.assertEqual('no PCI-related fault to explain',
                         explain.matching_cause(result, None))
