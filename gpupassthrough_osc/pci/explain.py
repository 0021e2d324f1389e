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

"""Why a flavor does or does not fit, host by host, in nova's order.

``openstack gpu flavor explain`` and ``gpu server explain`` print one row
per compute host with the first step of nova's path that refuses it,
with the numbers it saw. The steps, in the order nova takes them:

1. nova-api translates ``pci_passthrough:alias`` with the ``[pci] alias``
   it loaded (nova/pci/request.py ``_translate_alias_to_requests``): an
   invalid alias stops nova-api from starting, an unknown name is
   "PCI alias X is not defined" -- every host alike;
2. per request, the scheduler's pool filters in nova/pci/stats.py
   ``_filter_pools`` order: spec match, unrequested PFs, vdpa,
   remote-managed, live-migratable;
3. all requests together on one host (``support_requests``), first on
   every usable device ("ever"), then on the free ones ("now");
4. the path as a whole: the audit's flavor rules that refuse every boot
   whatever host it lands on (a scheduler that never runs
   PciPassthroughFilter, pci/scheduler.py; placement holding no provider
   with the alias's resource class and traits, pci/placement.py), listed
   as ``refusals``.

Pure: the caller passes the Inventory the adapters read.
"""

from collections.abc import Mapping
import dataclasses
import typing

from gpupassthrough_osc.pci import alias as pci_alias
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import numa
from gpupassthrough_osc.pci import placement
from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.pci import request as pci_request
from gpupassthrough_osc.pci import scheduler
from gpupassthrough_osc import severity

NOW = 'fits now'
LATER = 'fits once devices are freed'
NEVER = 'never fits'


@dataclasses.dataclass(frozen=True)
class HostVerdict:
    """One compute host against one flavor."""

    cell: str
    host: str
    matching: int       # usable devices the flavor's aliases point at
    free: int           # of those, available now
    verdict: str        # NOW, LATER or NEVER
    step: str = ''      # the first step of nova's path that refuses
    reason: str = ''

    @property
    def fits_now(self) -> bool:
        return self.verdict == NOW


@dataclasses.dataclass(frozen=True)
class Explanation:
    flavor: str
    value: str | None               # the pci_passthrough:alias value
    hosts: list[HostVerdict]
    unlisted: int = 0               # hosts with no device the aliases name
    blocked: str = ''               # a step that refuses every host
    # (code, message) of error findings on this flavor that no single
    # host's verdict shows: the whole path refuses
    refusals: list[tuple[str, str]] = dataclasses.field(
        default_factory=list)

    @property
    def boots_now(self) -> bool:
        return not self.refusals and any(r.fits_now for r in self.hosts)

    def counts(self) -> dict[str, int]:
        counts = {NOW: 0, LATER: 0, NEVER: self.unlisted}
        for row in self.hosts:
            counts[row.verdict] += 1
        return counts


def _requests(inventory: model.Inventory, specs: Mapping[str, str]
              ) -> tuple[pci_request.Requests, pci_alias.Aliases, str]:
    """(requests, aliases, blocked): nova-api's translation, step 1."""
    value = specs.get(pci_request.EXTRA_SPEC)
    if value is None:
        return [], {}, ''
    requests, problem = pci_request.parse_stored(value)
    if not requests:
        return [], {}, f'extra spec: pci_passthrough:alias={value!r}: ' \
                       f'{problem}'
    configs = inventory.alias_configs
    if not configs:
        return requests, {}, ('alias parse: no nova.conf read, so the '
                              'aliases are unknown')
    conf, config = configs[0]
    if config.error:
        return requests, {}, (f'alias parse: {conf.path}: Invalid PCI '
                              f'alias definition: {config.error} '
                              f'(nova-api does not start)')
    aliases = config.aliases()
    undefined = pci_request.undefined_aliases(requests, aliases)
    if undefined:
        return requests, aliases, (f'alias lookup: PCI alias {undefined[0]}'
                                   f' is not defined ({conf.path})')
    return requests, aliases, ''


def _first_refusal(pools: list[pci_pools.Pool],
                   request: pci_request.AliasRequest,
                   specs: list[pci_pools.Spec]) -> tuple[str, str] | None:
    """The first pool filter after which ``request`` cannot be met."""
    have = sum(p['count'] for p in pools)
    pools_in = pools
    for name, step in pci_pools.FILTERS:
        before = sum(p['count'] for p in pools)
        pools = step(pools, specs)
        after = sum(p['count'] for p in pools)
        if after >= request.count:
            continue
        if name == 'spec':
            return name, _spec_refusal(pools_in, request, specs, have,
                                       after)
        return name, (f'needs {request}; nova drops {before - after} of '
                      f'the {before} matching device(s) as {name}' +
                      (' (the alias lacks "device_type": "type-PF")'
                       if name == 'unrequested PF' else ''))
    return None


def _spec_refusal(pools: list[pci_pools.Pool],
                  request: pci_request.AliasRequest,
                  specs: list[pci_pools.Spec], have: int, after: int) -> str:
    if after:
        return f'needs {request}; {after} device(s) match'
    recorded = sorted({p['dev_type'] for p in pci_pools.filter_for_spec(
        pools, [pci_pools.without_dev_type(s) for s in specs])})
    wanted = sorted({s['dev_type'] for s in specs if s.get('dev_type')})
    if recorded and wanted:
        return (f"needs {request}; alias {request.name} asks for "
                f"device_type {', '.join(wanted)} but nova recorded these "
                f"devices as {', '.join(recorded)}")
    return (f'needs {request}; none of the {have} device(s) here matches '
            f'alias {request.name}')


def _numa_verdict(fit: numa.FlavorFit | None, key: model.NodeKey,
                  pools: list[pci_pools.DevicePool],
                  requests: pci_request.Requests,
                  row: dict[str, typing.Any]) -> HostVerdict | None:
    """nova's NUMA fit on this host (pci.numa), after the PCI steps pass.

    None when the guest has no NUMA topology or fits now.
    """
    if fit is None or fit.guest is None or fit(key, pools, 'available'):
        return None
    ever = fit(key, pools, 'usable')
    have = '; '.join(numa.format_per_node(numa.devices_per_node(
        pools, specs)) for _c, specs, _p in fit.requests)
    policies = ', '.join(sorted({p for _c, _s, p in fit.requests
                                 if p is not None}))
    when = ('not with the CPUs, memory and devices free now' if ever
            else 'no fit even on the empty host')
    return HostVerdict(
        **row, verdict=LATER if ever else NEVER, step='NUMA fit',
        reason=f'needs {pci_request.canonical(requests)} on the NUMA '
               f'node(s) of a {numa.describe(fit.guest)} (PCI NUMA '
               f'affinity policy {policies}); devices here: {have}; {when}')


def _host_verdict(inventory: model.Inventory, key: model.NodeKey,
                  pools: list[pci_pools.DevicePool],
                  requests: pci_request.Requests,
                  wanted: list[pci_request.Wanted],
                  fit: numa.FlavorFit | None = None) -> HostVerdict:
    cell, _node_id = key
    usable = [p.nova_pool(p.usable) for p in pools]
    free = [p.nova_pool(p.available) for p in pools]
    # the devices the aliases' ids point at, whatever their dev_type, so a
    # host whose GPUs nova recorded with another dev_type is listed too
    ids = [pci_pools.without_ignored(pci_pools.without_dev_type(s))
           for _c, specs in wanted for s in specs]
    near = [p for p in pools if pci_pools.prop_match(p.nova_pool(1), ids)]
    row: dict[str, typing.Any] = dict(
        cell=cell, host=inventory.host(*key),
        matching=sum(p.usable for p in near),
        free=sum(p.available for p in near))
    for request, (_count, specs) in zip(requests, wanted):
        refused = _first_refusal(usable, request, specs)
        if refused:
            return HostVerdict(**row, verdict=NEVER, step=refused[0],
                               reason=refused[1])
    if not pci_pools.supports(usable, wanted):
        return HostVerdict(
            **row, verdict=NEVER, step='one host',
            reason=f'each alias fits alone but not '
                   f'{pci_request.canonical(requests)} together')
    if fit is not None and fit.guest is not None:
        numa_row = _numa_verdict(fit, key, pools, requests, row)
        if numa_row is not None and (numa_row.verdict == NEVER or
                                     pci_pools.supports(free, wanted)):
            return numa_row
    if not pci_pools.supports(free, wanted):
        return HostVerdict(
            **row, verdict=LATER, step='free devices',
            reason=f'needs {pci_request.canonical(requests)} free; '
                   f'{row["free"]} of {row["matching"]} matching '
                   f'device(s) free now')
    return HostVerdict(**row, verdict=NOW)


def explain_flavor(inventory: model.Inventory, flavor: model.Flavor,
                   host: str | None = None,
                   all_hosts: bool = False) -> Explanation:
    """Every live compute host against ``flavor``.

    Hosts holding no device any of the flavor's aliases names are counted
    in ``unlisted`` unless ``all_hosts`` (or ``host``) asks for them.
    """
    value = flavor.specs.get(pci_request.EXTRA_SPEC)
    requests, aliases, blocked = _requests(inventory, flavor.specs)
    pools_by_node: dict[model.NodeKey, list[pci_pools.DevicePool]] = {}
    for pool in inventory.pools or []:
        pools_by_node.setdefault(pool.node_key, []).append(pool)
    keys = set(pools_by_node) | {k for k, n in inventory.nodes.items()
                                 if not n.deleted}
    keys = {k for k in keys if not _deleted(inventory, k)}
    if host:
        keys = {k for k in keys if inventory.nodes.get(k) and
                host in (inventory.nodes[k].host,
                         inventory.nodes[k].hypervisor_hostname)}
    wanted = pci_request.pci_requests(requests, aliases) \
        if requests and not blocked else []
    fit = None
    if wanted:
        # nova's NUMA fit where the guest has a topology (pci.numa)
        fit, numa_findings = numa.flavor_fit(inventory, flavor, requests,
                                             aliases)
        if fit is None:
            blocked = f'guest NUMA topology: {numa_findings[0].message}'
    rows, unlisted = [], 0
    for key in sorted(keys, key=lambda k: (str(k[0]), inventory.host(*k))):
        pools = pools_by_node.get(key, [])
        if blocked:
            rows.append(HostVerdict(key[0], inventory.host(*key), 0, 0,
                                    NEVER, *blocked.split(': ', 1)))
            continue
        if not requests:
            rows.append(HostVerdict(key[0], inventory.host(*key), 0, 0, NOW,
                                    reason='the flavor asks for no PCI '
                                           'device'))
            continue
        verdict = _host_verdict(inventory, key, pools, requests, wanted,
                                fit)
        if verdict.matching or all_hosts or host:
            rows.append(verdict)
        else:
            unlisted += 1
    return Explanation(flavor.name, value, rows, unlisted, blocked,
                       _path_refusals(inventory, flavor))


# flavor rules whose errors hold whichever host a boot lands on
PATH_RULES = (scheduler.pci_flavors_not_scheduled,
              placement.flavors_without_candidates)


def _path_refusals(inventory: model.Inventory,
                   flavor: model.Flavor) -> list[tuple[str, str]]:
    alone = inventory.for_flavors([flavor])
    return [(f.code, f.message) for rule in PATH_RULES
            for f in rule(alone) if f.severity == severity.ERROR and
            f.subject == f'flavor {flavor.name}']


def _deleted(inventory: model.Inventory, key: model.NodeKey) -> bool:
    node = inventory.nodes.get(key)
    return node is not None and node.deleted


# --- a failed boot: which cause matches nova's fault -----------------------

# nova's fault messages, as nova/exception.py and the conductor write them
FAULT_KINDS = (
    ('is not defined', 'alias lookup'),
    ('Invalid PCI alias definition', 'alias parse'),
    ('Claim pci failed', 'claim'),
    ('NUMA topology', 'NUMA'),
    ('No valid host was found', 'no valid host'),
    ('Exceeded maximum number of retries', 'retries'),
)


def fault_kind(message: str | None) -> str | None:
    """Which of nova's PCI-related faults ``message`` is, or None."""
    for fragment, kind in FAULT_KINDS:
        if message and fragment in message:
            return kind
    return None


def matching_cause(result: Explanation, fault: str | None) -> str:
    """One line: which cause of ``result`` explains nova's ``fault``."""
    kind = fault_kind(fault)
    if kind is None:
        return ('no PCI-related fault to explain' if not fault else
                f'the fault is not one of nova\'s PCI or scheduling '
                f'faults: {fault.splitlines()[0]}')
    refusals = dict(result.refusals)
    if result.blocked:
        return f'matches: {result.blocked}'
    if kind in ('claim', 'retries') and \
            'FLAVOR_PCI_NOT_SCHEDULED' in refusals:
        return ('matches: the scheduler does not check PCI devices, so '
                'boots land on hosts without them and fail the claim '
                '(FLAVOR_PCI_NOT_SCHEDULED)')
    # without PciPassthroughFilter boots end in retries, not "No valid
    # host": that refusal cannot be the cause of this fault
    if kind == 'no valid host':
        refusals.pop('FLAVOR_PCI_NOT_SCHEDULED', None)
    if kind == 'no valid host' and refusals:
        code, message = next(iter(refusals.items()))
        return f'matches: {message} ({code})'
    refused = [r for r in result.hosts if not r.fits_now]
    if not result.hosts:
        return (f'matches: no host holds a device the aliases name '
                f'({result.unlisted} host(s) checked)')
    if len(refused) == len(result.hosts):
        steps: dict[str, list[HostVerdict]] = {}
        for row in refused:
            steps.setdefault(row.step, []).append(row)
        step, rows = max(steps.items(), key=lambda kv: len(kv[1]))
        unlisted = (f' ({result.unlisted} more hold no matching device)'
                    if result.unlisted else '')
        return (f'matches: no host can take it now; {len(rows)} of '
                f'{len(result.hosts)} listed host(s) refuse at '
                f'"{step}": {rows[0].host}: {rows[0].reason}{unlisted}')
    if kind == 'NUMA':
        return ('the fault is NUMA fitting, but nova\'s NUMA fit passes '
                f'on {len(result.hosts) - len(refused)} host(s) with the '
                f'data shown now (usage changed since the boot, or an '
                f'image property added a guest NUMA topology)')
    return (f'does not match what the data shows now: '
            f'{len(result.hosts) - len(refused)} host(s) can take it now '
            f'(devices freed since the boot, or a step not modelled here)')
