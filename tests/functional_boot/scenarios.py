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

"""The boot-truth scenarios: clouds, flavors and what nova 34 did.

Each scenario is a small cloud (hosts with cards on NUMA nodes, nova.conf
options, flavors) and, per flavor, the outcome seen booting it on nova's
own services: ``ACTIVE``, ``ERROR: <fault fragment>`` or
``REFUSED: <API error fragment>``. The suite checks both that nova still
does this and that the audit says so: an error finding on the flavor
exactly when its boots fail, carrying the codes in ``causes``.

``gap`` marks a scenario whose outcome the audit does not model yet: it
runs as an expected failure with that reason, and turns into an
unexpected success (a red run) the day the audit learns it.
"""

import dataclasses
import json

from tests.functional_boot import catalog as c

# nova 34's default [filter_scheduler] enabled_filters (nova/conf/scheduler.py)
NOVA_DEFAULT_FILTERS = (
    'ComputeFilter', 'ComputeCapabilitiesFilter', 'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter')
# what nova's PCI passthrough guide asks for
PCI_FILTERS = NOVA_DEFAULT_FILTERS + ('PciPassthroughFilter',
                                      'NUMATopologyFilter')
NO_NUMA_FILTER = NOVA_DEFAULT_FILTERS + ('PciPassthroughFilter',)

ACTIVE = 'ACTIVE'
NO_VALID_HOST = 'ERROR: No valid host was found'
RETRIES = 'ERROR: Exceeded maximum number of retries'

DEDICATED = {'hw:cpu_policy': 'dedicated'}

# finding codes that say "this flavor cannot boot" and why
UNSATISFIABLE = 'FLAVOR_UNSATISFIABLE'
NO_FREE = 'FLAVOR_NO_FREE_CAPACITY'
UNDEFINED = 'FLAVOR_ALIAS_UNDEFINED'
NOT_SCHEDULED = 'FLAVOR_PCI_NOT_SCHEDULED'
NO_CANDIDATE = 'FLAVOR_PLACEMENT_NO_CANDIDATE'
NUMA_UNSATISFIABLE = 'FLAVOR_NUMA_UNSATISFIABLE'
# the flavor-level finding for "nova-api does not start with this alias"
ALIAS_INVALID = 'FLAVOR_BLOCKED_BY_BAD_ALIAS'
# the audit's verdict "fails now": an error finding on the flavor, or no
# free capacity right now (a warning: the cloud is full, not broken)
FAILS_NOW = (NO_FREE, 'FLAVOR_NUMA_NO_FREE_CAPACITY')


def alias(name, vendor_id, product_id, **extra):
    return json.dumps({'name': name, 'vendor_id': vendor_id,
                       'product_id': product_id, **extra})


def pci(value, **specs):
    return {'pci_passthrough:alias': value, **specs}


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    # host name -> ((card, numa node), ...)
    hosts: dict
    aliases: tuple
    flavors: dict               # flavor name -> extra specs
    outcome: dict               # flavor name -> what nova did
    causes: dict = dataclasses.field(default_factory=dict)
    device_spec: tuple | None = None    # default: every card's functions
    filters: tuple = PCI_FILTERS
    report_in_placement: bool = False
    pci_in_placement: bool = False
    boots: int = 1              # per flavor; several where hosts vary
    # before the boots: 'full' fills every device, 'leak' leaves a device
    # allocated to a server deleted while its compute was down
    state: str = ''
    fix: bool = False           # apply the audit's Fix column, boot again
    gap: str = ''

    def device_specs(self):
        if self.device_spec is not None:
            return list(self.device_spec)
        seen = []
        for cards in self.hosts.values():
            for card, _numa in cards:
                for fn in card.functions:
                    spec = json.dumps({'vendor_id': fn.vendor_id,
                                       'product_id': fn.product_id})
                    if spec not in seen:
                        seen.append(spec)
        return seen


A40 = alias('gpuA40', '10de', '2235')
A40_PF = alias('gpuA40', '10de', '2235', device_type='type-PF')
A40_PCI = alias('gpuA40', '10de', '2235', device_type='type-PCI')
V100S = alias('v100s', '10de', '1df6')
V100S_PCI = alias('v100s', '10de', '1df6', device_type='type-PCI')
V100S_PF = alias('v100s', '10de', '1df6', device_type='type-PF')
RTX6000 = alias('rtx6000', '10de', '1e30')
RTX3080 = alias('gpu3080', '10de', '2206')
RTX3090 = alias('gpu3090', '10de', '2204')
GA102_AUDIO = alias('ga102audio', '10de', '1aef')
NVME = alias('nvme155', '144d', 'a808')
NIC_VF = alias('nicvf', '8086', '1515')
NIC_VF_TYPED = alias('nicvf', '8086', '1515', device_type='type-VF')
NIC_PF = alias('nicpf', '8086', '1528', device_type='type-PF')

PLAIN = ()      # a host with no passthrough devices


def _v100s_split(**kw):
    """Two V100S on one host, one per NUMA node."""
    return {'compute1': ((c.V100S, 0), (c.V100S, 1))}


SCENARIOS = [
    # --- device_type against what nova recorded -------------------------
    Scenario(
        'a40_alias_without_device_type',
        "the seed: A40 recorded as type-PF, alias without device_type",
        {'compute1': ((c.A40, 0),)}, (A40,),
        {'gpu.a40': pci('gpuA40:1')},
        {'gpu.a40': NO_VALID_HOST},
        causes={'gpu.a40': (UNSATISFIABLE, 'ALIAS_DROPS_PF')}, fix=True),
    Scenario(
        'a40_alias_type_pf', 'the fixed seed: alias says type-PF',
        {'compute1': ((c.A40, 0),)}, (A40_PF,),
        {'gpu.a40': pci('gpuA40:1')}, {'gpu.a40': ACTIVE}),
    Scenario(
        'a40_alias_type_pci', 'A40 alias says type-PCI: nothing matches',
        {'compute1': ((c.A40, 0),)}, (A40_PCI,),
        {'gpu.a40': pci('gpuA40:1')}, {'gpu.a40': NO_VALID_HOST},
        causes={'gpu.a40': (UNSATISFIABLE, 'ALIAS_DEVICE_TYPE_MISMATCH')},
        fix=True),
    Scenario(
        'v100s_alias_without_device_type', 'V100S is type-PCI: no type needed',
        {'compute1': ((c.V100S, 0),)}, (V100S,),
        {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': ACTIVE}),
    Scenario(
        'v100s_alias_type_pci', 'V100S alias says type-PCI',
        {'compute1': ((c.V100S, 0),)}, (V100S_PCI,),
        {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': ACTIVE}),
    Scenario(
        'v100s_alias_type_pf', 'V100S alias says type-PF: nothing matches',
        {'compute1': ((c.V100S, 0),)}, (V100S_PF,),
        {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': NO_VALID_HOST},
        causes={'gpu.v100s': (UNSATISFIABLE, 'ALIAS_DEVICE_TYPE_MISMATCH')},
        fix=True),
    Scenario(
        'nic_vf_alias_without_device_type', 'SR-IOV NIC: alias for its VFs',
        {'compute1': ((c.NIC, 0),)}, (NIC_VF,),
        {'vf.small': pci('nicvf:2')}, {'vf.small': ACTIVE}),
    Scenario(
        'nic_vf_alias_type_vf', 'SR-IOV NIC: alias says type-VF',
        {'compute1': ((c.NIC, 0),)}, (NIC_VF_TYPED,),
        {'vf.small': pci('nicvf:1')}, {'vf.small': ACTIVE}),
    Scenario(
        'nic_pf_alias_type_pf', 'SR-IOV NIC: the whole PF, type-PF',
        {'compute1': ((c.NIC, 0),)}, (NIC_PF,),
        {'pf.whole': pci('nicpf:1')}, {'pf.whole': ACTIVE}),
    Scenario(
        'rtx6000_gpu_function_only',
        'Quadro RTX 6000 with audio, USB and UCSI functions: GPU alias',
        {'compute1': ((c.RTX6000, 0),)}, (RTX6000,),
        {'gpu.rtx6000': pci('rtx6000:1')}, {'gpu.rtx6000': ACTIVE}),
    Scenario(
        'rtx3090_with_audio', 'RTX 3090 and its audio function together',
        {'compute1': ((c.RTX3090, 0),)}, (RTX3090, GA102_AUDIO),
        {'gpu.3090': pci('gpu3090:1,ga102audio:1')}, {'gpu.3090': ACTIVE}),
    Scenario(
        'audio_not_in_device_spec',
        'RTX 3080 audio asked for but device_spec lists only the GPU',
        {'compute1': ((c.RTX3080, 0),)}, (RTX3080, GA102_AUDIO),
        {'gpu.3080': pci('gpu3080:1,ga102audio:1')},
        {'gpu.3080': NO_VALID_HOST},
        device_spec=(json.dumps({'vendor_id': '10de',
                                 'product_id': '2206'}),),
        causes={'gpu.3080': (UNSATISFIABLE,)}),
    # --- several devices and aliases ------------------------------------
    Scenario(
        'nvme_and_gpu_on_one_host', "the seed's nvme155:1,gpu3080:1",
        {'compute1': ((c.NVME, 0), (c.RTX3080, 0))}, (NVME, RTX3080),
        {'gpu.nvme': pci('nvme155:1,gpu3080:1')}, {'gpu.nvme': ACTIVE}),
    Scenario(
        'nvme_and_gpu_on_two_hosts',
        'nvme155:1,gpu3080:1 with the drive and the GPU on different hosts',
        {'compute1': ((c.NVME, 0),), 'compute2': ((c.RTX3080, 0),)},
        (NVME, RTX3080), {'gpu.nvme': pci('nvme155:1,gpu3080:1')},
        {'gpu.nvme': NO_VALID_HOST}, boots=2,
        causes={'gpu.nvme': (UNSATISFIABLE,)}),
    Scenario(
        'eight_gpus_one_host', 'eight RTX 3090 on two NUMA nodes, :8',
        {'compute1': tuple((c.RTX3090, n % 2) for n in range(8))},
        (RTX3090,), {'gpu.x8': pci('gpu3090:8')}, {'gpu.x8': ACTIVE},
        device_spec=(json.dumps({'vendor_id': '10de',
                                 'product_id': '2204'}),)),
    Scenario(
        'four_gpus_over_two_hosts', ':4 with two GPUs on each of two hosts',
        {'compute1': ((c.V100S, 0), (c.V100S, 1)),
         'compute2': ((c.V100S, 0), (c.V100S, 1))},
        (V100S,), {'gpu.x4': pci('v100s:4')}, {'gpu.x4': NO_VALID_HOST},
        boots=2,
        causes={'gpu.x4': (UNSATISFIABLE,)}),
    Scenario(
        'same_name_alternatives',
        'two entries named gpu (3080 or 3090): either card serves',
        {'compute1': ((c.RTX3090, 0),)},
        (alias('gpu', '10de', '2206', device_type='type-PCI'),
         alias('gpu', '10de', '2204', device_type='type-PCI')),
        {'gpu.any': pci('gpu:1')}, {'gpu.any': ACTIVE}),
    # --- aliases nova does not know or refuses --------------------------
    Scenario(
        'undefined_alias', 'the flavor names an alias nova.conf lacks',
        {'compute1': ((c.V100S, 0),)}, (V100S,),
        {'gpu.typo': pci('v100:1')},
        {'gpu.typo': 'REFUSED: PCI alias v100 is not defined'},
        causes={'gpu.typo': (UNDEFINED,)}),
    Scenario(
        'same_name_mixed_device_type',
        "two entries named gpu, one without device_type: nova-api refuses "
        "to start",
        {'compute1': ((c.RTX3090, 0),)},
        (alias('gpu', '10de', '2206'),
         alias('gpu', '10de', '2204', device_type='type-PCI')),
        {'gpu.any': pci('gpu:1')},
        {'gpu.any': "NO API: Invalid PCI alias definition: 'dev_type'"},
        causes={'gpu.any': (ALIAS_INVALID,)}),
    Scenario(
        'alias_unknown_key', 'an alias with a misspelt key (device-type)',
        {'compute1': ((c.V100S, 0),)},
        ('{"name": "v100s", "vendor_id": "10de", "product_id": "1df6", '
         '"device-type": "type-PCI"}',),
        {'gpu.v100s': pci('v100s:1')},
        {'gpu.v100s': 'NO API: Invalid PCI alias definition'},
        causes={'gpu.v100s': (ALIAS_INVALID,)}),
    # --- NUMA affinity ---------------------------------------------------
    Scenario(
        'numa_split_dedicated',
        'two V100S on nodes 0 and 1, :2 with dedicated CPUs',
        _v100s_split(), (V100S,),
        {'gpu.x2.pinned': pci('v100s:2', **DEDICATED)},
        {'gpu.x2.pinned': NO_VALID_HOST},
        causes={'gpu.x2.pinned': (NUMA_UNSATISFIABLE,)}),
    Scenario(
        'numa_split_shared', 'the same :2 with shared CPUs boots',
        _v100s_split(), (V100S,), {'gpu.x2': pci('v100s:2')},
        {'gpu.x2': ACTIVE}),
    Scenario(
        'numa_split_dedicated_two_guest_nodes',
        ':2 dedicated with hw:numa_nodes=2 spans both host nodes',
        _v100s_split(), (V100S,),
        {'gpu.x2.numa2': pci('v100s:2', **DEDICATED,
                             **{'hw:numa_nodes': '2'})},
        {'gpu.x2.numa2': ACTIVE}),
    Scenario(
        'numa_split_flavor_preferred',
        ':2 dedicated with hw:pci_numa_affinity_policy=preferred',
        _v100s_split(), (V100S,),
        {'gpu.x2.pref': pci('v100s:2', **DEDICATED, **{
            'hw:pci_numa_affinity_policy': 'preferred'})},
        {'gpu.x2.pref': ACTIVE}),
    Scenario(
        'numa_split_alias_preferred',
        ':2 dedicated, the alias says numa_policy preferred',
        _v100s_split(), (alias('v100s', '10de', '1df6',
                               numa_policy='preferred'),),
        {'gpu.x2.pinned': pci('v100s:2', **DEDICATED)},
        {'gpu.x2.pinned': ACTIVE}),
    Scenario(
        'numa_flavor_required_beats_alias_preferred',
        'alias preferred, flavor hw:pci_numa_affinity_policy=required',
        _v100s_split(), (alias('v100s', '10de', '1df6',
                               numa_policy='preferred'),),
        {'gpu.x2.req': pci('v100s:2', **DEDICATED, **{
            'hw:pci_numa_affinity_policy': 'required'})},
        {'gpu.x2.req': NO_VALID_HOST},
        causes={'gpu.x2.req': (NUMA_UNSATISFIABLE,)}),
    Scenario(
        'numa_socket_policy_one_socket',
        'alias numa_policy socket, both nodes in one socket',
        _v100s_split(), (alias('v100s', '10de', '1df6',
                               numa_policy='socket'),),
        {'gpu.x2.socket': pci('v100s:2', **DEDICATED)},
        {'gpu.x2.socket': ACTIVE}),
    Scenario(
        'numa_required_without_guest_topology',
        'alias numa_policy required, shared CPUs: not enforced',
        {'compute1': ((c.V100S, 1),)}, (alias('v100s', '10de', '1df6',
                                              numa_policy='required'),),
        {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': ACTIVE}),
    Scenario(
        'numa_required_local_device',
        'alias numa_policy required, dedicated, one GPU per node',
        _v100s_split(), (alias('v100s', '10de', '1df6',
                               numa_policy='required'),),
        {'gpu.x1.req': pci('v100s:1', **DEDICATED)},
        {'gpu.x1.req': ACTIVE}),
    Scenario(
        'numa_page_size_makes_topology',
        ':2 split, hw:mem_page_size=small gives the guest a NUMA topology',
        _v100s_split(), (V100S,),
        {'gpu.x2.pages': pci('v100s:2', **{'hw:mem_page_size': 'small'})},
        {'gpu.x2.pages': NO_VALID_HOST},
        causes={'gpu.x2.pages': (NUMA_UNSATISFIABLE,)}),
    Scenario(
        'numa_split_two_hosts_one_fits',
        ':2 dedicated, one host split and one with both GPUs on node 0',
        {'compute1': ((c.V100S, 0), (c.V100S, 1)),
         'compute2': ((c.V100S, 0), (c.V100S, 0))}, (V100S,),
        {'gpu.x2.pinned': pci('v100s:2', **DEDICATED)},
        {'gpu.x2.pinned': ACTIVE}, boots=2),
    # --- the scheduler's filters ----------------------------------------
    Scenario(
        'no_pci_filter_mixed_fleet',
        "nova's default filters: one V100S host and four plain hosts",
        {'compute1': ((c.V100S, 0),), 'compute2': PLAIN,
         'compute3': PLAIN, 'compute4': PLAIN, 'compute5': PLAIN},
        (V100S,), {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': RETRIES},
        filters=NOVA_DEFAULT_FILTERS, boots=3,
        causes={'gpu.v100s': (NOT_SCHEDULED,
                              'SCHEDULER_PCI_FILTER_MISSING')}, fix=True),
    Scenario(
        'no_pci_filter_every_host_has_gpu',
        "nova's default filters, but every host has the GPU",
        {'compute1': ((c.V100S, 0),), 'compute2': ((c.V100S, 0),)},
        (V100S,), {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': ACTIVE},
        filters=NOVA_DEFAULT_FILTERS, boots=2),
    Scenario(
        'no_numa_filter_split_dedicated',
        'PciPassthroughFilter on, NUMATopologyFilter off, :2 split pinned',
        _v100s_split(), (V100S,),
        {'gpu.x2.pinned': pci('v100s:2', **DEDICATED)},
        {'gpu.x2.pinned': RETRIES}, filters=NO_NUMA_FILTER,
        causes={'gpu.x2.pinned': (NUMA_UNSATISFIABLE,
                                  'FLAVOR_NUMA_NOT_FILTERED')}),
    # --- PCI in placement ------------------------------------------------
    Scenario(
        'placement_schedules_pci_without_filter',
        'report_in_placement + pci_in_placement, default filters, mixed '
        'fleet',
        {'compute1': ((c.V100S, 0),), 'compute2': PLAIN, 'compute3': PLAIN},
        (V100S,), {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': ACTIVE},
        filters=NOVA_DEFAULT_FILTERS, report_in_placement=True,
        pci_in_placement=True, boots=2),
    Scenario(
        'placement_resource_class_matches',
        'alias resource_class equals the device_spec resource_class',
        {'compute1': ((c.V100S, 0),)},
        ('{"name": "v100s", "resource_class": "CUSTOM_GPU_V100S"}',),
        {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': ACTIVE},
        device_spec=(json.dumps({'vendor_id': '10de', 'product_id': '1df6',
                                 'resource_class': 'CUSTOM_GPU_V100S'}),),
        report_in_placement=True, pci_in_placement=True),
    Scenario(
        'placement_resource_class_mismatch',
        'alias resource_class differs from the device_spec one',
        {'compute1': ((c.V100S, 0),)},
        ('{"name": "v100s", "resource_class": "CUSTOM_GPU_TESLA"}',),
        {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': NO_VALID_HOST},
        device_spec=(json.dumps({'vendor_id': '10de', 'product_id': '1df6',
                                 'resource_class': 'CUSTOM_GPU_V100S'}),),
        report_in_placement=True, pci_in_placement=True,
        causes={'gpu.v100s': (NO_CANDIDATE,)}, fix=True),
    Scenario(
        'placement_trait_missing',
        'alias asks for a trait the device_spec does not give',
        {'compute1': ((c.V100S, 0),)},
        (alias('v100s', '10de', '1df6', traits='CUSTOM_NVLINK'),),
        {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': NO_VALID_HOST},
        report_in_placement=True, pci_in_placement=True,
        causes={'gpu.v100s': (NO_CANDIDATE,)}, fix=True),
    # --- capacity ---------------------------------------------------------
    Scenario(
        'host_already_full', 'the only V100S is taken by a running server',
        {'compute1': ((c.V100S, 0),)}, (V100S,),
        {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': NO_VALID_HOST},
        state='full', causes={'gpu.v100s': (NO_FREE,)}),
    Scenario(
        'device_held_by_deleted_server',
        'a server deleted while its compute was down still holds the GPU',
        {'compute1': ((c.V100S, 0),)}, (V100S,),
        {'gpu.v100s': pci('v100s:1')}, {'gpu.v100s': NO_VALID_HOST},
        state='leak', causes={'gpu.v100s': (NO_FREE, 'PCI_DEVICE_LEAKED')},
        fix=True),
]

BY_NAME = {s.name: s for s in SCENARIOS}
