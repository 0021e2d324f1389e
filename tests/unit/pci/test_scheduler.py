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

"""The scheduler rules: each fires, each stays quiet."""

import dataclasses

import testtools

from gpupassthrough_osc.pci import audit
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import scheduler
from tests.unit.pci import builders as base

A40 = base.alias('gpuA40', device_type='type-PF')
DEFAULT_LINE = ('[filter_scheduler] enabled_filters = ComputeFilter,'
                'ComputeCapabilitiesFilter,ImagePropertiesFilter,'
                'ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter')


def controller(*aliases, path='controller.conf', **options):
    """A nova.conf that sets scheduler options, as a controller's does."""
    return dataclasses.replace(
        base.conf(*aliases, path=path),
        controller_markers=['[filter_scheduler] enabled_filters'],
        **options)


def with_pci_filter(**options):
    return controller(A40, enabled_filters=list(
        scheduler.DEFAULT_ENABLED_FILTERS) + ['PciPassthroughFilter'],
        **options)


def numa_flavor(name='pinned', **specs):
    return model.Flavor('id-' + name, name,
                        specs or {'hw:cpu_policy': 'dedicated'})


def findings(rule, **kw):
    kw.setdefault('nodes', base.nodes('gpu1', 'gpu2'))
    return rule(model.Inventory(**kw))


def by_code(found):
    return [(f.code, f.severity, f.subject) for f in found]


class TestGuestNumaTopology(testtools.TestCase):

    def test_what_gives_a_topology(self):
        for specs in ({'hw:numa_nodes': '1'},
                      {'hw:cpu_policy': 'dedicated'},
                      {'hw:cpu_policy': 'mixed'},
                      {'resources:PCPU': '4'},
                      {'resources1:PCPU': '2'},
                      {'hw:mem_page_size': 'small'},
                      {'hw:mem_page_size': '2048'},
                      {'hw:pmem': '6GB'}):
            self.assertTrue(scheduler.has_guest_numa_topology(specs), specs)

    def test_what_does_not(self):
        for specs in ({},
                      {'hw:cpu_policy': 'shared'},
                      {'hw:numa_cpus.0': '0-1', 'hw:numa_mem.0': '1024'},
                      {'hw:pci_numa_affinity_policy': 'required'},
                      {'resources:VCPU': '4'},
                      {'resources:PCPU': '0'},
                      {'hw:mem_page_size': '0'},
                      {'hw:pmem': ' , '},
                      {'hw:emulator_threads_policy': 'share'},
                      {'pci_passthrough:alias': 'gpuA40:1'}):
            self.assertFalse(scheduler.has_guest_numa_topology(specs), specs)

    def test_reason_names_the_spec(self):
        self.assertEqual('resources:PCPU=4',
                         scheduler.guest_numa_topology_reason(
                             {'resources:PCPU': '4'}))


class TestWhichConf(testtools.TestCase):

    def test_no_conf_is_nova_defaults_with_a_note(self):
        confs, note = scheduler.scheduler_confs([])
        self.assertEqual([scheduler.NOVA_DEFAULTS], confs)
        self.assertIn("nova 34's defaults", note)

    def test_single_conf_is_assumed_and_said(self):
        only = base.conf()
        confs, note = scheduler.scheduler_confs([only])
        self.assertEqual([only], confs)
        self.assertIn('taken as the scheduler', note)

    def test_controller_among_computes(self):
        ctl = controller()
        confs, note = scheduler.scheduler_confs(
            [base.conf(path='compute.conf'), ctl])
        self.assertEqual([ctl], confs)
        self.assertIsNone(note)

    def test_no_controller_among_several(self):
        confs, note = scheduler.scheduler_confs(
            [base.conf(path='a.conf'), base.conf(path='b.conf')])
        self.assertEqual([scheduler.NOVA_DEFAULTS], confs)
        self.assertIn('a.conf, b.conf', note)

    def test_provided_filters(self):
        names, opaque = scheduler.provided_filters([
            scheduler.ALL_FILTERS, 'acme.filters.GpuFilter',
            'acme.filters.all_acme_filters'])
        self.assertIn('PciPassthroughFilter', names)
        self.assertIn('GpuFilter', names)
        self.assertEqual(['acme.filters.all_acme_filters'], opaque)


class TestPciNotScheduled(testtools.TestCase):

    def run_rule(self, **kw):
        kw.setdefault('confs', [base.conf(A40)])
        kw.setdefault('flavors', [base.flavor('gpuA40:1')])
        return findings(scheduler.pci_flavors_not_scheduled, **kw)

    def test_mixed_fleet_with_novas_default_filters_errors(self):
        # the boot-truth scenario: one GPU host, one without
        found = self.run_rule(pools=[base.A40_PF_POOL])
        self.assertEqual(
            [('FLAVOR_PCI_NOT_SCHEDULED', 'error', 'flavor gpu'),
             ('SCHEDULER_PCI_FILTER_MISSING', 'error',
              'nova.conf [filter_scheduler] enabled_filters')],
            by_code(found))
        message = found[0].message
        self.assertIn('1 of 2 live host(s) cannot hold it now', message)
        self.assertIn("'Insufficient compute resources: Claim pci failed.'",
                      message)
        self.assertIn('max_attempts = 3', message)
        self.assertIn("'Exceeded maximum number of retries'", message)
        self.assertEqual(f'{DEFAULT_LINE},PciPassthroughFilter in '
                         f'nova.conf, then restart nova-scheduler',
                         found[0].fix)
        self.assertEqual(found[0].fix, found[1].fix)

    def test_every_host_has_the_devices_warns(self):
        found = self.run_rule(pools=[base.A40_PF_POOL],
                              nodes=base.nodes('gpu1'))
        self.assertEqual(
            [('FLAVOR_PCI_NOT_SCHEDULED', 'warning', 'flavor gpu'),
             ('SCHEDULER_PCI_FILTER_MISSING', 'warning',
              'nova.conf [filter_scheduler] enabled_filters')],
            by_code(found))
        self.assertIn('every one of the 1 live host(s)', found[0].message)

    def test_deleted_nodes_do_not_count(self):
        # 'old' is deleted, its rows left behind; 'gone' has no devices
        found = self.run_rule(
            pools=[base.A40_PF_POOL, base.pool(2, '2235', 'type-PF')],
            nodes=base.nodes('gpu1', 'old', 'gone', deleted=(2, 3)))
        self.assertEqual('warning', found[0].severity)

    def test_no_host_can_hold_it_errors(self):
        found = self.run_rule(pools=[base.pool(1, '2235', 'type-PF',
                                               used=1)])
        self.assertEqual('error', found[0].severity)
        self.assertIn('none of the 2 live host(s) can hold it now',
                      found[0].message)

    def test_a_host_busy_now_errors(self):
        found = self.run_rule(
            pools=[base.A40_PF_POOL,
                   base.pool(2, '2235', 'type-PF', used=1)])
        self.assertEqual('error', found[0].severity)

    def test_no_device_data_errors(self):
        found = self.run_rule(pools=None)
        self.assertEqual('error', found[0].severity)
        self.assertIn('without device data', found[0].message)

    def test_numa_flavors_add_their_filter_to_the_line(self):
        found = self.run_rule(pools=[base.A40_PF_POOL], flavors=[
            base.flavor('gpuA40:1'), numa_flavor()])
        self.assertIn(',PciPassthroughFilter,NUMATopologyFilter in ',
                      found[0].fix)

    def test_custom_available_filters_get_the_class_path(self):
        found = self.run_rule(pools=[base.A40_PF_POOL], confs=[controller(
            A40, available_filters=[
                'nova.scheduler.filters.compute_filter.ComputeFilter'],
            enabled_filters=['ComputeFilter'])])
        self.assertIn('enabled_filters = ComputeFilter,PciPassthroughFilter'
                      ' and available_filters = nova.scheduler.filters.'
                      'pci_passthrough_filter.PciPassthroughFilter',
                      found[0].fix)

    def test_filter_enabled_quiet(self):
        self.assertEqual([], self.run_rule(pools=[base.A40_PF_POOL],
                                           confs=[with_pci_filter()]))

    def test_controller_decides_not_the_compute(self):
        self.assertEqual([], self.run_rule(
            pools=[base.A40_PF_POOL],
            confs=[base.conf(A40, path='compute.conf'), with_pci_filter()]))

    def test_pci_in_placement_quiet(self):
        self.assertEqual([], self.run_rule(
            pools=[base.A40_PF_POOL],
            confs=[controller(A40, pci_in_placement=True)]))

    def test_undefined_alias_never_reaches_the_scheduler(self):
        self.assertEqual([], self.run_rule(
            pools=[base.A40_PF_POOL], flavors=[base.flavor('gpuA4O:1')]))

    def test_no_pci_flavor_quiet(self):
        self.assertEqual([], self.run_rule(
            pools=[base.A40_PF_POOL],
            flavors=[model.Flavor('x', 'plain', {})]))


class TestNumaNotFiltered(testtools.TestCase):

    def test_dedicated_cpus_warn(self):
        found = findings(scheduler.numa_flavors_not_filtered,
                         confs=[base.conf()], flavors=[numa_flavor()])
        self.assertEqual(
            [('FLAVOR_NUMA_NOT_FILTERED', 'warning', 'flavor pinned')],
            by_code(found))
        self.assertIn('(hw:cpu_policy=dedicated)', found[0].message)
        self.assertIn("instead of 'No valid host was found'",
                      found[0].message)
        self.assertIn(f'{DEFAULT_LINE},NUMATopologyFilter in nova.conf',
                      found[0].fix)

    def test_filter_enabled_quiet(self):
        self.assertEqual([], findings(
            scheduler.numa_flavors_not_filtered, flavors=[numa_flavor()],
            confs=[controller(enabled_filters=['NUMATopologyFilter'])]))

    def test_shared_cpus_quiet(self):
        self.assertEqual([], findings(
            scheduler.numa_flavors_not_filtered, confs=[base.conf()],
            flavors=[numa_flavor(**{'hw:cpu_policy': 'shared'})]))


class TestFiltersNotAvailable(testtools.TestCase):

    def run_rule(self, **options):
        return findings(scheduler.filters_not_available,
                        confs=[controller(**options)])

    def test_misspelled_filter_stops_the_scheduler(self):
        found = self.run_rule(enabled_filters=['ComputeFilter',
                                               'PCIPassthroughFilter'])
        self.assertEqual(
            [('SCHEDULER_FILTER_NOT_FOUND', 'error',
              'controller.conf [filter_scheduler] enabled_filters')],
            by_code(found))
        self.assertIn("'Scheduler Host Filter PCIPassthroughFilter could "
                      "not be found.'", found[0].message)
        self.assertIn('did you mean PciPassthroughFilter?', found[0].fix)

    def test_nova_filter_missing_from_a_custom_list(self):
        found = self.run_rule(
            enabled_filters=['ComputeFilter', 'PciPassthroughFilter'],
            available_filters=[
                'nova.scheduler.filters.compute_filter.ComputeFilter'])
        self.assertEqual('error', found[0].severity)
        self.assertIn('add available_filters = nova.scheduler.filters.'
                      'pci_passthrough_filter.PciPassthroughFilter',
                      found[0].fix)

    def test_unreadable_provider_warns(self):
        found = self.run_rule(
            enabled_filters=['GpuFilter'],
            available_filters=['acme.filters.all_acme_filters'])
        self.assertEqual('warning', found[0].severity)

    def test_defaults_and_own_classes_quiet(self):
        self.assertEqual([], self.run_rule())
        self.assertEqual([], self.run_rule(
            enabled_filters=['ComputeFilter', 'GpuFilter'],
            available_filters=[scheduler.ALL_FILTERS,
                               'acme.filters.GpuFilter']))


class TestAssumptionNote(testtools.TestCase):

    def test_single_conf_with_pci_flavor_is_noted(self):
        found = findings(scheduler.scheduler_conf_assumed,
                         confs=[base.conf(A40)],
                         flavors=[base.flavor('gpuA40:1')])
        self.assertEqual([('NOTE', 'info', 'audit')], by_code(found))

    def test_quiet_without_flavors_or_with_a_controller(self):
        self.assertEqual([], findings(scheduler.scheduler_conf_assumed,
                                      confs=[base.conf(A40)], flavors=[]))
        self.assertEqual([], findings(scheduler.scheduler_conf_assumed,
                                      confs=[controller(A40)],
                                      flavors=[base.flavor('gpuA40:1')]))

    def test_registered_in_the_audit(self):
        codes = {f.code for f in audit.run(model.Inventory(
            confs=[base.conf(A40)], pools=[base.A40_PF_POOL],
            nodes=base.nodes('gpu1', 'gpu2'),
            flavors=[base.flavor('gpuA40:1'), numa_flavor()]))}
        self.assertTrue({'FLAVOR_PCI_NOT_SCHEDULED',
                         'SCHEDULER_PCI_FILTER_MISSING',
                         'FLAVOR_NUMA_NOT_FILTERED', 'NOTE'} <= codes)
