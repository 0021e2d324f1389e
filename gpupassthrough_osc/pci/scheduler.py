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

"""The scheduler's configuration: which filters run, and what nova does then.

nova-scheduler only checks what its ``[filter_scheduler] enabled_filters``
name (nova/scheduler/host_manager.py); nova 34's default list has neither
``PciPassthroughFilter`` nor ``NUMATopologyFilter`` (nova/conf/scheduler.py).
Without them the compute claim (nova/compute/claims.py) is the first check
of PCI devices and NUMA cells, and a failed claim turns into retries on
alternate hosts, not into "No valid host".

Which nova.conf is the scheduler's: among the ``--nova-conf`` files, those
that set an option of ``[filter_scheduler]`` or ``[scheduler]``, or
``[api_database] connection`` (which computes do not need), are the
controller's. A single file is taken as the controller's too. When several
files are given and none looks like a controller's, nova 34's defaults are
judged. Either assumption is stated in a NOTE when a finding depends on it.

The rules are functions ``rule(inventory) -> [Finding]`` registered in
``audit.RULES``; they do no I/O.
"""

from collections.abc import Mapping
from collections.abc import Sequence
import dataclasses
import difflib
import re
import types
import typing

from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import request as pci_request
from gpupassthrough_osc import severity

PCI_FILTER = 'PciPassthroughFilter'
NUMA_FILTER = 'NUMATopologyFilter'

# nova 34's defaults (nova/conf/scheduler.py); sources.novaconf registers
# its options with these, and tests/functional_nova compares them with
# nova's own.
DEFAULT_ENABLED_FILTERS = (
    'ComputeFilter',
    'ComputeCapabilitiesFilter',
    'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter',
    'ServerGroupAffinityFilter',
)
ALL_FILTERS = 'nova.scheduler.filters.all_filters'
DEFAULT_AVAILABLE_FILTERS = (ALL_FILTERS,)
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_PCI_IN_PLACEMENT = False

# What ``all_filters`` returns in nova 34: every public BaseHostFilter
# subclass of nova/scheduler/filters/*.py, by class name -> module.
_PKG = 'nova.scheduler.filters.'
NOVA_FILTERS = {
    'AggregateImagePropertiesIsolation':
        _PKG + 'aggregate_image_properties_isolation',
    'AggregateInstanceExtraSpecsFilter':
        _PKG + 'aggregate_instance_extra_specs',
    'AggregateIoOpsFilter': _PKG + 'io_ops_filter',
    'AggregateMultiTenancyIsolation':
        _PKG + 'aggregate_multitenancy_isolation',
    'AggregateNumInstancesFilter': _PKG + 'num_instances_filter',
    'AggregateTypeAffinityFilter': _PKG + 'type_filter',
    'AllHostsFilter': _PKG + 'all_hosts_filter',
    'ComputeCapabilitiesFilter': _PKG + 'compute_capabilities_filter',
    'ComputeFilter': _PKG + 'compute_filter',
    'DifferentHostFilter': _PKG + 'affinity_filter',
    'ImagePropertiesFilter': _PKG + 'image_props_filter',
    'IoOpsFilter': _PKG + 'io_ops_filter',
    'IsolatedHostsFilter': _PKG + 'isolated_hosts_filter',
    'JsonFilter': _PKG + 'json_filter',
    'MetricsFilter': _PKG + 'metrics_filter',
    'NUMATopologyFilter': _PKG + 'numa_topology_filter',
    'NumInstancesFilter': _PKG + 'num_instances_filter',
    'PciPassthroughFilter': _PKG + 'pci_passthrough_filter',
    'SameHostFilter': _PKG + 'affinity_filter',
    'ServerGroupAffinityFilter': _PKG + 'affinity_filter',
    'ServerGroupAntiAffinityFilter': _PKG + 'affinity_filter',
    'SimpleCIDRAffinityFilter': _PKG + 'affinity_filter',
}

_CLAIM_PCI = 'Insufficient compute resources: Claim pci failed.'
_CLAIM_NUMA = ('Insufficient compute resources: Requested instance NUMA '
               'topology cannot fit the given host NUMA topology.')
_RETRIES = 'Exceeded maximum number of retries'


@dataclasses.dataclass(frozen=True)
class SchedulerConf:
    """The scheduler options when no nova.conf of a controller is known.

    ``sources.novaconf.NovaConf`` has the same attributes; the rules take
    either (pci.model.SchedulerOptions).
    """

    path: str | None = None
    enabled_filters: tuple[str, ...] = DEFAULT_ENABLED_FILTERS
    available_filters: tuple[str, ...] = DEFAULT_AVAILABLE_FILTERS
    pci_in_placement: bool = DEFAULT_PCI_IN_PLACEMENT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


NOVA_DEFAULTS = SchedulerConf()


# --- nova's rules ----------------------------------------------------------

def guest_numa_topology_reason(specs: Mapping[str, str]) -> str | None:
    """The flavor extra spec that gives a guest a NUMA topology, or None.

    Mirrors nova/virt/hardware.py ``numa_get_constraints`` for a flavor
    alone (an image can add a topology too): a node count, a dedicated or
    mixed CPU policy (``resources[N]:PCPU`` forces dedicated), any
    ``hw:mem_page_size``, a non-empty ``hw:pmem``. ``hw:numa_cpus.N`` alone
    does nothing. Combinations nova refuses at the API (a policy with
    ``resources:VCPU`` or ``PCPU``) are not judged here.
    """
    if specs.get('hw:numa_nodes'):
        return f"hw:numa_nodes={specs['hw:numa_nodes']}"
    policy = specs.get('hw:cpu_policy')
    # _get_vcpu_pcpu_resources: re.match, so only the start is anchored
    pcpus = _resource_sum(specs, 'PCPU')
    if pcpus:
        policy = 'dedicated'
    if policy in ('dedicated', 'mixed'):
        return (f'hw:cpu_policy={policy}' if not pcpus
                else f'resources:PCPU={pcpus}')
    page_size = specs.get('hw:mem_page_size')
    # _get_numa_pagesize_constraint: '0' is a page size of 0, i.e. none
    if page_size and not (page_size.isdigit() and int(page_size) == 0):
        return f'hw:mem_page_size={page_size}'
    if any(label.strip()
           for label in (specs.get('hw:pmem') or '').split(',')):
        return f"hw:pmem={specs['hw:pmem']}"
    return None


def has_guest_numa_topology(specs: Mapping[str, str]) -> bool:
    """Does nova build an InstanceNUMATopology from these flavor specs?"""
    return guest_numa_topology_reason(specs) is not None


def _resource_sum(specs: Mapping[str, str], resource_class: str) -> int:
    total = 0
    for key, value in specs.items():
        if re.match(rf'resources([1-9][0-9]*)?:{resource_class}', key):
            try:
                total += int(value)
            except ValueError:
                pass  # nova skips it here too and refuses it elsewhere
    return total


def provided_filters(
        available: typing.Iterable[str]) -> tuple[set[str], list[str]]:
    """(class names ``available_filters`` provides, entries we cannot read).

    nova's loader (nova/loadables.py ``get_matching_classes``) imports each
    entry: a class is provided by its name; a function returns classes, and
    only nova's own ``all_filters`` is known here.
    """
    names: set[str] = set()
    opaque: list[str] = []
    for entry in available:
        last = entry.rsplit('.', 1)[-1]
        if entry == ALL_FILTERS:
            names.update(NOVA_FILTERS)
        elif last[:1].isupper():
            names.add(last)
        else:
            opaque.append(entry)
    return names, opaque


def scheduler_confs(confs: Sequence[model.NovaConf]
                    ) -> tuple[Sequence[model.SchedulerOptions], str | None]:
    """The nova.conf(s) nova-scheduler reads, and what was assumed.

    Returns the confs (or ``[NOVA_DEFAULTS]``) and a note, or None when
    the choice is evident.
    """
    controllers = [c for c in confs if c.controller_markers]
    if controllers:
        return controllers, None
    if not confs:
        return [NOVA_DEFAULTS], (
            "no nova.conf read: the scheduler is judged at nova 34's "
            "defaults; give the controller's with --nova-conf")
    if len(confs) == 1:
        return confs, (
            f"{confs[0].path} is taken as the scheduler's nova.conf (the "
            f"only --nova-conf given); it sets no [filter_scheduler] or "
            f"[scheduler] option, so nova 34's defaults apply")
    return [NOVA_DEFAULTS], (
        f"no --nova-conf looks like the scheduler's "
        f"({', '.join(c.path for c in confs)}: none sets "
        f"[filter_scheduler], [scheduler] or [api_database] connection): "
        f"the scheduler is judged at nova 34's defaults; give the "
        f"controller's nova.conf")


def _label(conf: model.SchedulerOptions) -> str:
    return conf.path or "nova 34's defaults"


def _subject(conf: model.SchedulerOptions) -> str:
    return f'{_label(conf)} [filter_scheduler] enabled_filters'


# --- the rules -------------------------------------------------------------

def _audit() -> types.ModuleType:
    # audit.py imports this module for RULES; importing it back at call
    # time keeps either module importable first.
    from gpupassthrough_osc.pci import audit
    return audit


def _pci_flavors(inventory: model.Inventory
                 ) -> list[tuple[model.Flavor, pci_request.Requests]]:
    """(flavor, requests) for every flavor whose PCI requests get scheduled.

    A flavor naming an alias nova-api does not define never reaches the
    scheduler ("PCI alias X is not defined", FLAVOR_ALIAS_UNDEFINED).
    """
    configs = inventory.alias_configs
    aliases = configs[0][1].aliases() if configs else None
    found = []
    for flavor in inventory.flavors or []:
        value = flavor.specs.get(pci_request.EXTRA_SPEC)
        if value is None:
            continue
        requests, _problem = pci_request.parse_stored(value)
        if requests and not (aliases is not None and
                             pci_request.undefined_aliases(requests,
                                                           aliases)):
            found.append((flavor, requests))
    return found


def _numa_flavors(inventory: model.Inventory) -> list[model.Flavor]:
    return [f for f in inventory.flavors or []
            if has_guest_numa_topology(f.specs)]


def _fix_line(conf: model.SchedulerOptions,
              inventory: model.Inventory) -> str:
    """The one enabled_filters line that serves every flavor of the cloud."""
    enabled = list(conf.enabled_filters)
    wanted = []
    if _pci_flavors(inventory):
        wanted.append(PCI_FILTER)
    if _numa_flavors(inventory):
        wanted.append(NUMA_FILTER)
    missing = [f for f in wanted if f not in enabled]
    line = (f"[filter_scheduler] enabled_filters = "
            f"{','.join(enabled + missing)}")
    provided, opaque = provided_filters(conf.available_filters)
    unprovided = [f for f in missing if f not in provided]
    if unprovided and not opaque:
        line += ' and ' + ' '.join(
            f'available_filters = {NOVA_FILTERS[f]}.{f}' for f in unprovided)
    where = f' in {conf.path}' if conf.path else ''
    return f'{line}{where}, then restart nova-scheduler'


def _live_host_count(inventory: model.Inventory) -> int:
    """Compute nodes not deleted: those listed, and those with devices."""
    live = {key for key, node in inventory.nodes.items() if not node.deleted}
    live.update(key for key in inventory.index.node_pools()
                if key not in inventory.gone_nodes)
    return len(live)


def _capacity(inventory: model.Inventory,
              requests: list[pci_request.AliasRequest],
              live: int) -> tuple[int, int] | None:
    """(hosts that can hold the request now, ``live``), or None.

    None when the audit cannot tell: no device data or no alias config.
    Reuses the audit's one-host satisfiability (audit._live_nodes and
    audit._hosts_supporting) with the devices free now, since the claim
    counts free devices.
    """
    audit = _audit()
    configs = inventory.alias_configs
    if inventory.pools is None or not configs:
        return None
    wanted = pci_request.pci_requests(requests, configs[0][1].aliases())
    return audit._hosts_supporting(
        audit._live_nodes(inventory, wanted), wanted, 'available'), live


def _blind_verdict(capacity: tuple[int, int] | None
                   ) -> tuple[severity.Severity, str]:
    """(severity, what the hosts mean) for a PCI flavor nothing schedules."""
    if capacity is None:
        return severity.ERROR, (
            'without device data and alias definitions the audit cannot '
            'tell whether every host has the devices:')
    able, live = capacity
    if live and able == live:
        return severity.WARNING, (
            f'every one of the {live} live host(s) the audit knows has the '
            f'devices free, so the claim passes wherever a boot lands, but '
            f'a host added without them makes boots fail:')
    if not able:
        # the flavor's other findings say why; the filter is missing anyway
        return severity.ERROR, (
            f'none of the {live} live host(s) can hold it now, and nothing '
            f'steers boots away from them:')
    return severity.ERROR, f'{live - able} of {live} live host(s) ' \
                           f'cannot hold it now:'


def pci_flavors_not_scheduled(inventory: model.Inventory) -> model.Findings:
    """PCI flavors while the scheduler checks no PCI device.

    Without PciPassthroughFilter and without ``pci_in_placement``, the
    scheduler picks hosts blind to PCI; PCIWeigher (nova/scheduler/
    weights/pci.py) even ranks hosts with fewer free devices first for a
    PCI request. The compute claim (nova/compute/claims.py ``_test_pci``)
    fails where the devices are missing, and the conductor retries on the
    alternates until ``[scheduler] max_attempts`` ends in MaxRetriesExceeded.
    When every live host has the devices free, every claim passes: a
    warning, not an error.
    """
    flavors = _pci_flavors(inventory)
    confs, _note = scheduler_confs(inventory.confs)
    blind = [c for c in confs
             if PCI_FILTER not in c.enabled_filters and
             not c.pci_in_placement]
    if not flavors or not blind:
        return []
    where = ', '.join(_label(c) for c in blind)
    fix = '; '.join(_fix_line(c, inventory) for c in blind)
    attempts = blind[0].max_attempts
    live = _live_host_count(inventory)
    findings = []
    for flavor, requests in flavors:
        value = pci_request.canonical(requests)
        capacity = _capacity(inventory, requests, live)
        level, hosts = _blind_verdict(capacity)
        findings.append(model.Finding(
            level, 'FLAVOR_PCI_NOT_SCHEDULED', f'flavor {flavor.name}',
            f"flavor {flavor.name} requests pci_passthrough:alias={value} "
            f"but nova-scheduler ({where}) does not check PCI devices: "
            f"{PCI_FILTER} is not in [filter_scheduler] enabled_filters "
            f"and [filter_scheduler] pci_in_placement is off. {hosts} a "
            f"boot landing on such a host fails the compute claim "
            f"('{_CLAIM_PCI}'), nova retries on up to [scheduler] "
            f"max_attempts = {attempts} host(s) and ends in '{_RETRIES}'",
            fix))
    worst = min((f.severity for f in findings), key=severity.rank)
    names = ', '.join(f.name for f, _r in flavors[:5])
    more = f' and {len(flavors) - 5} more' if len(flavors) > 5 else ''
    for conf in blind:
        findings.append(model.Finding(
            worst, 'SCHEDULER_PCI_FILTER_MISSING', _subject(conf),
            f'{len(flavors)} flavor(s) request PCI devices ({names}{more}) '
            f'but the scheduler reading {_label(conf)} runs neither '
            f'{PCI_FILTER} nor placement PCI scheduling: boots that land '
            f"on hosts without the devices fail with '{_CLAIM_PCI}' and, "
            f"after max_attempts = {conf.max_attempts}, '{_RETRIES}'",
            _fix_line(conf, inventory)))
    return findings


def numa_flavors_not_filtered(inventory: model.Inventory) -> model.Findings:
    """NUMA flavors while the scheduler runs no NUMATopologyFilter.

    The claim still fits the guest to the host cells
    (nova/compute/claims.py ``_test_numa_topology``), so boots do succeed
    where the guest fits; elsewhere they fail late and are retried, and
    without the filter's limits the CPU/RAM allocation ratios are not
    applied to the cells.
    """
    flavors = _numa_flavors(inventory)
    confs, _note = scheduler_confs(inventory.confs)
    blind = [c for c in confs if NUMA_FILTER not in c.enabled_filters]
    if not flavors or not blind:
        return []
    where = ', '.join(_label(c) for c in blind)
    fix = '; '.join(_fix_line(c, inventory) for c in blind)
    return [model.Finding(
        severity.WARNING, 'FLAVOR_NUMA_NOT_FILTERED', f'flavor {flavor.name}',
        f'flavor {flavor.name} gives the guest a NUMA topology '
        f'({guest_numa_topology_reason(flavor.specs)}) but nova-scheduler '
        f'({where}) does not run {NUMA_FILTER}: a host whose NUMA cells '
        f"cannot fit it is found out only by the compute claim "
        f"('{_CLAIM_NUMA}'), then retried up to [scheduler] max_attempts "
        f"= {blind[0].max_attempts} times, ending in '{_RETRIES}' instead "
        f"of 'No valid host was found'", fix) for flavor in flavors]


def filters_not_available(inventory: model.Inventory) -> model.Findings:
    """Enabled filters that available_filters does not provide.

    nova/scheduler/host_manager.py ``_choose_host_filters`` raises
    SchedulerHostFilterNotFound from HostManager's constructor, so
    nova-scheduler does not start.
    """
    confs, _note = scheduler_confs(inventory.confs)
    findings = []
    for conf in confs:
        provided, opaque = provided_filters(conf.available_filters)
        missing = [f for f in conf.enabled_filters if f not in provided]
        if not missing:
            continue
        names = ', '.join(missing)
        if opaque:
            findings.append(model.Finding(
                severity.WARNING, 'SCHEDULER_FILTER_NOT_FOUND', _subject(conf),
                f"enabled filter(s) {names} are not nova filters and the "
                f"audit cannot see which classes {', '.join(opaque)} "
                f"provide: if none is named {names}, nova-scheduler does "
                f"not start ('Scheduler Host Filter {names} could not be "
                f"found.')", f'check [filter_scheduler] available_filters '
                f'in {_label(conf)}'))
            continue
        findings.append(model.Finding(
            severity.ERROR, 'SCHEDULER_FILTER_NOT_FOUND', _subject(conf),
            f"nova-scheduler does not start: 'Scheduler Host Filter "
            f"{names} could not be found.' ([filter_scheduler] "
            f"available_filters = {', '.join(conf.available_filters)} "
            f"does not provide it)", _filter_fix(conf, missing)))
    return findings


def _filter_fix(conf: model.SchedulerOptions, missing: list[str]) -> str:
    fixes = []
    for name in missing:
        if name in NOVA_FILTERS:
            fixes.append(f'add available_filters = {NOVA_FILTERS[name]}.'
                         f'{name} (or {ALL_FILTERS})')
            continue
        close = difflib.get_close_matches(name, NOVA_FILTERS, n=1)
        fixes.append(f'{name} is not a nova filter: did you mean '
                     f'{close[0]}?' if close else
                     f"add {name}'s class path to available_filters or "
                     f'remove it from enabled_filters')
    return f"in [filter_scheduler] of {_label(conf)}: {'; '.join(fixes)}"


def scheduler_conf_assumed(inventory: model.Inventory) -> model.Findings:
    """A NOTE when a finding depends on which nova.conf is the scheduler's.

    Only when some flavor needs a scheduler filter; otherwise the choice
    changes no verdict.
    """
    _confs, note = scheduler_confs(inventory.confs)
    if note is None or not (_pci_flavors(inventory) or
                            _numa_flavors(inventory)):
        return []
    return [model.Finding(severity.INFO, 'NOTE', 'audit', note)]
