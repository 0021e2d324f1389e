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

"""Device pools and the filters nova's scheduler applies to them.

Mirrors nova/pci/stats.py (``PciDeviceStats._filter_pools`` and
``support_requests``) and nova/pci/utils.py (``pci_device_prop_match``).
Nova keys its pools by vendor_id, product_id, numa_node and dev_type (plus
device_spec tags, which the database does not hold); a pool here is the
same grouping of live ``pci_devices`` rows of one compute node, counted by
status, so one aggregate query can feed every rule.

NUMA affinity lives in pci.numa; it plugs into :func:`filter_pools` as
the step nova runs right after the spec filter.
"""

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
import dataclasses
import json
import typing

from gpupassthrough_osc import exceptions

# The shapes nova/pci/stats.py passes around: a pool dict (vendor_id,
# product_id, dev_type, numa_node, count, ...) and a request spec (alias
# keys, or one [pci] device_spec entry).
Pool = dict[str, typing.Any]
Spec = dict[str, typing.Any]
# one of nova's filter steps; the NUMA step knows its specs already
PoolFilter = Callable[[list[Pool], list[Spec]], list[Pool]]
NumaStep = Callable[[list[Pool]], list[Pool]]
# (filter name, devices it dropped)
Dropped = list[tuple[str, int]]

PF = 'type-PF'
VF = 'type-VF'
PCI = 'type-PCI'
VDPA = 'vdpa'
# nova/objects/fields.py PciDeviceType, as the dev_type column holds it
DEV_TYPES = (PCI, PF, VF, VDPA)

# Statuses of a row that can serve a request once freed
# (nova/objects/fields.py PciDeviceStatus); removed/deleted rows never can.
AVAILABLE = 'available'
GONE_STATUSES = ('removed', 'deleted')
USED_STATUSES = ('allocated', 'claimed')

# nova/pci/stats.py ignored_spec_tags: matched elsewhere (placement).
IGNORED_SPEC_TAGS = ('resource_class', 'traits', 'rp_uuids')


@dataclasses.dataclass(frozen=True, slots=True)
class DevicePool:
    """Live rows of one compute node that share nova's pool keys."""

    cell: str
    compute_node_id: int
    vendor_id: str
    product_id: str
    dev_type: str
    numa_node: int | None
    total: int = 0       # every live row
    usable: int = 0      # not removed/deleted: could serve once free
    available: int = 0   # status 'available': what the scheduler sees now
    used: int = 0        # allocated or claimed

    @property
    def node_key(self) -> tuple[str, int]:
        return (self.cell, self.compute_node_id)

    def nova_pool(self, count: int) -> Pool:
        """The pool dict nova's filters work on, with ``count`` devices."""
        return {'vendor_id': self.vendor_id, 'product_id': self.product_id,
                'dev_type': self.dev_type, 'numa_node': self.numa_node,
                'count': count}


class HasIds(typing.Protocol):
    """A DevicePool, or one device (pci.model.Device)."""

    @property
    def vendor_id(self) -> str:
        ...

    @property
    def product_id(self) -> str:
        ...


def aggregate(devices: Iterable[dict[str, typing.Any]],
              cell: str = '') -> list[DevicePool]:
    """Group device rows (dicts) into pools, as the SQL aggregate does.

    For exports read from files; the database path aggregates in SQL.
    """
    counts: dict[tuple[typing.Any, ...], list[int]] = {}
    for dev in devices:
        key = (dev.get('cell') or cell, int(dev['compute_node_id']),
               dev['vendor_id'].lower(), dev['product_id'].lower(),
               dev['dev_type'], _int_or_none(dev.get('numa_node')))
        c = counts.setdefault(key, [0, 0, 0, 0])
        status = dev['status']
        c[0] += 1
        c[1] += status not in GONE_STATUSES
        c[2] += status == AVAILABLE
        c[3] += status in USED_STATUSES
    return [DevicePool(*key, *c) for key, c in sorted(
        counts.items(), key=lambda kv: tuple(str(k) for k in kv[0]))]


def _int_or_none(value: typing.Any) -> int | None:
    if value in (None, '', 'NULL'):
        return None
    return int(value)


def summed(device_pools: list[DevicePool],
           count: str = 'usable') -> list[dict[str, typing.Any]]:
    """One nova pool per kind of ``device_pools``, counts added up.

    Nova's filters (:data:`FILTERS`) judge each pool by its keys alone
    and count what they drop, so pools of many hosts summed per
    (vendor_id, product_id, dev_type, numa_node) keep and drop the same
    devices; a kind whose ``count`` is 0 is kept, as its pools were.
    """
    kinds: dict[tuple[typing.Any, ...], tuple[DevicePool, int]] = {}
    for pool in device_pools:
        kind = (pool.vendor_id, pool.product_id, pool.dev_type,
                pool.numa_node)
        first, total = kinds.get(kind, (pool, 0))
        kinds[kind] = (first, total + getattr(pool, count))
    return [first.nova_pool(total) for first, total in kinds.values()]


def prop_match(pool: Pool, specs: Iterable[Spec]) -> bool:
    """nova/pci/utils.py pci_device_prop_match: any spec matches fully.

    Every key of a spec must be present in the pool with an equal value,
    compared case-insensitively; a key the pool lacks fails the spec.
    """
    def _matches(spec: Spec) -> bool:
        for key, want in spec.items():
            have = pool.get(key)
            if isinstance(want, str):
                want = want.lower()
            if isinstance(have, str):
                have = have.lower()
            if have != want:
                return False
        return True
    return any(_matches(spec) for spec in specs)


def without_ignored(spec: Spec) -> Spec:
    return {k: v for k, v in spec.items() if k not in IGNORED_SPEC_TAGS}


def without_dev_type(spec: Spec) -> Spec:
    """An alias spec without dev_type: which devices its ids point at."""
    return {k: v for k, v in spec.items() if k != 'dev_type'}


def device_spec_entries(raw: str) -> list[Spec]:
    """The dicts of one ``[pci] device_spec`` value, [] if not JSON.

    nova/pci/whitelist.py: a value is one JSON object or a list of them;
    DEVICE_SPEC_INVALID reports values that are neither.
    """
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    entries = data if isinstance(data, list) else [data]
    return [e for e in entries if isinstance(e, dict)]


def device_spec_matches_ids(entry: Spec, pool: HasIds) -> bool:
    """A device_spec entry's ids ('*' when unset) match the pool's.

    nova/pci/devspec.py; addresses are not in pools, callers say so.
    """
    def wants(key: str, value: str) -> bool:
        want = str(entry.get(key, '*')).lower()
        return want in ('*', '') or want == value.lower()
    return wants('vendor_id', pool.vendor_id) and \
        wants('product_id', pool.product_id)


def filter_for_spec(pools: list[Pool], specs: list[Spec]) -> list[Pool]:
    specs = [without_ignored(s) for s in specs]
    return [p for p in pools if prop_match(p, specs)]


def filter_unrequested_pfs(pools: list[Pool],
                           specs: list[Spec]) -> list[Pool]:
    """PF pools are dropped unless some spec asks for dev_type type-PF.

    This is the A40 trap: the card reports SR-IOV capability, nova records
    it as type-PF, and an alias without ``"device_type": "type-PF"`` can
    never get it.
    """
    if all(s.get('dev_type') != PF for s in specs):
        return [p for p in pools if p.get('dev_type') != PF]
    return pools


def filter_unrequested_vdpa(pools: list[Pool],
                            specs: list[Spec]) -> list[Pool]:
    if all(s.get('dev_type') != VDPA for s in specs):
        return [p for p in pools if p.get('dev_type') != VDPA]
    return pools


def _true(value: object) -> bool:
    return str(value).strip().lower() in ('1', 't', 'true', 'on', 'y', 'yes')


def filter_unrequested_remote_managed(pools: list[Pool],
                                      specs: list[Spec]) -> list[Pool]:
    if all(not _true(s.get('remote_managed')) for s in specs):
        return [p for p in pools if not _true(p.get('remote_managed'))]
    return pools


def filter_live_migratable(pools: list[Pool],
                           specs: list[Spec]) -> list[Pool]:
    for wanted in ('true', 'false'):
        if all(s.get('live_migratable') == wanted for s in specs):
            return [p for p in pools if p.get('live_migratable') == wanted]
    return pools


# In nova's order (_filter_pools); the NUMA step (pci.numa) goes between
# the first two, the placement step is left out.
FILTERS: tuple[tuple[str, PoolFilter], ...] = (
    ('spec', filter_for_spec),
    ('unrequested PF', filter_unrequested_pfs),
    ('unrequested vdpa', filter_unrequested_vdpa),
    ('unrequested remote-managed', filter_unrequested_remote_managed),
    ('live-migratable', filter_live_migratable),
)


def filter_pools(pools: list[Pool], specs: list[Spec],
                 numa_step: NumaStep | None = None
                 ) -> tuple[list[Pool], Dropped]:
    """Apply nova's filters; return the kept pools and what each dropped.

    ``dropped`` is a list of (filter name, device count) for each filter
    that removed devices, so a caller can say *why* nothing is left.
    ``numa_step(pools)``, if given, runs right after the spec filter, as
    nova's ``_filter_pools`` does: the PF filter comes after it, so an
    unrequested local PF still counts as "enough local devices".
    """
    steps = list(FILTERS)
    if numa_step is not None:
        numa = numa_step
        steps.insert(1, ('NUMA affinity', lambda pools, _specs: numa(
            pools)))
    dropped = []
    for name, step in steps:
        before = sum(p['count'] for p in pools)
        pools = step(pools, specs)
        after = sum(p['count'] for p in pools)
        if after < before:
            dropped.append((name, before - after))
    return pools, dropped


def supports(pools: Iterable[Pool],
             requests: Iterable[tuple[int, list[Spec]]],
             numa_steps: Sequence[NumaStep | None] | None = None) -> bool:
    """Can one host's pools satisfy all ``requests`` together?

    ``requests`` is a list of (count, specs). Mirrors nova's
    ``support_requests``: requests are applied one after the other to a
    copy of the pools, each consuming devices the next cannot reuse, in
    the order the filters leave them. ``numa_steps`` holds one NUMA step
    per request (see :func:`filter_pools`).
    """
    pools = [dict(p) for p in pools if p['count'] > 0]
    for index, (count, specs) in enumerate(requests):
        kept, _dropped = filter_pools(
            pools, specs, numa_steps[index] if numa_steps else None)
        if sum(p['count'] for p in kept) < count:
            return False
        for pool in kept:
            take = min(count, pool['count'])
            pool['count'] -= take
            count -= take
            if not count:
                break
        pools = [p for p in pools if p['count'] > 0]
    return True


def recorded_device_type(pools: Iterable[DevicePool], vendor_id: str,
                         product_id: str) -> str:
    """The alias device_type that matches what nova recorded for the ids.

    Nova records an SR-IOV capable card as type-PF even with no VF enabled
    (nova/virt/libvirt/host.py ``_get_pcidev_info``); the A40's VFs carry
    the same product id as type-VF. One alias name has one device_type
    (nova/pci/request.py), so ids recorded as two types are refused.
    Raises DeviceTypeError saying why.
    """
    recorded = sorted({p.dev_type for p in pools
                       if (p.vendor_id, p.product_id) ==
                       (vendor_id, product_id)})
    ids = f'{vendor_id}:{product_id}'
    if not recorded:
        raise exceptions.DeviceTypeError(
            f'{ids} is not recorded in pci_devices of any cell: pass '
            f'--device-type, or check [pci] device_spec on the computes')
    if len(recorded) > 1:
        raise exceptions.DeviceTypeError(
            f"{ids} is recorded as {' and '.join(recorded)}: one alias "
            f"cannot mean both (nova requires one device_type per alias "
            f"name); pass --device-type type-PF for whole GPUs or type-VF "
            f"for virtual functions, and use two alias names if both are "
            f"wanted")
    if recorded[0] == VDPA:
        raise exceptions.DeviceTypeError(
            f'{ids} is recorded as vdpa, which PCI aliases cannot request')
    return recorded[0]


class PoolIndex:
    """Pools indexed by (vendor_id, product_id) and by node, built once.

    Nova compares every spec key case-insensitively, so a spec naming both
    ids can only match pools with those ids: looking them up first and
    then applying :func:`prop_match` gives nova's answer without testing
    every pool of a 40,000-host cloud against every alias. Pools that
    share vendor_id, product_id, dev_type and numa_node (the keys of
    nova's pool dict) get the same answer, so each such kind is matched
    once, not once per host.
    """

    def __init__(self, pools: Iterable[DevicePool]) -> None:
        self.pools = list(pools)
        self._by_ids: dict[tuple[str, str], list[DevicePool]] = {}
        for pool in self.pools:
            self._by_ids.setdefault(
                (pool.vendor_id.lower(), pool.product_id.lower()),
                []).append(pool)
        self._by_node: dict[tuple[str, int],
                            list[DevicePool]] | None = None

    def _candidates(self, spec: Spec) -> list[DevicePool]:
        vendor, product = spec.get('vendor_id'), spec.get('product_id')
        if isinstance(vendor, str) and isinstance(product, str):
            return self._by_ids.get((vendor.lower(), product.lower()), [])
        return self.pools

    def matching(self, specs: Iterable[Spec],
                 count: str = 'usable') -> list[DevicePool]:
        """DevicePools whose nova pool matches any of ``specs``."""
        specs = [without_ignored(s) for s in specs]
        seen: dict[int, DevicePool] = {}
        for spec in specs:
            verdicts: dict[tuple[typing.Any, ...], bool] = {}
            for pool in self._candidates(spec):
                if id(pool) in seen:
                    continue
                if 'count' in spec:
                    # the one key whose value differs between pools of a kind
                    match = prop_match(pool.nova_pool(getattr(pool, count)),
                                       [spec])
                else:
                    kind = (pool.vendor_id, pool.product_id, pool.dev_type,
                            pool.numa_node)
                    if kind not in verdicts:
                        verdicts[kind] = prop_match(pool.nova_pool(0),
                                                    [spec])
                    match = verdicts[kind]
                if match:
                    seen[id(pool)] = pool
        return list(seen.values())

    def node_pools(self) -> dict[tuple[str, int], list[DevicePool]]:
        """{(cell, compute_node_id): [DevicePool]}, in the pools' order."""
        if self._by_node is None:
            self._by_node = {}
            for pool in self.pools:
                self._by_node.setdefault(pool.node_key, []).append(pool)
        return self._by_node
