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

"""PCI in placement: the resource class and traits an alias asks for.

With ``[filter_scheduler] pci_in_placement`` on, nova-api turns each
device of a PCI request into a placement request group for the alias's
resource class and traits (nova/objects/request_spec.py
``generate_request_groups_from_pci_requests``); nova-compute, with
``[pci] report_in_placement``, reports each device as a provider whose
resource class and traits come from the first matching ``[pci]
device_spec`` entry (nova/compute/pci_placement_translator.py). When no
device's provider carries what the alias asks for, placement returns no
allocation candidate and every boot ends in "No valid host was found",
whatever the pools say. Names are normalised with os-resource-classes and
os-traits, the libraries nova itself calls, so they agree to the letter.

Limits: pools carry no PCI address, so a device_spec entry that selects by
``address`` or ``devname`` is taken to match every device with its ids;
the live placement inventory is not read (only what nova.conf and
pci_devices imply).
"""

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
import json

import os_resource_classes
import os_traits

from gpupassthrough_osc.pci import alias as pci_alias
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.pci import request as pci_request
from gpupassthrough_osc.pci import scheduler
from gpupassthrough_osc import severity


def normalize_resource_class(name: str) -> str:
    """nova's ``_normalize_resource_class``: standard, CUSTOM_, or made so."""
    name = name.upper()
    if name not in os_resource_classes.STANDARDS and \
            not os_resource_classes.is_custom(name):
        name = os_resource_classes.normalize_name(name)
    return name


def resource_class(requested: str | None, vendor_id: str | None,
                   product_id: str | None) -> str:
    """nova's ``get_resource_class``, for an alias and for a device."""
    if requested:
        return normalize_resource_class(requested)
    return f'CUSTOM_PCI_{vendor_id}_{product_id}'.upper()


def traits(value: str | None) -> frozenset[str]:
    """nova's ``get_traits``: a comma list, standard names kept as given."""
    if not value:
        return frozenset()
    standard, rest = os_traits.check_traits(value.split(','))
    custom = [name.upper() if os_traits.is_custom(name.upper())
              else os_traits.normalize_name(name.upper()) for name in rest]
    return frozenset([*standard, *custom])


def _entries(conf: model.NovaConf) -> list[pci_pools.Spec]:
    return [entry for raw in conf.device_spec
            for entry in pci_pools.device_spec_entries(raw)]


def provider_of(pool: pci_pools.HasIds, entries: Iterable[pci_pools.Spec]
                ) -> tuple[str, frozenset[str]] | None:
    """(resource class, traits) nova-compute reports for a pool's devices.

    The first entry whose ids match wins (nova/pci/whitelist.py
    ``get_devspec``); an entry with a ``physical_network`` is a neutron
    SR-IOV device that nova never reports to placement.
    """
    for entry in entries:
        if pci_pools.device_spec_matches_ids(entry, pool):
            if entry.get('physical_network'):
                return None
            return (resource_class(entry.get('resource_class'),
                                   pool.vendor_id, pool.product_id),
                    traits(entry.get('traits')) | {
                        'COMPUTE_MANAGED_PCI_DEVICE'})
    return None


def _compute_entries(confs: Iterable[model.NovaConf]
                     ) -> list[pci_pools.Spec] | None:
    """device_spec of the nova.conf(s) that report to placement."""
    reporting = [c for c in confs if c.report_in_placement]
    if not reporting:
        return None
    return [e for c in reporting for e in _entries(c)]


def flavors_without_candidates(inventory: model.Inventory) -> model.Findings:
    """FLAVOR_PLACEMENT_NO_CANDIDATE: no provider has the alias's RC+traits.

    Only when the scheduler's nova.conf turns ``pci_in_placement`` on.
    """
    confs, _note = scheduler.scheduler_confs(inventory.confs)
    if not any(c.pci_in_placement for c in confs) or \
            inventory.flavors is None or inventory.pools is None:
        return []
    configs = inventory.alias_configs
    if not configs or configs[0][1].error:
        return []
    aliases = configs[0][1].aliases()
    entries = _compute_entries(inventory.confs)
    findings = []
    for flavor in inventory.flavors:
        value = flavor.specs.get(pci_request.EXTRA_SPEC)
        requests = pci_request.parse_stored(value)[0] if value else []
        if not requests or pci_request.undefined_aliases(requests,
                                                         aliases):
            continue
        for request in requests:
            problem = _unplaceable(inventory, aliases[request.name][1],
                                   entries)
            if problem:
                findings.append(model.Finding(
                    severity.ERROR, 'FLAVOR_PLACEMENT_NO_CANDIDATE',
                    f'flavor {flavor.name}',
                    f'flavor {flavor.name} requests {request} and '
                    f'[filter_scheduler] pci_in_placement is on: {problem}; '
                    f'placement returns no allocation candidate and every '
                    f'boot ends in "No valid host was found"',
                    _fix(inventory, configs[0][1], request.name, entries)))
                break
    return findings


def _fix(inventory: model.Inventory, config: pci_alias.AliasConfig,
         name: str, entries: list[pci_pools.Spec] | None) -> str:
    """The alias line asking for what the devices' providers offer.

    The alias's ids pick the devices; when their providers share one
    resource class, the alias asks for it and for only the traits they
    carry. Otherwise, say what to align.
    """
    generic = ('make the alias resource_class/traits equal what the [pci] '
               'device_spec entry gives the devices (or drop them from the '
               'alias), then restart nova-api')
    entry = next((e for e in config.entries if e.name == name), None)
    if entry is None or entries is None:
        return generic
    alias = json.loads(entry.raw)
    ids = {k: alias[k] for k in ('vendor_id', 'product_id') if k in alias}
    offered: dict[str, set[str]] = {}
    for pool in inventory.pools or []:
        if all(getattr(pool, k).lower() == str(v).lower()
               for k, v in ids.items()):
            provider = provider_of(pool, entries)
            if provider:
                offered.setdefault(provider[0], set()).update(provider[1])
    if len(offered) != 1:
        return generic
    (rc, offered_traits), = offered.items()
    fixed = dict(alias, resource_class=rc)
    kept = [tr for tr in traits(alias.get('traits')) if tr in offered_traits]
    fixed.pop('traits', None)
    if kept:
        fixed['traits'] = ','.join(sorted(kept))
    return ('in [pci] on nova-api hosts and every compute: alias = '
            f'{json.dumps(fixed)}, then restart nova-api and nova-compute')


def _unplaceable(inventory: model.Inventory, specs: list[pci_pools.Spec],
                 entries: list[pci_pools.Spec] | None) -> str | None:
    spec = specs[0]
    wanted_rc = resource_class(spec.get('resource_class'),
                               spec.get('vendor_id'), spec.get('product_id'))
    wanted_traits = traits(spec.get('traits'))
    wants = f'resource class {wanted_rc}' + (
        f" with traits {', '.join(sorted(wanted_traits))}"
        if wanted_traits else '')
    if entries is None:
        return (f'it asks placement for {wants}, but no nova.conf given '
                f'sets [pci] report_in_placement, so no compute reports a '
                f'PCI device')
    offered: dict[str, set[str]] = {}
    for pool in inventory.pools or []:
        provider = provider_of(pool, entries)
        if provider:
            offered.setdefault(provider[0], set()).update(provider[1])
            if provider[0] == wanted_rc and wanted_traits <= provider[1]:
                return None
    if wanted_rc in offered:
        missing = wanted_traits - offered[wanted_rc]
        return (f"it asks placement for {wants}; the devices with that "
                f"resource class lack {', '.join(sorted(missing))} "
                f"(their device_spec gives "
                f"{', '.join(sorted(offered[wanted_rc])) or 'no trait'})")
    return (f"it asks placement for {wants}, which no device's provider "
            f"has (device_spec gives: "
            f"{', '.join(sorted(offered)) or 'nothing reported'})")


# --- what placement holds, against pci_devices ---------------------------
#
# Nova's side of this is nova/compute/pci_placement_translator.py: with
# [pci] report_in_placement on, every type-PCI/type-PF device (and each PF
# whose VFs are tracked) becomes a child provider of the compute node's root
# provider, named "<hypervisor_hostname>_<ADDRESS upper-cased>", with one
# resource class whose total is the number of tracked devices on it and the
# traits COMPUTE_MANAGED_PCI_DEVICE, OWNER_NOVA and the device_spec's.

MANAGED_TRAIT = 'COMPUTE_MANAGED_PCI_DEVICE'
OWNER_TRAIT = 'OWNER_NOVA'


CHILD_TYPES = ('type-VF', 'type-VDPA')


def provider_name(hypervisor_hostname: str, device: model.Device) -> str:
    """nova's ``_get_rp_name_for_address``; a VF counts on its PF's RP."""
    address = device.parent_addr if device.dev_type in CHILD_TYPES and \
        device.parent_addr else device.address
    return f'{hypervisor_hostname}_{address.upper()}'


def reported_devices(view: model.NodeView) -> dict[str, list[model.Device]]:
    """{provider name: [Device]} nova-compute reports for the node.

    Live rows only (``removed`` ones are not counted,
    ``_get_inventories``); a device whose first device_spec entry has a
    ``physical_network`` is neutron's and never reported (``_add_dev``).
    Without the node's device_spec every live row is taken as reported.
    """
    reported: dict[str, list[model.Device]] = {}
    for device in view.devices:
        if device.status in pci_pools.GONE_STATUSES:
            continue
        if view.entries is not None and \
                provider_of(device, view.entries) is None:
            continue
        reported.setdefault(provider_name(view.hypervisor_hostname,
                                          device), []).append(device)
    return reported


def reporting_entries(confs: Sequence[model.NovaConf]
                      ) -> list[pci_pools.Spec] | None:
    """device_spec of the nova.conf(s) with report_in_placement, or None."""
    return _compute_entries(confs)


def _views(inventory: model.Inventory) -> list[model.NodeView]:
    return inventory.providers or []


def _pci_provider(view: model.NodeView, name: str) -> model.Provider | None:
    return next((p for p in view.providers
                 if p.name == name and p.uuid != view.root_uuid), None)


def _reported_providers(inventory: model.Inventory) -> Iterator[
        tuple[model.NodeView, str, list[model.Device], model.Provider]]:
    """(view, provider name, [Device], Provider) of each reported PCI RP."""
    for view in _views(inventory):
        for name, devices in sorted(reported_devices(view).items()):
            provider = _pci_provider(view, name)
            if provider is not None:
                yield view, name, devices, provider


def unallocated_holders(view: model.NodeView) -> list[str]:
    """Instances holding devices on a provider whose usage is lower.

    The consumers whose placement allocations say why (read with
    ``GET /allocations/<instance uuid>``).
    """
    holders: set[str] = set()
    for name, devices in reported_devices(view).items():
        provider = _pci_provider(view, name)
        if provider is None or provider.usages is None:
            continue
        held = [d for d in devices if d.status in pci_pools.USED_STATUSES]
        if sum(provider.usages.values()) < len(held):
            holders.update(d.instance_uuid for d in held if d.instance_uuid)
    return sorted(holders)


def _heal_fix(view: model.NodeView, held: list[model.Device]) -> str:
    """What heals a device nova handed out without a placement usage.

    nova-compute heals only inside an instance's existing allocation on
    its tree; a consumer with none there is skipped (the translator's
    comment points to ``nova-manage placement heal_allocations``).
    """
    generic = ('nova-compute heals this on its next update when the '
               'instance has an allocation on this host; otherwise '
               'nova-manage placement heal_allocations')
    if view.allocations is None:
        return generic
    tree = {p.uuid for p in view.providers}
    allocations = view.allocations
    orphans = sorted({d.instance_uuid for d in held if d.instance_uuid and
                      tree.isdisjoint(allocations.get(d.instance_uuid) or {})})
    if not orphans:
        return ('the instances have allocations on this host, so '
                'nova-compute heals the PCI amount on its next update: '
                'restart it if it does not')
    return (f"{', '.join(orphans)} ha{'s' if len(orphans) == 1 else 've'} "
            f"no allocation on this host, which nova-compute never heals: "
            f"nova-manage placement heal_allocations --instance "
            f"{orphans[0]}")


def _devices_text(devices: list[model.Device], limit: int = 3) -> str:
    shown = ', '.join(f'{d.address} ({d.vendor_id}:{d.product_id} '
                      f'{d.dev_type})' for d in devices[:limit])
    more = len(devices) - limit
    return shown + (f' and {more} more' if more > 0 else '')


def devices_without_provider(inventory: model.Inventory) -> model.Findings:
    """PLACEMENT_DEVICE_NO_PROVIDER: a tracked device placement lacks.

    nova/compute/pci_placement_translator.py names one provider per
    type-PCI/type-PF device (VFs on their PF's); with ``pci_in_placement``
    a PCI request group can only land on such a provider.
    """
    findings = []
    for view in _views(inventory):
        missing = [(name, devices) for name, devices in
                   sorted(reported_devices(view).items())
                   if _pci_provider(view, name) is None]
        if not missing:
            continue
        managed = [p for p in view.providers if p.traits is not None and
                   MANAGED_TRAIT in p.traits]
        why = ('placement holds no PCI provider at all in its tree: '
               '[pci] report_in_placement is off on this compute, or '
               'nova-compute has not reported since it was turned on'
               if not managed and len(missing) == len(
                   reported_devices(view)) else
               'nova-compute did not report them (it logs why: a '
               'refused device_spec stops it at start-up)')
        devices = [d for _name, group in missing for d in group]
        findings.append(model.Finding(
            severity.ERROR, 'PLACEMENT_DEVICE_NO_PROVIDER', view.host,
            f"{view.host}: {len(missing)} provider(s) missing in placement "
            f"({', '.join(n for n, _ in missing[:3])}"
            f"{' ...' if len(missing) > 3 else ''}) for device(s) "
            f"{_devices_text(devices)}; {why}. With [filter_scheduler] "
            f"pci_in_placement on, no PCI flavor gets an allocation "
            f"candidate for these devices",
            'set [pci] report_in_placement = True in this compute\'s '
            'nova.conf, restart nova-compute and read its log for a '
            'PlacementPciException'))
    return findings


def _inventory_line(provider: model.Provider) -> str:
    return ', '.join(f"{rc} total {inv.get('total')}"
                     for rc, inv in sorted(provider.inventories.items())
                     ) or 'no inventory'


def inventory_mismatches(inventory: model.Inventory) -> model.Findings:
    """PLACEMENT_INVENTORY_MISMATCH / PLACEMENT_RESOURCE_CLASS_MISMATCH.

    nova's ``_get_inventories``: one resource class per provider, total =
    the live devices on it; the class is the first matching device_spec
    entry's (``get_resource_class``), as :func:`provider_of` gives it.
    """
    findings = []
    for view, name, devices, provider in _reported_providers(inventory):
        subject = f'{view.host} {name}'
        expected = provider_of(devices[0], view.entries) \
            if view.entries is not None else None
        if expected and set(provider.inventories) != {expected[0]}:
            findings.append(model.Finding(
                severity.ERROR, 'PLACEMENT_RESOURCE_CLASS_MISMATCH',
                subject,
                f'{view.host}: provider {name} holds '
                f'{_inventory_line(provider)} but the device_spec '
                f'gives its devices resource class {expected[0]}: '
                f'nova-compute has not reported since device_spec '
                f'changed, or placement refused the change '
                f'(InventoryInUse while a device is allocated); '
                f'aliases asking for {expected[0]} get no candidate '
                f'here',
                'restart nova-compute on this host and read its log '
                'for "Error updating resources" / '
                'PlacementPciException'))
            continue
        totals = [inv.get('total') for inv in
                  provider.inventories.values()]
        if totals != [len(devices)]:
            findings.append(model.Finding(
                severity.WARNING, 'PLACEMENT_INVENTORY_MISMATCH', subject,
                f'{view.host}: provider {name} holds '
                f'{_inventory_line(provider)} but pci_devices has '
                f'{len(devices)} live device(s) on it '
                f'({_devices_text(devices)}): placement and the '
                f'PCI tracker count different devices, so placement '
                f'offers candidates the compute claim refuses (or '
                f'hides devices); nova only raises total to usage '
                f'for held devices (_adjust_for_removals_and_held_'
                f'devices)',
                'restart nova-compute on this host so it reports '
                'again; if a removed device is still allocated, '
                'free it first'))
    return findings


def providers_missing_traits(inventory: model.Inventory) -> model.Findings:
    """PLACEMENT_TRAITS_MISSING: nova's traits absent from a PCI provider.

    nova replaces the whole set on each update (``update_traits``): the
    device_spec's + COMPUTE_MANAGED_PCI_DEVICE + OWNER_NOVA; the
    scheduler requires OWNER_NOVA once every compute is at service
    version 73 (``request_filter.owner_nova_filter``).
    """
    findings = []
    for view, name, devices, provider in _reported_providers(inventory):
        if provider.traits is not None:
            expected = {MANAGED_TRAIT, OWNER_TRAIT}
            if view.entries is not None:
                spec = provider_of(devices[0], view.entries)
                expected |= spec[1] if spec else set()
            missing = sorted(expected - provider.traits)
            if missing:
                findings.append(model.Finding(
                    severity.ERROR, 'PLACEMENT_TRAITS_MISSING',
                    f'{view.host} {name}',
                    f"{view.host}: provider {name} lacks "
                    f"{', '.join(missing)} (it has "
                    f"{', '.join(sorted(provider.traits)) or 'no trait'}): "
                    f"nova-compute sets them on every update, so it has "
                    f"not run since they were removed; PCI request groups "
                    f"require OWNER_NOVA and the alias's traits, so this "
                    f"device gets no allocation candidate",
                    'restart nova-compute on this host; do not set traits '
                    'on PCI providers by hand'))
    return findings


def usage_mismatches(inventory: model.Inventory) -> model.Findings:
    """PLACEMENT_USAGE_WITHOUT_DEVICE / PLACEMENT_DEVICE_NOT_ALLOCATED.

    Placement's usage of a PCI provider against the devices pci_devices
    records as allocated or claimed on it. nova heals a missing or
    different amount only inside an instance's existing allocation and
    never removes extra ones (``update_provider_tree_for_pci``).
    """
    findings = []
    for view, name, devices, provider in _reported_providers(inventory):
        if provider.usages is not None:
            used = sum(provider.usages.values())
            held = [d for d in devices if d.status in pci_pools.USED_STATUSES]
            subject = f'{view.host} {name}'
            holders = ', '.join(sorted({d.instance_uuid or '?'
                                        for d in held}))
            if used > len(held):
                findings.append(model.Finding(
                    severity.WARNING, 'PLACEMENT_USAGE_WITHOUT_DEVICE',
                    subject,
                    f'{view.host}: provider {name} has usage {used} in '
                    f'placement but pci_devices holds {len(held)} '
                    f'device(s) on it allocated or claimed: placement '
                    f'keeps {used - len(held)} device(s) from every '
                    f'boot (nova never removes extra PCI allocations)',
                    f'find the consumer (openstack resource provider '
                    f'show {provider.uuid} --allocations) and delete its '
                    f'stale allocation, or run nova-manage placement '
                    f'heal_allocations / audit --delete'))
            elif used < len(held):
                findings.append(model.Finding(
                    severity.WARNING, 'PLACEMENT_DEVICE_NOT_ALLOCATED',
                    subject,
                    f'{view.host}: pci_devices holds {len(held)} '
                    f'device(s) on provider {name} allocated or claimed '
                    f'(instances {holders}) but placement shows usage '
                    f'{used}: placement offers a device the compute '
                    f'claim then refuses ("Claim pci failed", reschedule)',
                    _heal_fix(view, held)))
    return findings
