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

"""The audit: every reason nova will refuse a GPU flavor, one rule each.

Each rule is a function ``rule(inventory) -> [Finding]`` over data the
adapters already read; none does I/O. The verdicts reuse the one
implementation of each nova rule: alias validation (pci.alias), the
extra-spec grammar (pci.request) and the scheduler's pool filters
(pci.pools).
"""

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
import json

from gpupassthrough_osc.pci import alias as pci_alias
from gpupassthrough_osc.pci import catalog
from gpupassthrough_osc.pci import model
# names, not modules: every rule builds Finding(ERROR, ...) rows
from gpupassthrough_osc.pci.model import Finding
from gpupassthrough_osc.pci import numa
from gpupassthrough_osc.pci import placement
from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.pci import request as pci_request
from gpupassthrough_osc.pci import scheduler
from gpupassthrough_osc import severity
from gpupassthrough_osc.severity import ERROR
from gpupassthrough_osc.severity import INFO
from gpupassthrough_osc.severity import WARNING


# --- helpers shared by the rules ------------------------------------------

def _loose(specs: list[pci_pools.Spec]) -> list[pci_pools.Spec]:
    """Alias specs without dev_type: which devices the ids point at."""
    return [pci_pools.without_dev_type(s) for s in specs]


def _write_cmd(name: str, vendor_id: str | None, product_id: str | None,
               device_type: str) -> str:
    return (f'openstack gpu alias create {name} --vendor-id {vendor_id} '
            f'--product-id {product_id} --device-type {device_type} '
            f'--write /etc/nova/nova.conf --replace')


def _alias_lines(name: str, numa_policy: str | None,
                 specs: list[pci_pools.Spec], device_type: str) -> str:
    policy = None if numa_policy == pci_alias.DEFAULT_NUMA_POLICY \
        else numa_policy
    return ' ; '.join(
        'alias = ' + pci_alias.render(name, s['vendor_id'], s['product_id'],
                                      device_type, policy)
        for s in specs if 'vendor_id' in s and 'product_id' in s)


def _host_list(inventory: model.Inventory,
               node_keys: Iterable[model.NodeKey], limit: int = 3) -> str:
    names = sorted(inventory.host(*key) for key in node_keys)
    shown = ', '.join(names[:limit])
    if len(names) > limit:
        shown += f' and {len(names) - limit} more'
    return f'{len(names)} host(s) ({shown})'


def _unique_aliases(inventory: model.Inventory
                    ) -> list[tuple[str, str | None, list[pci_pools.Spec]]]:
    """Each distinct valid alias definition once: (name, policy, specs)."""
    seen: dict[tuple[str, str | None, str],
               tuple[str, str | None, list[pci_pools.Spec]]] = {}
    for _conf, config in inventory.alias_configs:
        for name, (policy, specs) in config.aliases().items():
            key = (name, policy, json.dumps(specs, sort_keys=True))
            seen.setdefault(key, (name, policy, specs))
    return list(seen.values())


# --- [pci] alias rules ---------------------------------------------------

# nova-api (nova/api/openstack/wsgi_app.py _setup_service) and nova-compute
# (nova/compute/manager.py init_host) call get_alias_from_config at start
# and exit on PciInvalidAlias; init_host also loads [pci] device_spec
# (nova/pci/whitelist.py) and exits on PciConfigInvalidSpec.
ALIAS_REFUSERS = 'nova-api (controller) and nova-compute (compute node)'
SHOWN_ENTRIES = 10


def _where(conf: model.NovaConf, lines: Sequence[model.ConfLine],
           index: int, option: str) -> str:
    """``file:line`` of a value, else the file and option."""
    location = lines[index] if index < len(lines) else None
    if location:
        return f'{location[0]}:{location[1]}'
    return f'{conf.path} [pci] {option}'


def _listed(items: list[str], more_hint: str) -> str:
    shown = '; '.join(items[:SHOWN_ENTRIES])
    if len(items) > SHOWN_ENTRIES:
        shown += f'; and {len(items) - SHOWN_ENTRIES} more ({more_hint})'
    return shown


def _bad_aliases(conf: model.NovaConf, config: pci_alias.AliasConfig
                 ) -> list[tuple[str, str, str | None]]:
    """``(where, 'alias NAME', reason)`` of each invalid entry."""
    bad = []
    for index, entry in enumerate(config.entries):
        if not entry.valid:
            name = entry.name if entry.name is not None else \
                pci_alias.name_in(entry.raw)
            bad.append((_where(conf, conf.alias_lines, index, 'alias'),
                        f'alias {name}' if name else 'an alias without name',
                        entry.reason))
    return bad


def alias_invalid(inventory: model.Inventory) -> model.Findings:
    """Invalid [pci] alias entries, and the flavors dead while they stay.

    Nova 34 refuses to start nova-api and nova-compute with one; every
    flavor requesting an alias then cannot boot.
    """
    findings = []
    first_bad = []
    for conf, config in inventory.alias_configs:
        if not config.error:
            continue
        bad = _bad_aliases(conf, config)
        first_bad.append(f'{bad[0][0]} ({bad[0][1]})')
        findings.append(Finding(
            ERROR, 'ALIAS_INVALID', f'{conf.path} [pci] alias',
            f'{ALIAS_REFUSERS} refuse to start with this file (Invalid '
            f'PCI alias definition: {config.error}); no flavor requesting '
            f'an alias can boot while it is there. Invalid: ' + _listed(
                [f'{where} {name}: {reason}' for where, name, reason in bad],
                'openstack gpu alias list'),
            'fix or remove each invalid line (openstack gpu alias list '
            'shows every verdict), then start nova-api and nova-compute'))
    if not first_bad:
        return findings
    for flavor in inventory.flavors or ():
        value = flavor.specs.get(pci_request.EXTRA_SPEC)
        if value:
            findings.append(Finding(
                ERROR, 'FLAVOR_BLOCKED_BY_BAD_ALIAS',
                f'flavor {flavor.name}',
                f'flavor {flavor.name} (pci_passthrough:alias={value}) '
                f'cannot boot while {"; ".join(first_bad)} is there: '
                f'{ALIAS_REFUSERS} refuse to start with an invalid [pci] '
                f'alias', 'fix the entries ALIAS_INVALID names, then start '
                'nova-api and nova-compute'))
    return findings


def alias_differs_between_confs(inventory: model.Inventory) -> model.Findings:
    """nova-api and every compute must define an alias identically."""
    configs = inventory.alias_configs
    if len(configs) < 2:
        return []
    definitions: dict[str, dict[str, set[str]]] = {}
    for conf, config in configs:
        for entry in config.entries:
            if entry.name is not None:
                norm = json.dumps(json.loads(entry.raw), sort_keys=True)
                definitions.setdefault(entry.name, {}).setdefault(
                    conf.path, set()).add(norm)
    findings = []
    for name, per_conf in sorted(definitions.items()):
        missing = [c.path for c, _ in configs if c.path not in per_conf]
        variants = {frozenset(v) for v in per_conf.values()}
        if missing:
            findings.append(Finding(
                ERROR, 'ALIAS_MISSING_ON_NODE', f'alias {name}',
                f"alias {name} is defined in {', '.join(sorted(per_conf))} "
                f"but not in {', '.join(missing)}: a boot, resize or "
                f"migration there fails with 'PCI alias {name} is not "
                f"defined'",
                'copy the same alias lines to every nova.conf, restart'))
        elif len(variants) > 1:
            findings.append(Finding(
                ERROR, 'ALIAS_DIFFERS', f'alias {name}',
                f'alias {name} is defined differently in '
                f"{', '.join(sorted(per_conf))}: the scheduler and the "
                f'compute disagree on which device it means',
                'make the alias lines identical everywhere, restart'))
    return findings


def deprecated_option_names(inventory: model.Inventory) -> model.Findings:
    findings = []
    for conf in inventory.confs:
        for section, option, new in conf.deprecated:
            findings.append(Finding(
                WARNING, 'DEPRECATED_OPTION', f'{conf.path} [{section}] '
                f'{option}', f'[{section}] {option} is a deprecated name; '
                f'nova still reads it but will drop it', f'rename it to '
                f'{new}'))
    return findings


# --- alias against recorded devices --------------------------------------

def alias_never_matches(inventory: model.Inventory) -> model.Findings:
    """Aliases nova's filters leave with no device, and why.

    Fires ALIAS_DROPS_PF for the seed's case (devices recorded as type-PF,
    alias without device_type), ALIAS_DEVICE_TYPE_MISMATCH when the alias
    names a device_type nova did not record for those ids, and
    ALIAS_NO_DEVICE when the ids match nothing recorded at all.
    """
    if inventory.pools is None:
        return []
    findings = []
    for name, policy, specs in _unique_aliases(inventory):
        near = inventory.index.matching(_loose(specs))
        # nova's filters over every pool the ids could reach, the pools
        # of all hosts summed per kind: the same devices kept and dropped
        kept, dropped = pci_pools.filter_pools(pci_pools.summed(near),
                                               specs)
        recorded = sorted({p.dev_type for p in near})
        ids = sorted({f'{p.vendor_id}:{p.product_id}' for p in near}) or \
            sorted({f"{s.get('vendor_id')}:{s.get('product_id')}"
                    for s in specs})
        hosts = _host_list(inventory, {p.node_key for p in near})
        if not near:
            findings.append(_no_device(inventory, name, specs, ids))
            continue
        dropped_names = {d for d, _ in dropped}
        if kept:
            if 'unrequested PF' in dropped_names:
                findings.append(Finding(
                    WARNING, 'ALIAS_SKIPS_PF', f'alias {name}',
                    f'alias {name} has no "device_type": "type-PF", so nova '
                    f'drops the type-PF devices with ids '
                    f"{', '.join(ids)} and only ever hands out the others",
                    'if whole GPUs are meant: ' + _alias_lines(
                        name, policy, specs, pci_pools.PF)))
            continue
        if pci_pools.PF in recorded and 'unrequested PF' in dropped_names:
            first = specs[0]
            findings.append(Finding(
                ERROR, 'ALIAS_DROPS_PF', f'alias {name}',
                f"alias {name} matches {', '.join(ids)}, which nova "
                f"recorded as type-PF (SR-IOV capable) on {hosts}; "
                f"nova drops PF devices unless the alias says "
                f'"device_type": "type-PF", so every boot ends in "No '
                f'valid host was found"',
                'in [pci] on nova-api hosts and every compute: ' +
                _alias_lines(name, policy, specs, pci_pools.PF) +
                ' (or: ' + _write_cmd(name, first.get('vendor_id'),
                                      first.get('product_id'), 'auto') +
                ')'))
        elif 'spec' in dropped_names:
            wanted = sorted({str(s['dev_type']) for s in specs
                             if s.get('dev_type')})
            right = pci_pools.PF if pci_pools.PF in recorded else recorded[0]
            findings.append(Finding(
                ERROR, 'ALIAS_DEVICE_TYPE_MISMATCH', f'alias {name}',
                f"alias {name} asks for device_type {', '.join(wanted)} "
                f"but nova recorded {', '.join(ids)} as "
                f"{', '.join(recorded)}: nothing can match",
                'in [pci] on nova-api hosts and every compute: ' +
                _alias_lines(name, policy, specs, right)))
        else:
            findings.append(Finding(
                ERROR, 'ALIAS_FILTERED_OUT', f'alias {name}',
                f"nova's scheduler drops every device alias {name} matches "
                f"({', '.join(ids)}, {', '.join(recorded)}): filtered as "
                f"{', '.join(sorted(dropped_names))}",
                'vdpa and remote-managed devices are requested through '
                'neutron ports, not flavor aliases'))
    return findings


def _no_device(inventory: model.Inventory, name: str,
               specs: list[pci_pools.Spec], ids: list[str]) -> model.Finding:
    """ALIAS_NO_DEVICE, saying whether the ids or other keys are at fault.

    Nova compares every alias key with the device pool (nova/pci/utils.py
    pci_device_prop_match); a key the pools lack, such as capability_type,
    makes an alias match nothing even when the ids are right.
    """
    by_ids = inventory.index.matching(
        [{k: s[k] for k in ('vendor_id', 'product_id') if k in s}
         for s in specs])
    if by_ids:
        extra = sorted({k for s in specs for k in s} -
                       {'vendor_id', 'product_id', 'dev_type'} -
                       set(pci_pools.IGNORED_SPEC_TAGS))
        return Finding(
            ERROR, 'ALIAS_NO_DEVICE', f'alias {name}',
            f"alias {name}: nova recorded devices with ids "
            f"{', '.join(ids)}, but the alias also asks for "
            f"{', '.join(extra)}, which those devices do not carry: "
            f"nothing can match", f"remove {', '.join(extra)} from the "
            f"alias")
    return Finding(
        WARNING, 'ALIAS_NO_DEVICE', f'alias {name}',
        f"alias {name} ({', '.join(ids)}) matches no device recorded in "
        f"any cell: no compute lists it in [pci] device_spec, or the ids "
        f"are wrong",
        'check [pci] device_spec on the computes and '
        '`openstack gpu device list`')


def gpus_without_alias(inventory: model.Inventory) -> model.Findings:
    if inventory.pools is None:
        return []
    configs = inventory.alias_configs
    if not configs:
        return []
    specs = [s for _c, config in configs
             for _p, alias_specs in config.aliases().values()
             for s in _loose(alias_specs)]
    covered = {id(p) for p in inventory.index.matching(specs)}
    counts: dict[tuple[str, str, str], int] = {}
    # per ids: a cloud has a few models on thousands of hosts
    known: dict[tuple[str, str], bool] = {}
    for pool in inventory.pools:
        if pool.dev_type == pci_pools.VF or id(pool) in covered:
            continue
        ids = (pool.vendor_id, pool.product_id)
        if ids not in known:
            known[ids] = catalog.is_known_gpu(*ids)
        if not known[ids]:
            continue
        key = (pool.vendor_id, pool.product_id, pool.dev_type)
        counts[key] = counts.get(key, 0) + pool.total
    return [_gpu_without_alias(v, p, t, n)
            for (v, p, t), n in sorted(counts.items())]


def _gpu_without_alias(vendor_id: str, product_id: str, dev_type: str,
                       count: int) -> model.Finding:
    ids = f'{vendor_id}:{product_id}'
    return Finding(
        INFO, 'GPU_WITHOUT_ALIAS', f'device {ids}',
        f'{count} {catalog.model_name(vendor_id, product_id)} ({ids}, '
        f'{dev_type}) recorded by nova but no alias names them: no flavor '
        f'can request them',
        'in [pci]: alias = ' + pci_alias.render(
            catalog.alias_name(vendor_id, product_id), vendor_id,
            product_id, dev_type))


def pf_and_vfs_in_placement(inventory: model.Inventory) -> model.Findings:
    """A device_spec matching a PF and its VFs under report_in_placement.

    nova-compute refuses to start then ("Configuring both ... is not
    supported", nova/compute/pci_placement_translator.py).
    """
    if inventory.pools is None:
        return []
    findings = []
    for conf in inventory.confs:
        if not conf.report_in_placement:
            continue
        for raw in conf.device_spec:
            for spec in pci_pools.device_spec_entries(raw):
                both = _nodes_with_pf_and_vf(inventory.pools, spec)
                if both:
                    findings.append(Finding(
                        ERROR, 'DEVICE_SPEC_PF_AND_VF', f'{conf.path} [pci] '
                        f'device_spec', f'device_spec {raw} matches PFs and '
                        f'their VFs on {len(both)} host(s) while [pci] '
                        f'report_in_placement is on: nova-compute refuses '
                        f'to start there', 'narrow the device_spec to the '
                        'PF (product id or address) or to the VFs only'))
    return findings


def _nodes_with_pf_and_vf(pools: Iterable[pci_pools.DevicePool],
                          spec: pci_pools.Spec) -> list[model.NodeKey]:
    types: dict[model.NodeKey, set[str]] = {}
    for pool in pools:
        if pci_pools.device_spec_matches_ids(spec, pool):
            types.setdefault(pool.node_key, set()).add(pool.dev_type)
    return [n for n, t in types.items()
            if pci_pools.PF in t and pci_pools.VF in t]


def device_spec_invalid(inventory: model.Inventory) -> model.Findings:
    """device_spec values nova-compute refuses at start.

    The structure nova/pci/whitelist.py checks first: JSON, an object or
    a list of objects.
    """
    findings = []
    for conf in inventory.confs:
        for index, raw in enumerate(conf.device_spec):
            problem = _device_spec_problem(raw)
            if problem:
                where = _where(conf, conf.device_spec_lines, index,
                               'device_spec')
                findings.append(Finding(
                    ERROR, 'DEVICE_SPEC_INVALID',
                    f'{conf.path} [pci] device_spec',
                    f'{where}: device_spec {raw} {problem}: nova-compute '
                    f'refuses to start on a node with this file, and the '
                    f'PCI devices of that node are not tracked (no '
                    f'instance gets them there)', 'write one JSON object or '
                    'a list of '
                    'objects, then start nova-compute'))
    return findings


def _device_spec_problem(raw: str) -> str | None:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return f'is not JSON ({exc})'
    specs = [data] if isinstance(data, dict) else data
    if not isinstance(specs, list):
        return 'is neither a JSON object nor a list'
    if not all(isinstance(spec, dict) for spec in specs):
        return 'holds a list item that is not a JSON object'
    return None


# --- flavors -------------------------------------------------------------

def flavor_problems(inventory: model.Inventory) -> model.Findings:
    """Flavor values and requests nova will refuse.

    Stored values nova cannot translate, aliases it does not know, and
    requests no host can satisfy (ever, or with today's free devices).
    """
    if inventory.flavors is None:
        return []
    configs = inventory.alias_configs
    findings = []
    for flavor in inventory.flavors:
        value = flavor.specs.get(pci_request.EXTRA_SPEC)
        if value is None:
            continue
        subject = f'flavor {flavor.name}'
        requests, problem = pci_request.parse_stored(value)
        if problem:
            findings.append(Finding(
                ERROR if not requests else WARNING, 'FLAVOR_VALUE_INVALID',
                subject, f'pci_passthrough:alias={value!r}: {problem}',
                f'openstack gpu flavor set {flavor.name} --alias '
                f'NAME:COUNT'))
        if not requests:
            continue
        undefined = _undefined_in(requests, configs)
        if undefined:
            findings.append(Finding(
                ERROR, 'FLAVOR_ALIAS_UNDEFINED', subject, undefined,
                'define the alias in [pci] alias of every nova.conf, or '
                'fix the flavor'))
            continue
        if inventory.pools is not None and configs:
            findings.extend(_flavor_capacity(
                inventory, flavor, requests, configs[0][1].aliases()))
    return findings


def _undefined_in(requests: pci_request.Requests,
                  configs: model.AliasConfigs) -> str | None:
    missing = []
    for conf, config in configs:
        for name in pci_request.undefined_aliases(requests,
                                                  config.aliases()):
            missing.append(f"'PCI alias {name} is not defined' "
                           f"({conf.path})")
    if missing:
        return 'every boot fails with ' + '; '.join(missing)
    return None


def _flavor_capacity(inventory: model.Inventory, flavor: model.Flavor,
                     requests: pci_request.Requests,
                     aliases: pci_alias.Aliases) -> model.Findings:
    subject = f'flavor {flavor.name}'
    wanted = pci_request.pci_requests(requests, aliases)
    # nova's NUMA fit where the guest has a topology (pci.numa)
    fit, findings = numa.flavor_fit(inventory, flavor, requests, aliases)
    if fit is None:
        return findings
    live = _live_nodes(inventory, wanted)
    # the common, healthy case first: one host with the devices free now
    if _hosts_fitting(live, fit, 'available', first=True):
        return findings + numa.notes_when_fits(inventory, flavor, fit, live)
    ever = _hosts_fitting(live, fit, 'usable')
    if ever and fit.guest and _hosts_supporting(live, wanted, 'available',
                                                first=True):
        findings.append(numa.no_free_capacity(inventory, flavor, fit, ever,
                                              requests))
    elif ever:
        findings.append(Finding(
            WARNING, 'FLAVOR_NO_FREE_CAPACITY', subject,
            f'{ever} host(s) could satisfy '
            f'{pci_request.canonical(requests)} but none has the devices '
            f'free now' + numa.unchecked(inventory, fit),
            'free devices (see PCI_DEVICE_LEAKED) or add hosts'))
    elif fit.guest and _hosts_supporting(live, wanted, 'usable', first=True):
        findings.append(numa.unsatisfiable(inventory, flavor, fit, live,
                                           requests))
    else:
        alone = ', '.join(
            f'{r.name}:{r.count} fits on '
            f'{_hosts_supporting(_live_nodes(inventory, [w]), [w], "usable")} '
            f'host(s)' for r, w in zip(requests, wanted))
        findings.append(Finding(
            ERROR, 'FLAVOR_UNSATISFIABLE', subject,
            f'no host can ever satisfy pci_passthrough:alias='
            f'{pci_request.canonical(requests)} (all devices on one host, '
            f'with nova\'s PF/VF/vdpa filtering): {alone}',
            'fix the aliases the other findings name, or put the devices '
            'together on one host'))
    return findings


def _live_nodes(inventory: model.Inventory,
                wanted: list[pci_request.Wanted]) -> numa.LiveNodes:
    """Pools per live node where every request has a spec-matching pool.

    The spec filter is nova's first step, so other nodes can never
    satisfy the request; skipping them keeps a 40,000-host cloud fast.
    """
    candidates: set[model.NodeKey] | None = None
    for _count, specs in wanted:
        nodes = {p.node_key for p in inventory.index.matching(specs)}
        candidates = nodes if candidates is None else candidates & nodes
    candidates = candidates or set()
    gone = inventory.gone_nodes
    return {key: pools for key, pools in inventory.index.node_pools().items()
            if key in candidates and key not in gone}


def _hosts_supporting(nodes: numa.LiveNodes,
                      wanted: list[pci_request.Wanted], count: str,
                      first: bool = False) -> int:
    """How many hosts satisfy ``wanted`` (count, specs), PCI alone.

    With their ``count`` devices and no NUMA step, as nova decides for a
    guest without a NUMA topology (see :func:`_hosts_fitting`).
    """
    return _hosts_fitting(nodes, numa.FlavorFit.pci_only(wanted), count,
                          first)


def _hosts_fitting(nodes: numa.LiveNodes, fit: numa.FlavorFit, count: str,
                   first: bool = False) -> int:
    """How many hosts ``fit`` (a numa.FlavorFit) accepts.

    ``count`` is ``usable`` (ever) or ``available`` (now); with ``first``
    the search stops at the first host that does.
    """
    found = 0
    for key, pools in nodes.items():
        if fit(key, pools, count):
            found += 1
            if first:
                break
    return found


# --- device rows ---------------------------------------------------------

def leaked_allocations(inventory: model.Inventory) -> model.Findings:
    if not inventory.leaks:
        return []
    per_node: dict[model.NodeKey, list[model.Leak]] = {}
    for leak in inventory.leaks:
        per_node.setdefault((leak.cell, leak.compute_node_id), []).append(
            leak)
    findings = []
    for (cell, node_id), leaks in sorted(per_node.items(),
                                         key=lambda kv: str(kv[0])):
        host = inventory.host(cell, node_id)
        shown = ', '.join(
            f'{lk.address} ({lk.status} to '
            f'{"deleted" if lk.instance_deleted else "unknown"} instance '
            f'{lk.instance_uuid})' for lk in leaks[:5])
        more = f' and {len(leaks) - 5} more' if len(leaks) > 5 else ''
        findings.append(Finding(
            WARNING, 'PCI_DEVICE_LEAKED', f'host {host}',
            f'{len(leaks)} device(s) held by instances that no longer '
            f'exist: {shown}{more}; nova will not hand them out',
            f'start nova-compute on {host} (it frees them at its next '
            f'resource update), or remove the host if decommissioned'))
    return findings


def devices_on_deleted_nodes(inventory: model.Inventory) -> model.Findings:
    if inventory.pools is None or not inventory.nodes:
        return []
    node_pools = inventory.index.node_pools()
    counts = {key: sum(p.total for p in node_pools[key])
              for key in inventory.gone_nodes}
    return [Finding(
        WARNING, 'DEVICES_ON_DELETED_NODE',
        f'host {inventory.host(*key)}',
        f'{n} live pci_devices row(s) point at a deleted or missing compute '
        f'node: nova never cleans them up and they skew every count',
        'nothing to do in nova; this tool ignores them for capacity')
        for key, n in sorted(counts.items(), key=lambda kv: str(kv[0]))]


# every rule: what the adapters found -> its findings
Rule = Callable[[model.Inventory], model.Findings]
RULES: tuple[Rule, ...] = (
    alias_invalid,
    alias_differs_between_confs,
    deprecated_option_names,
    device_spec_invalid,
    alias_never_matches,
    gpus_without_alias,
    pf_and_vfs_in_placement,
    flavor_problems,
    leaked_allocations,
    devices_on_deleted_nodes,
    scheduler.filters_not_available,
    scheduler.pci_flavors_not_scheduled,
    scheduler.numa_flavors_not_filtered,
    scheduler.scheduler_conf_assumed,
    placement.flavors_without_candidates,
    placement.devices_without_provider,
    placement.inventory_mismatches,
    placement.providers_missing_traits,
    placement.usage_mismatches,
)


def run(inventory: model.Inventory,
        rules: Iterable[Rule] = RULES) -> model.Findings:
    findings = []
    for rule in rules:
        findings.extend(rule(inventory))
    findings.extend(Finding(INFO, 'NOTE', 'audit', note, '')
                    for note in inventory.notes)
    return sorted(findings, key=lambda f: (severity.rank(f.severity),
                                           f.code, f.subject))
