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

"""NUMA affinity of PCI devices, as nova 34 decides it.

One function per nova rule, pure (no I/O):

* the host's NUMA cells, from ``compute_nodes.numa_topology``
  (nova/objects/numa.py ``NUMATopology``);
* the guest's NUMA topology, from the flavor's extra specs
  (nova/virt/hardware.py ``numa_get_constraints``); image properties can
  add or change one, and we never see images;
* the PCI NUMA affinity policy of each request
  (nova/pci/request.py ``_translate_alias_to_requests``) and the pool
  filter it drives (nova/pci/stats.py ``_filter_pools_for_numa_cells``);
* one host's fit: ``hardware.numa_fit_instance_to_host`` with
  ``PciDeviceStats.support_requests(requests, None, numa_cells)``;

and, last, the audit's NUMA findings, which audit.py's capacity check
asks for (FLAVOR_NUMA_UNSATISFIABLE and friends).
"""

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from collections.abc import Sized
import dataclasses
import functools
import itertools
import json
import math
import re
import types
import typing

from gpupassthrough_osc import exceptions as gpu_exceptions
from gpupassthrough_osc.pci import alias as pci_alias
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.pci import request as pci_request
from gpupassthrough_osc.pci import scheduler
from gpupassthrough_osc import severity

# nova/objects/fields.py PCINUMAAffinityPolicy
REQUIRED = 'required'
LEGACY = 'legacy'
PREFERRED = 'preferred'
SOCKET = 'socket'
POLICIES = (REQUIRED, LEGACY, PREFERRED, SOCKET)
POLICY_SPEC = 'hw:pci_numa_affinity_policy'

# nova/objects/fields.py CPUAllocationPolicy, CPUThreadAllocationPolicy,
# CPUEmulatorThreadsPolicy
SHARED = 'shared'
DEDICATED = 'dedicated'
MIXED = 'mixed'
CPU_POLICIES = (DEDICATED, SHARED, MIXED)
PINNED = (DEDICATED, MIXED)
PREFER = 'prefer'
ISOLATE = 'isolate'
REQUIRE = 'require'
THREAD_POLICIES = (PREFER, ISOLATE, REQUIRE)
EMULATOR_POLICIES = ('share', ISOLATE)

# nova/virt/hardware.py MEMPAGES_*
MEMPAGES_SMALL = -1
MEMPAGES_LARGE = -2
MEMPAGES_ANY = -3
# nova/objects/image_meta.py ImageMetaProps.NUMA_NODES_MAX
NUMA_NODES_MAX = 128

Pool = pci_pools.Pool   # a nova pool dict, as DevicePool.nova_pool
NodeKey = model.NodeKey  # (cell, compute node id), as Inventory.nodes
# (count, [spec, ...], numa_policy)
PciRequest = tuple[int, list[pci_pools.Spec], str | None]
Limits = tuple[float, float]  # (cpu_allocation_ratio, ram_allocation_ratio)
# the pools of each live node (audit._live_nodes)
LiveNodes = dict[NodeKey, list[pci_pools.DevicePool]]
# a page size in KiB, or MEMPAGES_*; nova's "2MB" is 2048.0, a float
PageSize = float
T = typing.TypeVar('T')


class NumaError(gpu_exceptions.GpuPassthroughError):
    """Base of this module's errors; the message is one line."""

    def __init__(self, message: str) -> None:
        # a flavor or blob value may hold line breaks: shown escaped, so
        # the message stays one line (found by tests/unit/test_fuzz_numa)
        super().__init__(''.join(
            repr(c)[1:-1] if len(f'a{c}a'.splitlines()) > 1 else c
            for c in str(message)))


class TopologyError(NumaError):
    """A ``compute_nodes.numa_topology`` value we cannot read."""


class GuestTopologyError(NumaError):
    """Flavor extra specs nova's ``numa_get_constraints`` refuses."""


# --- the host: compute_nodes.numa_topology -------------------------------

@dataclasses.dataclass(frozen=True)
class MemPages:
    """nova/objects/numa.py NUMAPagesTopology; counts are pages."""

    size_kb: int
    total: int
    used: int = 0
    reserved: int = 0

    @property
    def free_kb(self) -> int:
        return (self.total - self.used - self.reserved) * self.size_kb

    @property
    def total_kb(self) -> int:
        return self.total * self.size_kb


@dataclasses.dataclass(frozen=True)
class HostCell:
    """nova/objects/numa.py NUMACell; memory in MiB."""

    id: int
    cpuset: frozenset[int]
    pcpuset: frozenset[int]
    memory: int
    cpu_usage: int = 0
    memory_usage: int = 0
    pinned_cpus: frozenset[int] = frozenset()
    siblings: tuple[frozenset[int], ...] = ()
    mempages: tuple[MemPages, ...] = ()
    socket: int | None = None

    @property
    def free_pcpus(self) -> frozenset[int]:
        return self.pcpuset - self.pinned_cpus

    @property
    def avail_memory(self) -> int:
        return self.memory - self.memory_usage


def _data(obj: object, what: str) -> dict[str, typing.Any]:
    """The payload of one oslo.versionedobjects envelope."""
    if isinstance(obj, dict) and 'nova_object.data' in obj:
        obj = obj['nova_object.data']
    if not isinstance(obj, dict):
        raise TopologyError(f'{what} is not an object')
    return obj


def _ints(value: object, what: str) -> frozenset[int]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise TopologyError(f'{what} is not a list of CPU numbers')
    return frozenset(value)


def _int(data: dict[str, typing.Any], key: str, what: str,
         default: int | None = None) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TopologyError(f'{what} {key} is {value!r}, not a number')
    return value


def _int_or_none(data: dict[str, typing.Any], key: str,
                 what: str) -> int | None:
    return None if data.get(key) is None else _int(data, key, what)


def _host_cell(raw: object, index: int) -> HostCell:
    what = f'cell {index}'
    data = _data(raw, what)
    siblings = data.get('siblings') or []
    if not isinstance(siblings, list):
        raise TopologyError(f'{what} siblings is not a list')
    pages = []
    for number, page in enumerate(data.get('mempages') or []):
        page = _data(page, f'{what} mempages[{number}]')
        pages.append(MemPages(*(
            _int(page, key, f'{what} mempages[{number}]', default)
            for key, default in (('size_kb', None), ('total', None),
                                 ('used', 0), ('reserved', 0)))))
    cell_id = _int(data, 'id', what)
    return HostCell(
        id=cell_id, cpuset=_ints(data.get('cpuset'), f'{what} cpuset'),
        # before NUMACell 1.4 there was no pcpuset: nothing is pinnable
        pcpuset=_ints(data.get('pcpuset'), f'{what} pcpuset'),
        memory=_int(data, 'memory', what),
        cpu_usage=_int(data, 'cpu_usage', what, 0),
        memory_usage=_int(data, 'memory_usage', what, 0),
        pinned_cpus=_ints(data.get('pinned_cpus'), f'{what} pinned_cpus'),
        siblings=tuple(_ints(s, f'{what} siblings') for s in siblings),
        mempages=tuple(pages),
        socket=_int_or_none(data, 'socket', what))


def parse_host_topology(blob: str | None,
                        node: str = '') -> list[HostCell] | None:
    """``compute_nodes.numa_topology`` -> host cells, or None if unset.

    nova/objects/numa.py ``NUMATopology._to_json`` writes every level in
    its own ``nova_object.data`` envelope; sets are JSON lists. Raises
    :class:`TopologyError` with one line naming ``node``.
    """
    if blob is None or not str(blob).strip():
        return None
    try:
        data = _data(json.loads(blob), 'the topology')
        cells = data.get('cells')
        if not isinstance(cells, list):
            raise TopologyError('it has no list of cells')
        return [_host_cell(raw, i) for i, raw in enumerate(cells)]
    except ValueError as exc:
        raise TopologyError(f'numa_topology of {node or "a compute node"} '
                            f'is not JSON: {exc}') from exc
    except TopologyError as exc:
        raise TopologyError(f'numa_topology of {node or "a compute node"}: '
                            f'{exc}') from exc


def empty_host(cells: list[HostCell]) -> list[HostCell]:
    """The same cells with no guest on them: nova's "ever".

    What the libvirt driver reports before usage is added
    (nova/virt/libvirt/driver.py ``_get_host_numa_topology``): zero usage,
    nothing pinned, no used pages; reserved pages stay reserved.
    """
    return [dataclasses.replace(
        c, cpu_usage=0, memory_usage=0, pinned_cpus=frozenset(),
        mempages=tuple(dataclasses.replace(p, used=0) for p in c.mempages))
        for c in cells]


# --- the guest: numa_get_constraints (flavor only) -----------------------

@dataclasses.dataclass(frozen=True)
class GuestCell:
    """nova/objects/instance_numa.py InstanceNUMACell; memory in MiB."""

    id: int
    cpuset: frozenset[int]       # shared vCPUs
    pcpuset: frozenset[int]      # dedicated vCPUs
    memory: int
    pagesize: PageSize | None = None
    cpu_policy: str | None = None
    cpu_thread_policy: str | None = None


@dataclasses.dataclass(frozen=True)
class GuestTopology:
    cells: tuple[GuestCell, ...]
    emulator_threads_isolated: bool = False

    @property
    def cpu_policy(self) -> str | None:
        return self.cells[0].cpu_policy


def parse_cpu_spec(spec: str) -> set[int]:
    """nova/virt/hardware.py ``parse_cpu_spec``: "1-4,^3,6"."""
    cpus: set[int] = set()
    rejects: set[int] = set()
    for rule in spec.split(','):
        rule = rule.strip()
        if not rule:
            continue
        parts = rule.split('-', 1)
        try:
            if len(parts) > 1:
                reject = parts[0].startswith('^')
                start, end = (int(p.strip()) for p in
                              (parts[0].lstrip('^'), parts[1]))
                if start > end:
                    raise ValueError
                (rejects if reject else cpus).update(range(start, end + 1))
            elif rule[0] == '^':
                rejects.add(int(rule[1:].strip()))
            else:
                cpus.add(int(rule))
        except ValueError:
            raise GuestTopologyError(
                f'Invalid CPU set expression {rule!r} in {spec!r}') from None
    return cpus - rejects


def _cpu_mask(spec: str, vcpus: int) -> set[int]:
    """A mask as ``hw:cpu_dedicated_mask``/``hw:cpu_realtime_mask``."""
    if spec.strip().startswith('^'):
        return parse_cpu_spec(f'0-{vcpus - 1},{spec}')
    return parse_cpu_spec(spec)


def _choice(specs: Mapping[str, str], key: str,
            allowed: Sequence[str]) -> str | None:
    value = specs.get(key)
    if value and value not in allowed:
        raise GuestTopologyError(
            f'{key}={value} is not one of {", ".join(allowed)}')
    return value or None


def _true(value: object) -> bool:
    # oslo_utils.strutils.bool_from_string, as is_realtime_enabled uses it
    return str(value).strip().lower() in ('1', 't', 'true', 'on', 'y', 'yes')


def _resource_amount(specs: Mapping[str, str], resource: str) -> int:
    """nova/virt/hardware.py ``_get_vcpu_pcpu_resources``."""
    total = 0
    for key, value in specs.items():
        if re.match(f'resources([1-9][0-9]*)?:{resource}', key):
            try:
                total += int(value)
            except ValueError:
                pass
    return total


def _pagesize(value: str | None) -> PageSize | None:
    """nova/virt/hardware.py ``_get_numa_pagesize_constraint``, flavor."""
    if not value:
        return None
    named = {'any': MEMPAGES_ANY, 'large': MEMPAGES_LARGE,
             'small': MEMPAGES_SMALL}
    if value in named:
        return named[value]
    if value.isdigit():
        return int(value)
    # oslo_utils.strutils.string_to_bytes(value, 'IEC') / Ki
    match = re.match(r'(^[-+]?\d*\.?\d+)([KMGTPEZYRQ]i?)?(b|bit|B)$', value)
    if not match:
        raise GuestTopologyError(
            f'hw:mem_page_size={value} is not a valid page size')
    power = 'KMGTPEZYRQ'.index(match.group(2)[0]) + 1 if match.group(2) \
        else 0
    size: float = float(match.group(1)) * 1024 ** power
    if match.group(3) == 'bit':
        size /= 8
    return math.ceil(size) / 1024


def _node_count(specs: Mapping[str, str]) -> int | None:
    nodes = specs.get('hw:numa_nodes')
    if not nodes:
        return None
    try:
        count = int(str(nodes).strip())
    except ValueError:
        count = 0
    if count < 1:
        raise GuestTopologyError(
            f'hw:numa_nodes={nodes}: invalid number of NUMA nodes')
    return count


def _per_node(specs: Mapping[str, str], key: str,
              parse: Callable[[str], T]) -> list[T] | None:
    """``hw:numa_cpus.N``/``hw:numa_mem.N`` from node 0 until a gap."""
    values = []
    for node in range(NUMA_NODES_MAX):
        if f'{key}.{node}' not in specs:
            break
        try:
            values.append(parse(specs[f'{key}.{node}']))
        except ValueError:
            raise GuestTopologyError(
                f'{key}.{node}={specs[f"{key}.{node}"]} is not a '
                f'number') from None
    return values or None


def _cpu_policies(specs: Mapping[str, str], vcpus: int
                  ) -> tuple[str | None, str | None, str | None, set[int]]:
    """CPU and thread policy, dedicated vCPUs and emulator threads.

    nova/virt/hardware.py ``numa_get_constraints``, its first half, with
    nova's refusals.
    """
    cpu_policy = _choice(specs, 'hw:cpu_policy', CPU_POLICIES)
    thread_policy = _choice(specs, 'hw:cpu_thread_policy', THREAD_POLICIES)
    emulator = _choice(specs, 'hw:emulator_threads_policy',
                       EMULATOR_POLICIES)
    realtime: set[int] | None = None
    if _true(specs.get('hw:cpu_realtime')):
        mask = specs.get('hw:cpu_realtime_mask')
        realtime = _cpu_mask(mask, vcpus) if mask else set(range(vcpus))
        if not realtime or (realtime == set(range(vcpus)) and
                            not emulator) or \
                not realtime <= set(range(vcpus)):
            raise GuestTopologyError('Realtime policy needs vCPU(s) mask '
                                     'configured with at least 1 RT vCPU '
                                     'and 1 ordinary vCPU')
    dedicated: set[int] | None = None
    if specs.get('hw:cpu_dedicated_mask'):
        dedicated = _cpu_mask(specs['hw:cpu_dedicated_mask'], vcpus)
        if not dedicated or not set(range(vcpus)) - dedicated or \
                not dedicated <= set(range(vcpus)):
            raise GuestTopologyError('hw:cpu_dedicated_mask is not a proper '
                                     'subset of the flavor\'s vCPUs')
    want_vcpu = _resource_amount(specs, 'VCPU')
    want_pcpu = _resource_amount(specs, 'PCPU')
    if cpu_policy and (want_vcpu or want_pcpu):
        raise GuestTopologyError('resources:VCPU/PCPU cannot be combined '
                                 'with hw:cpu_policy')
    if want_vcpu and want_pcpu:
        raise GuestTopologyError('resources:VCPU and resources:PCPU are '
                                 'exclusive')
    if want_pcpu:
        if want_pcpu != vcpus + (emulator == ISOLATE):
            raise GuestTopologyError(
                f'resources:PCPU={want_pcpu} must equal the flavor\'s '
                f'vCPUs ({vcpus}, +1 with emulator threads isolate)')
        cpu_policy = DEDICATED
    if want_vcpu:
        cpu_policy = SHARED
    trait = next((v for k, v in specs.items() if re.match(
        'trait([1-9][0-9]*)?:HW_CPU_HYPERTHREADING', k)), None)
    if thread_policy and trait:
        raise GuestTopologyError('trait:HW_CPU_HYPERTHREADING cannot be '
                                 'combined with hw:cpu_thread_policy')
    thread_policy = {'forbidden': ISOLATE, 'required': REQUIRE}.get(
        trait or '', thread_policy)
    if cpu_policy in (SHARED, None):
        if thread_policy or emulator == ISOLATE or dedicated or realtime:
            raise GuestTopologyError(
                'hw:cpu_thread_policy, hw:emulator_threads_policy=isolate, '
                'hw:cpu_dedicated_mask and hw:cpu_realtime need '
                'hw:cpu_policy=dedicated or mixed')
    elif cpu_policy == DEDICATED:
        if dedicated:
            raise GuestTopologyError('hw:cpu_dedicated_mask needs '
                                     'hw:cpu_policy=mixed')
        dedicated = set(range(vcpus))
    else:
        if bool(realtime) == bool(dedicated):
            raise GuestTopologyError(
                'hw:cpu_policy=mixed needs exactly one of '
                'hw:cpu_dedicated_mask and hw:cpu_realtime_mask')
        dedicated = dedicated or realtime
    return cpu_policy, thread_policy, emulator, dedicated or set()


def guest_topology(specs: Mapping[str, str], vcpus: int,
                   memory_mb: int) -> GuestTopology | None:
    """The guest NUMA topology nova builds from the flavor, or None.

    nova/virt/hardware.py ``numa_get_constraints`` with an image that sets
    nothing. nova builds one only for ``hw:numa_nodes``, a dedicated or
    mixed CPU policy (``resources:PCPU`` forces dedicated),
    ``hw:mem_page_size`` (even ``small``) or ``hw:pmem``; ``hw:numa_cpus.N``
    and ``hw:numa_mem.N`` (MiB) alone create none. Raises
    :class:`GuestTopologyError` where nova refuses the flavor.
    """
    cpu_policy, thread_policy, emulator, pcpus = _cpu_policies(specs, vcpus)
    nodes = _node_count(specs)
    pagesize = _pagesize(specs.get('hw:mem_page_size'))
    vpmems = [x.strip() for x in (specs.get('hw:pmem') or '').split(',')
              if x.strip()]
    if not (nodes or pagesize or vpmems or cpu_policy in PINNED):
        return None
    nodes = nodes or 1
    all_cpus = set(range(vcpus))
    shared = all_cpus - pcpus
    cpu_list = _per_node(specs, 'hw:numa_cpus', parse_cpu_spec)
    mem_list = _per_node(specs, 'hw:numa_mem', int)
    if cpu_list is None and mem_list is None:
        cells = _topology_auto(nodes, vcpus, memory_mb)
    elif cpu_list is not None and mem_list is not None:
        if len(cpu_list) != nodes or len(mem_list) != nodes:
            raise GuestTopologyError(
                'hw:numa_cpus.N and hw:numa_mem.N need one entry per node '
                f'0..{nodes - 1}')
        cells = _topology_manual(nodes, vcpus, memory_mb, cpu_list,
                                 mem_list)
    else:
        raise GuestTopologyError('hw:numa_cpus.N and hw:numa_mem.N go '
                                 'together')
    return GuestTopology(tuple(
        GuestCell(i, frozenset(cpus & shared), frozenset(cpus & pcpus), mem,
                  pagesize, cpu_policy, thread_policy)
        for i, (cpus, mem) in enumerate(cells)),
        emulator_threads_isolated=emulator == ISOLATE)


def _topology_auto(nodes: int, vcpus: int,
                   memory_mb: int) -> list[tuple[set[int], int]]:
    """nova/virt/hardware.py ``_get_numa_topology_auto``."""
    if vcpus % nodes or memory_mb % nodes:
        raise GuestTopologyError(
            f'{vcpus} vCPUs and {memory_mb} MiB do not split evenly over '
            f'{nodes} NUMA nodes')
    ncpus, mem = vcpus // nodes, memory_mb // nodes
    return [(set(range(n * ncpus, (n + 1) * ncpus)), mem)
            for n in range(nodes)]


def _topology_manual(nodes: int, vcpus: int, memory_mb: int,
                     cpu_list: list[set[int]],
                     mem_list: list[int]) -> list[tuple[set[int], int]]:
    """nova/virt/hardware.py ``_get_numa_topology_manual``; MiB, not GB."""
    free = set(range(vcpus))
    for cpus in cpu_list:
        for cpu in cpus:
            if cpu > vcpus - 1:
                raise GuestTopologyError(
                    f'hw:numa_cpus names vCPU {cpu}; the flavor has '
                    f'0-{vcpus - 1}')
            if cpu not in free:
                raise GuestTopologyError(
                    f'hw:numa_cpus names vCPU {cpu} twice')
            free.discard(cpu)
    if free:
        raise GuestTopologyError(
            f'hw:numa_cpus leaves vCPU(s) {sorted(free)} on no node')
    if sum(mem_list) != memory_mb:
        raise GuestTopologyError(
            f'hw:numa_mem.N add up to {sum(mem_list)} MiB, the flavor has '
            f'{memory_mb} MiB')
    return list(zip(cpu_list, mem_list))


def describe(guest: GuestTopology | None) -> str:
    if guest is None:
        return 'guest without NUMA topology'
    policy = guest.cpu_policy or SHARED
    cpus = 'shared' if policy == SHARED else policy
    return f'{len(guest.cells)}-node guest with {cpus} CPUs'


# --- PCI NUMA affinity ---------------------------------------------------

def request_policy(alias_policy: str | None,
                   specs: Mapping[str, str]) -> str:
    """The policy a flavor's PCI request gets.

    nova/pci/request.py ``_translate_alias_to_requests``: the flavor's
    ``hw:pci_numa_affinity_policy`` (nova/virt/hardware.py
    ``get_pci_numa_policy_constraint``) silently overrides the alias
    ``numa_policy``; no policy at all is ``legacy``
    (nova/pci/stats.py). Raises :class:`GuestTopologyError` for a value
    outside the four, which nova refuses at boot.
    """
    flavor = _choice(specs, POLICY_SPEC, POLICIES)
    return flavor or alias_policy or LEGACY


def _count(pools: Iterable[Pool]) -> int:
    return sum(p['count'] for p in pools)


def filter_pools_for_socket_affinity(
        pools: list[Pool], cell_ids: list[int],
        host_cells: list[HostCell]) -> list[Pool]:
    """nova/pci/stats.py ``_filter_pools_for_socket_affinity``.

    Any host cell without a socket empties the answer.
    """
    if any(c.socket is None for c in host_cells):
        return []
    sockets = {c.socket for c in host_cells if c.id in cell_ids}
    allowed = {c.id for c in host_cells if c.socket in sockets}
    return [p for p in pools if p.get('numa_node') in allowed]


def filter_pools_for_numa_cells(
        pools: list[Pool], count: int, policy: str | None,
        cell_ids: list[int] | None,
        host_cells: list[HostCell]) -> list[Pool]:
    """nova/pci/stats.py ``_filter_pools_for_numa_cells``.

    ``cell_ids`` are ALL the host cells chosen for the guest, one set for
    every request. Without cells (a guest with no NUMA topology) nothing
    is filtered, whatever the policy.
    """
    if not cell_ids:
        return pools
    policy = policy or LEGACY
    local = [p for p in pools if p.get('numa_node') in cell_ids]
    if policy == REQUIRED or _count(local) >= count:
        return local
    if policy == SOCKET:
        return filter_pools_for_socket_affinity(pools, cell_ids, host_cells)
    # devices without NUMA info (numa_node None, never -1) pass legacy
    near_ids = list(cell_ids) + [None]
    near = [p for p in pools if p.get('numa_node') in near_ids]
    if policy == LEGACY or _count(near) >= count:
        return near
    return sorted(pools, key=lambda p: p.get('numa_node') not in near_ids)


def support_requests(pools: list[Pool], requests: list[PciRequest],
                     cell_ids: list[int] | None,
                     host_cells: list[HostCell]) -> bool:
    """nova/pci/stats.py ``PciDeviceStats.support_requests``.

    All requests in order on one copy of the pools; the NUMA step runs
    right after the spec filter and before the PF/vdpa filters (pci.pools).
    """
    steps = [functools.partial(filter_pools_for_numa_cells, count=count,
                               policy=policy, cell_ids=cell_ids,
                               host_cells=host_cells)
             for count, _specs, policy in requests]
    return pci_pools.supports(
        pools, [(count, specs) for count, specs, _p in requests],
        numa_steps=steps)


# --- one host's fit: numa_fit_instance_to_host ---------------------------

def _cell_pagesize(host: HostCell, guest: GuestCell,
                   pagesize: PageSize) -> PageSize | None:
    """nova/virt/hardware.py ``_numa_cell_supports_pagesize_request``.

    The largest page size of the request that fits, or None; a size the
    host lacks is None too (nova raises MemoryPageSizeNotSupported and
    ``numa_fit_instance_to_host`` takes it as "does not fit").
    """
    sizes = sorted((p.size_kb for p in host.mempages), reverse=True)
    by_name: dict[PageSize, Sequence[PageSize]] = {
        MEMPAGES_SMALL: sizes[-1:], MEMPAGES_LARGE: sizes[:-1],
        MEMPAGES_ANY: sizes}
    candidates = by_name.get(pagesize, [pagesize])
    for size in candidates:
        fits = _can_fit_pagesize(host, size, guest.memory * 1024)
        if fits is None:
            return None
        if fits:
            return size
    return None


def _can_fit_pagesize(host: HostCell, size: PageSize, memory_kb: int,
                      use_free: bool = True) -> bool | None:
    """nova/objects/numa.py ``NUMACell.can_fit_pagesize``.

    None: the host has no such page size (nova raises
    MemoryPageSizeNotSupported).
    """
    for pages in host.mempages:
        if pages.size_kb == size:
            avail = pages.free_kb if use_free else pages.total_kb
            fits: bool = memory_kb <= avail and \
                memory_kb % pages.size_kb == 0
            return fits
    return None


def _pinning(threads_no: int, sibling_sets: Sequence[Iterable[int]],
             cpus: Sized) -> list[int] | None:
    """``_pack_instance_onto_cores._get_pinning``: pCPUs or None."""
    if threads_no * len(sibling_sets) < len(cpus):
        return None
    usable = [sorted(s)[:threads_no] for s in sibling_sets]
    return list(itertools.chain(*usable))[:len(cpus)]


def _reserved(sibling_sets: Iterable[Iterable[int]], pinned: list[int],
              reserved: int, isolate: bool = False) -> bool:
    """``_pack_instance_onto_cores._get_reserved``: is one pCPU left?"""
    if not reserved:
        return True
    if not pinned:
        return False
    usable = [set(s) for s in sibling_sets]
    for cpu in pinned:
        for sib in usable:
            if cpu in sib:
                if isolate:
                    usable.remove(sib)
                else:
                    sib.discard(cpu)
                break
    return any(usable)


def pack_instance_onto_cores(host: HostCell, guest: GuestCell,
                             reserved: int = 0) -> bool:
    """nova/virt/hardware.py ``_pack_instance_onto_cores``.

    Can the guest cell's dedicated vCPUs be pinned, plus ``reserved``
    pCPU for isolated emulator threads? Thread policies: ``require`` wants
    siblings, ``isolate`` whole free cores, ``prefer`` (or none) siblings
    first and then any free thread.
    """
    threads_per_core = max((len(s) for s in host.siblings), default=0) or 1
    free = host.free_pcpus
    by_threads: dict[int, list[frozenset[int]]] = {}
    for sib in host.siblings:
        sib = sib & free
        for threads_no in range(1, len(sib) + 1):
            by_threads.setdefault(threads_no, []).append(sib)
    cpus = guest.pcpuset
    if guest.cpu_thread_policy == ISOLATE:
        if threads_per_core not in by_threads:
            return False
        # bug #1889633: only legacy vcpu_pin_set hosts (cpuset == pcpuset)
        if threads_per_core != 1 and host.pcpuset != host.cpuset:
            return False
        pinned = _pinning(1, by_threads[threads_per_core], cpus)
        return bool(pinned) and _reserved(
            by_threads.get(1, []), pinned or [], reserved, isolate=True)
    if guest.cpu_thread_policy == REQUIRE and threads_per_core <= 1:
        return False
    pinned = None
    for threads_no, sets in sorted(by_threads.items(), reverse=True):
        if guest.cpu_thread_policy == REQUIRE and threads_no <= 1:
            continue
        pinned = _pinning(threads_no, sets, cpus)
        if pinned is None or not _reserved(by_threads.get(1, []), pinned,
                                           reserved):
            continue
        return True
    if guest.cpu_thread_policy != REQUIRE and not pinned:
        # fall back to every free thread as a core of its own
        singles = [{x} for s in by_threads.get(1, []) for x in sorted(s)]
        pinned = _pinning(1, singles, cpus)
        return pinned is not None and _reserved(singles, pinned, reserved)
    return False


def fit_instance_cell(host: HostCell, guest: GuestCell,
                      limits: Limits | None = None,
                      reserved: int = 0) -> tuple[bool, PageSize | None]:
    """nova/virt/hardware.py ``_numa_fit_instance_cell``.

    Returns (fits, pagesize): nova stores the page size it picked on the
    guest cell, and later host cells are tried with that size.
    """
    pagesize = guest.pagesize
    if pagesize:
        pagesize = _cell_pagesize(host, guest, pagesize)
        if not pagesize:
            return False, guest.pagesize
    elif host.mempages:
        # no page size asked: the smallest, overcommit only when shared
        smallest = min(p.size_kb for p in host.mempages)
        if not _can_fit_pagesize(host, smallest, guest.memory * 1024,
                                 use_free=guest.cpu_policy in PINNED):
            return False, pagesize
    elif guest.cpu_policy in PINNED:
        if host.avail_memory < guest.memory:
            return False, pagesize
    elif host.memory < guest.memory:
        return False, pagesize
    if guest.cpu_policy in PINNED and (
            len(guest.pcpuset) + reserved > len(host.pcpuset) or
            len(guest.pcpuset) + reserved > len(host.free_pcpus) or
            not pack_instance_onto_cores(host, guest, reserved)):
        return False, pagesize
    if guest.cpu_policy in (SHARED, MIXED, None):
        if len(guest.cpuset) > len(host.cpuset):
            return False, pagesize
    if guest.cpu_policy in (SHARED, MIXED, None) and limits:
        cpu_ratio, ram_ratio = limits
        if host.cpu_usage + len(guest.cpuset) > len(host.cpuset) * cpu_ratio \
                or host.memory_usage + guest.memory > host.memory * ram_ratio:
            return False, pagesize
    return True, pagesize


def sort_host_cells(host_cells: list[HostCell], guest: GuestTopology,
                    pools: list[Pool], with_pci: bool,
                    packing: bool = False) -> list[HostCell]:
    """The order nova tries host cells in when it has more than needed.

    nova/virt/hardware.py ``numa_fit_instance_to_host``: three stable
    sorts, the last one primary: free memory, then free CPUs (shared:
    ``cpu_usage``; pinned: free pCPUs), then PCI devices per cell (all
    pools, matching or not: cells with devices first when PCI is asked).
    ``packing`` is ``[compute]packing_host_numa_cells_allocation_strategy``.
    """
    cells = sorted(host_cells, reverse=not packing,
                   key=lambda c: c.avail_memory)
    if guest.cpu_policy in (None, SHARED):
        cells = sorted(cells, reverse=packing, key=lambda c: c.cpu_usage)
    else:
        cells = sorted(cells, reverse=not packing,
                       key=lambda c: len(c.free_pcpus))
    per_cell: dict[int | None, int] = {}
    for pool in pools:
        per_cell[pool['numa_node']] = per_cell.get(pool['numa_node'],
                                                   0) + pool['count']
    return sorted(cells, reverse=with_pci,
                  key=lambda c: per_cell.get(c.id, 0))


def fit_instance_to_host(
        host_cells: list[HostCell] | None, guest: GuestTopology | None,
        pools: list[Pool], requests: list[PciRequest],
        limits: Limits | None = None,
        packing: bool = False) -> tuple[int, ...] | None:
    """nova/virt/hardware.py ``numa_fit_instance_to_host`` with PCI.

    The host cell id for each guest cell of the first permutation that
    fits cell by cell and passes ``support_requests`` with those cells,
    or None. A pair that failed once is not tried again (nova's cache);
    PCI failures reject a whole permutation.
    """
    if not host_cells or not guest or len(host_cells) < len(guest.cells):
        return None
    cells = host_cells
    if len(host_cells) > len(guest.cells):
        cells = sort_host_cells(host_cells, guest, pools, bool(requests),
                                packing)
    pagesizes = [c.pagesize for c in guest.cells]
    fits: set[tuple[int, int]] = set()
    misfits: set[tuple[int, int]] = set()
    for perm in itertools.permutations(cells, len(guest.cells)):
        for index, (host, cell) in enumerate(zip(perm, guest.cells)):
            pair = (host.id, cell.id)
            if pair in misfits:
                break
            if pair in fits:
                continue
            ok, pagesizes[index] = fit_instance_cell(
                host, dataclasses.replace(cell, pagesize=pagesizes[index]),
                limits, int(guest.emulator_threads_isolated and index == 0))
            if not ok:
                misfits.add(pair)
                break
            fits.add(pair)
        else:
            ids = [h.id for h in perm]
            if requests and not support_requests(pools, requests, ids,
                                                 host_cells):
                continue
            return tuple(ids)
    return None


# --- the audit's question: does a flavor fit one host? -------------------

NOT_READ = 'the compute_nodes data given has no numa_topology column'
NO_NODE = 'no compute_nodes row for it was given (--compute-nodes)'
NO_TOPOLOGY = ('reports no NUMA topology: nova\'s compute claim passes '
               'and drops the guest\'s NUMA topology (no pinning, no '
               'locality); NUMATopologyFilter, if enabled, refuses the host')


class HostTopologies:
    """Host cells per compute node, each blob parsed once, on first use.

    ``nodes`` maps a node key to an object with ``numa_topology`` (the raw
    column, None when NULL) and ``numa_read`` (False when the source did
    not carry the column), as model.Node does.
    """

    def __init__(self, nodes: Mapping[NodeKey, model.Node],
                 name: Callable[[NodeKey], str] = str) -> None:
        self.nodes = nodes
        self.name = name
        self._cells: dict[NodeKey, tuple[list[HostCell] | None,
                                         str | None]] = {}

    def get(self, key: NodeKey) -> tuple[list[HostCell] | None, str | None]:
        """(cells, None), or (None, why nova's fit cannot be modelled)."""
        if key not in self._cells:
            node = self.nodes.get(key)
            if node is None:
                self._cells[key] = (None, NO_NODE)
            elif not node.numa_read:
                self._cells[key] = (None, NOT_READ)
            else:
                try:
                    cells = parse_host_topology(node.numa_topology,
                                                self.name(key))
                    self._cells[key] = (cells, None if cells else
                                        NO_TOPOLOGY)
                except TopologyError as exc:
                    self._cells[key] = (None, str(exc))
        return self._cells[key]


class FlavorFit:
    """Does a flavor fit one host? The audit's per-host question.

    Called as ``fit(node_key, device_pools, count)`` with ``count``
    ``'available'`` (now: today's usage and free devices) or ``'usable'``
    (ever: an empty host, every device usable). A flavor without a guest
    topology is PCI only, with no NUMA step, as nova's filter and claim
    do. Hosts whose NUMA data is missing are judged on PCI alone (what
    nova's claim does for a host without a topology) and remembered in
    ``unchecked`` with the reason.
    """

    def __init__(self, guest: GuestTopology | None,
                 requests: list[PciRequest],
                 topologies: HostTopologies | None) -> None:
        self.guest = guest
        self.requests = requests
        self.topologies = topologies
        self.unchecked: dict[NodeKey, str] = {}

    @classmethod
    def pci_only(cls, wanted: list[pci_request.Wanted]) -> 'FlavorFit':
        """Nova's PCI check alone for (count, specs) requests: no NUMA."""
        return cls(None, [(c, s, None) for c, s in wanted], None)

    def __call__(self, key: NodeKey,
                 device_pools: list[pci_pools.DevicePool],
                 count: str) -> bool:
        pools = [p.nova_pool(getattr(p, count)) for p in device_pools]
        cells, why = (None, None) if self.guest is None or \
            self.topologies is None else self.topologies.get(key)
        if cells is None:
            if why:
                self.unchecked[key] = why
            return pci_pools.supports(
                pools, [(c, s) for c, s, _p in self.requests])
        if count == 'usable':
            cells = empty_host(cells)
        return fit_instance_to_host(cells, self.guest, pools,
                                    self.requests) is not None


def devices_per_node(device_pools: Iterable[pci_pools.DevicePool],
                     specs: list[pci_pools.Spec]) -> dict[int | None, int]:
    """Usable devices nova's non-NUMA filters keep, per ``numa_node``."""
    kept, _dropped = pci_pools.filter_pools(
        [p.nova_pool(p.usable) for p in device_pools], specs)
    per_node: dict[int | None, int] = {}
    for pool in kept:
        per_node[pool['numa_node']] = per_node.get(pool['numa_node'],
                                                   0) + pool['count']
    return per_node


def format_per_node(per_node: Mapping[int | None, int]) -> str:
    return ', '.join(f'{n} on node {"(none)" if k is None else k}'
                     for k, n in sorted(per_node.items(),
                                        key=lambda kv: str(kv[0]))) or \
        'none'


# --- the audit's findings (audit.py calls these from its capacity check) --

def _audit() -> types.ModuleType:
    # audit.py imports this module; importing it back at call time keeps
    # either module importable first (as pci.scheduler does)
    from gpupassthrough_osc.pci import audit
    return audit


IMAGE_NOTE = ('image properties (hw_numa_nodes, hw_cpu_policy, '
              'hw_mem_page_size, ...) can add or change a guest NUMA '
              'topology; images are not checked')


def flavor_fit(inventory: model.Inventory, flavor: model.Flavor,
               requests: pci_request.Requests, aliases: pci_alias.Aliases
               ) -> tuple[FlavorFit | None, model.Findings]:
    """The flavor's FlavorFit and notes; no fit when nova refuses it.

    ``requests`` are pci.request.AliasRequest, ``aliases`` the mapping of
    AliasConfig.aliases(). FLAVOR_NUMA_INVALID where nova's
    ``numa_get_constraints`` (or the policy check) refuses every boot.
    """
    subject = f'flavor {flavor.name}'
    try:
        wanted: list[PciRequest] = [
            (r.count, aliases[r.name][1],
             request_policy(aliases[r.name][0], flavor.specs))
            for r in requests]
        guest: GuestTopology | None = None
        if flavor.vcpus is not None and flavor.memory_mb is not None:
            guest = guest_topology(flavor.specs, flavor.vcpus,
                                   flavor.memory_mb)
    except GuestTopologyError as exc:
        return None, [model.Finding(
            severity.ERROR, 'FLAVOR_NUMA_INVALID', subject,
            f'nova refuses every boot of this flavor '
            f'(nova/virt/hardware.py numa_get_constraints): {exc}',
            'fix the hw: extra specs of the flavor')]
    findings = []
    if guest is None and scheduler.has_guest_numa_topology(flavor.specs):
        findings.append(model.Finding(
            severity.INFO, 'FLAVOR_NUMA_UNCHECKED', subject,
            "the flavor source gave no vCPUs/RAM: its guest NUMA topology "
            "and NUMA fit were not checked", 'read flavors from the API '
            'database or `openstack flavor list --long -f json`'))
    return FlavorFit(guest, wanted, inventory.host_topologies), findings


def topology_wanted(
        inventory: model.Inventory
) -> Callable[[pci_pools.DevicePool], bool] | bool:
    """Which nodes' NUMA cells the flavor checks can use, before reading.

    Only a flavor with a guest NUMA topology fits a host's NUMA cells,
    and only on a host whose devices pass nova's first step, the spec
    filter (pci.pools), for one of its aliases. Returns a function of a
    DevicePool accepting the pools of those hosts (a blob is kilobytes
    per node, a big cell has tens of thousands of nodes), or False when
    no flavor needs any. Reads ``inventory.flavors`` and its alias configs
    only: called before the pools are read.
    """
    specs: list[pci_pools.Spec] = []
    for flavor in inventory.flavors or ():
        value = flavor.specs.get(pci_request.EXTRA_SPEC)
        if value is None or not scheduler.has_guest_numa_topology(
                flavor.specs):
            continue
        requests, _problem = pci_request.parse_stored(value)
        for request in requests:
            for _conf, config in inventory.alias_configs:
                alias = config.aliases().get(request.name)
                if alias:
                    specs += [pci_pools.without_ignored(s) for s in alias[1]]
    if not specs:
        return False
    return lambda pool: pci_pools.prop_match(pool.nova_pool(pool.usable),
                                             specs)


def unchecked(inventory: model.Inventory, fit: FlavorFit) -> str:
    """' (NUMA fit not modelled on ...)' for a finding's message, or ''."""
    if not fit.unchecked:
        return ''
    reasons: dict[str, list[NodeKey]] = {}
    for key, why in fit.unchecked.items():
        reasons.setdefault(why, []).append(key)
    return ' (NUMA fit not modelled on ' + '; '.join(
        f'{_audit()._host_list(inventory, keys)}: {why}'
        for why, keys in sorted(reasons.items())) + ')'


def notes_when_fits(inventory: model.Inventory, flavor: model.Flavor,
                    fit: FlavorFit, live: LiveNodes) -> model.Findings:
    """INFO where an OK verdict rests on data nova would use but we lack."""
    if fit.guest is None:
        return []
    audit = _audit()
    notes = []
    if fit.unchecked:
        notes.append('judged on PCI alone' + unchecked(inventory, fit))
    unknown = {key for key, pools in live.items() for r in fit.requests
               if devices_per_node(pools, r[1]).get(None)}
    if unknown:
        notes.append(
            f'devices with no NUMA node (numa_node NULL) on '
            f'{audit._host_list(inventory, unknown)}: nova\'s legacy policy '
            f'uses them only when local devices are not enough, required '
            f'and socket never')
    if not notes:
        return []
    return [model.Finding(
        severity.INFO, 'FLAVOR_NUMA_UNCHECKED', f'flavor {flavor.name}',
        f'NUMA fit of a {describe(fit.guest)}: ' + '; '.join(notes), '')]


def no_free_capacity(inventory: model.Inventory, flavor: model.Flavor,
                     fit: FlavorFit, ever: int,
                     requests: pci_request.Requests) -> model.Finding:
    """FLAVOR_NUMA_NO_FREE_CAPACITY: fits an empty host, none today."""
    return model.Finding(
        severity.WARNING, 'FLAVOR_NUMA_NO_FREE_CAPACITY',
        f'flavor {flavor.name}',
        f'{ever} host(s) could take {pci_request.canonical(requests)} '
        f'with a {describe(fit.guest)}, '
        f'and some have the devices free, but on no host are they free on '
        f'NUMA node(s) that also have the free CPUs and memory the guest '
        f'needs now (nova/virt/hardware.py numa_fit_instance_to_host)' +
        unchecked(inventory, fit),
        'free pinned CPUs, memory or devices on one NUMA node, or add hosts')


def unsatisfiable(inventory: model.Inventory, flavor: model.Flavor,
                  fit: FlavorFit, live: LiveNodes,
                  requests: pci_request.Requests) -> model.Finding:
    """FLAVOR_NUMA_UNSATISFIABLE with the numbers nova saw.

    The devices fit one host, but nova's NUMA fit refuses every host even
    when empty. The best host shown is the one with the most matching
    devices among those whose NUMA cells are known.
    """
    topologies = inventory.host_topologies

    def matching(key: NodeKey) -> int:
        return sum(sum(devices_per_node(live[key], r[1]).values())
                   for r in fit.requests)
    known = [k for k in live if topologies.get(k)[0]]
    best = max(sorted(known, key=str), key=matching, default=None)
    # a fit with a guest topology: every request has its policy
    policies = sorted({r[2] for r in fit.requests if r[2] is not None})
    needs = ' and '.join(f'{r.count} {r.name}' for r in requests)
    message = (f'needs {needs} on the NUMA node(s) of a '
               f'{describe(fit.guest)} (PCI NUMA affinity policy '
               f'{", ".join(policies)})')
    cpu_or_memory = False
    if best is not None:
        cells = empty_host(topologies.get(best)[0] or [])
        have = '; '.join(
            (f'{r.name}: ' if len(requests) > 1 else '') +
            format_per_node(devices_per_node(live[best], w[1]))
            for r, w in zip(requests, fit.requests))
        message += (f'; best host {inventory.host(*best)} has {have} '
                    f'({len(cells)} NUMA node(s))')
        cpu_or_memory = fit_instance_to_host(cells, fit.guest, [],
                                             []) is None
        if cpu_or_memory:
            message += (", and even without devices its nodes cannot hold "
                        "the guest's CPUs and memory (" + '; '.join(
                            f'node {c.id}: {len(c.pcpuset)} pCPUs, '
                            f'{len(c.cpuset)} shared CPUs, {c.memory} MiB'
                            for c in cells) + ')')
    message += (': nova\'s NUMA fit (nova/virt/hardware.py '
                'numa_fit_instance_to_host with nova/pci/stats.py '
                'support_requests) refuses every host, so every boot ends '
                'in "No valid host was found" or "Insufficient compute '
                'resources"' + unchecked(inventory, fit) + '; ' + IMAGE_NOTE)
    if cpu_or_memory:
        fixes = ["size the flavor's vCPUs and RAM (or hw:numa_nodes) to "
                 "what the hosts' NUMA nodes hold"]
    else:
        fixes = []
        if policies != [PREFERRED]:
            fixes.append(f'openstack flavor set {flavor.name} --property '
                         f'{POLICY_SPEC}=preferred')
        if fit.guest is not None and len(fit.guest.cells) == 1:
            fixes.append(f'openstack flavor set {flavor.name} --property '
                         f'hw:numa_nodes=2 (a guest spanning two nodes)')
        fixes.append('or move the cards onto the NUMA node(s) the guest '
                     'fits')
    return model.Finding(severity.ERROR, 'FLAVOR_NUMA_UNSATISFIABLE',
                         f'flavor {flavor.name}', message,
                         '; '.join(fixes))
