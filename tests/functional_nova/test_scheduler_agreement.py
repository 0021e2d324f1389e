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

"""pci.scheduler and sources.novaconf against nova 34's own code.

The scheduler options are read by nova's registration
(``nova.conf.scheduler.register_opts``) and ours from the same files; the
filter names come from nova's loader (``all_filters`` and
``get_matching_classes``); the guest NUMA topology predicate is compared
with ``nova.virt.hardware.numa_get_constraints`` on generated flavors.
"""

import itertools
import os
import random

import fixtures
from oslo_config import cfg
import testtools

from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import scheduler
from gpupassthrough_osc.sources import novaconf
from tests.functional_nova import test_agreement

OPTIONS = (('filter_scheduler', 'enabled_filters'),
           ('filter_scheduler', 'available_filters'),
           ('filter_scheduler', 'pci_in_placement'),
           ('scheduler', 'max_attempts'))

CONF_FILES = [
    '',
    '[filter_scheduler]\nenabled_filters = ComputeFilter , '
    'PciPassthroughFilter,NUMATopologyFilter\n',
    '[filter_scheduler]\nenabled_filters =\npci_in_placement = true\n',
    '[filter_scheduler]\navailable_filters = nova.scheduler.filters.'
    'compute_filter.ComputeFilter\navailable_filters = acme.GpuFilter\n'
    '[scheduler]\nmax_attempts = 1\n',
]


def nova_values(path):
    """The four options as nova's own registration reads ``path``."""
    from nova.conf import scheduler as nova_scheduler

    conf = cfg.ConfigOpts()
    nova_scheduler.register_opts(conf)
    conf([], project='nova', default_config_files=[path],
         default_config_dirs=[], use_env=False)
    values = {(g, o): getattr(getattr(conf, g), o) for g, o in OPTIONS}
    conf.reset()
    return values


class TestOptions(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def test_defaults_are_novas(self):
        from nova.conf import scheduler as nova_scheduler

        opts = {(group.name, opt.name): opt for group, opt_list in
                nova_scheduler.list_opts().items() for opt in opt_list}
        ours = scheduler.NOVA_DEFAULTS
        self.assertEqual(
            {('filter_scheduler', 'enabled_filters'):
                list(ours.enabled_filters),
             ('filter_scheduler', 'available_filters'):
                list(ours.available_filters),
             ('filter_scheduler', 'pci_in_placement'):
                ours.pci_in_placement,
             ('scheduler', 'max_attempts'): ours.max_attempts},
            {key: opts[key].default for key in OPTIONS})
        self.assertEqual(1, opts[('scheduler', 'max_attempts')].type.min)

    def test_same_values_from_the_same_files(self):
        for index, text in enumerate(CONF_FILES):
            path = os.path.join(self.dir, f'{index}.conf')
            with open(path, 'w') as f:
                f.write(text)
            ours = novaconf.load(path)
            self.assertEqual(nova_values(path), {
                ('filter_scheduler', 'enabled_filters'):
                    ours.enabled_filters,
                ('filter_scheduler', 'available_filters'):
                    ours.available_filters,
                ('filter_scheduler', 'pci_in_placement'):
                    ours.pci_in_placement,
                ('scheduler', 'max_attempts'): ours.max_attempts}, text)


class TestFilters(testtools.TestCase):

    def test_all_filters_is_novas(self):
        from nova.scheduler import filters

        self.assertEqual(
            {cls.__name__: cls.__module__ for cls in filters.all_filters()},
            scheduler.NOVA_FILTERS)

    def test_provided_names_as_novas_loader(self):
        from nova.scheduler import filters

        handler = filters.HostFilterHandler()
        entries = [scheduler.ALL_FILTERS] + [
            f'{module}.{name}'
            for name, module in sorted(scheduler.NOVA_FILTERS.items())]
        rng = random.Random(3)
        for _ in range(40):
            chosen = rng.sample(entries, rng.randint(0, 4))
            names, opaque = scheduler.provided_filters(chosen)
            self.assertEqual([], opaque)
            self.assertEqual(
                {cls.__name__
                 for cls in handler.get_matching_classes(chosen)},
                names, chosen)

    def test_not_found_in_novas_words(self):
        from nova import exception
        from nova.scheduler import host_manager

        conf = novaconf.NovaConf(
            path='c.conf', alias=[], device_spec=[],
            enabled_filters=['ComputeFilter', 'PCIPassthroughFilter'],
            available_filters=[scheduler.ALL_FILTERS],
            controller_markers=['[filter_scheduler] enabled_filters'])
        [found] = scheduler.filters_not_available(
            model.Inventory(confs=[conf]))

        class Manager:
            filter_obj_map = {}
            filter_cls_map = {
                cls.__name__: cls for cls in
                host_manager.filters.HostFilterHandler().get_matching_classes(
                    conf.available_filters)}

        exc = self.assertRaises(
            exception.SchedulerHostFilterNotFound,
            host_manager.HostManager._choose_host_filters, Manager(),
            conf.enabled_filters)
        self.assertIn(f"'{exc}'", found.message)


# Values that reach numa_get_constraints' topology decision; combinations
# nova refuses (it raises) are skipped.
SPEC_VALUES = {
    'hw:numa_nodes': [None, '1', '2'],
    'hw:cpu_policy': [None, 'shared', 'dedicated', 'mixed'],
    'hw:cpu_dedicated_mask': [None, '^0'],
    'hw:mem_page_size': [None, 'small', 'large', 'any', '2048', '0'],
    'hw:pmem': [None, '', ' , ', '6GB'],
    'resources:PCPU': [None, '0', '4'],
    'resources1:VCPU': [None, '4'],
    'hw:numa_cpus.0': [None, '0-3'],
    'hw:pci_numa_affinity_policy': [None, 'required'],
}


class TestGuestNumaTopology(testtools.TestCase):

    def test_same_as_numa_get_constraints(self):
        n = test_agreement.nova()
        from nova.virt import hardware

        image = n['objects'].ImageMeta.from_dict({})
        keys = sorted(SPEC_VALUES)
        judged = with_topology = 0
        for values in itertools.product(*(SPEC_VALUES[k] for k in keys)):
            specs = {k: v for k, v in zip(keys, values) if v is not None}
            flavor = n['objects'].Flavor(vcpus=4, memory_mb=2048,
                                         extra_specs=specs)
            try:
                topology = hardware.numa_get_constraints(flavor, image)
            except n['exception'].NovaException:
                continue
            judged += 1
            with_topology += topology is not None
            self.assertEqual(topology is not None,
                             scheduler.has_guest_numa_topology(specs),
                             specs)
        # the generator must reach both answers often
        self.assertGreater(with_topology, 100)
        self.assertGreater(judged - with_topology, 100)
