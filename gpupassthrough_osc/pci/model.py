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


"""The value types the adapters fill and the rules read.

``sources/`` builds them (from nova's databases, exports, placement and
nova.conf); ``pci/`` decides over them; ``commands/`` prints what comes
back. Nothing here does I/O.
"""

from collections.abc import Sequence
import dataclasses
import functools
import typing

from gpupassthrough_osc.pci import alias as pci_alias
from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc import severity

if typing.TYPE_CHECKING:
    from gpupassthrough_osc.pci import numa

# (cell, compute node id): how nodes, pools and leaks name a compute node
NodeKey = tuple[str, int]
# (file, line) of a nova.conf value, or None where unknown
ConfLine = tuple[str, int] | None


class SchedulerOptions(typing.Protocol):
    """The scheduler's options of a nova.conf, or nova 34's defaults.

    Read-only, so sources.novaconf.NovaConf and pci.scheduler.SchedulerConf
    both qualify.
    """

    @property
    def path(self) -> str | None:
        ...

    @property
    def enabled_filters(self) -> Sequence[str]:
        ...

    @property
    def available_filters(self) -> Sequence[str]:
        ...

    @property
    def pci_in_placement(self) -> bool:
        ...

    @property
    def max_attempts(self) -> int:
        ...


class NovaConf(SchedulerOptions, typing.Protocol):
    """What the rules read of one nova.conf (sources.novaconf.NovaConf)."""

    @property
    def path(self) -> str:
        ...

    @property
    def alias(self) -> Sequence[str]:
        ...

    @property
    def device_spec(self) -> Sequence[str]:
        ...

    @property
    def report_in_placement(self) -> bool:
        ...

    # (section, old option, new name) of options set under an old name
    @property
    def deprecated(self) -> Sequence[tuple[str, str, str]]:
        ...

    @property
    def controller_markers(self) -> Sequence[str]:
        ...

    @property
    def alias_lines(self) -> Sequence[ConfLine]:
        ...

    @property
    def device_spec_lines(self) -> Sequence[ConfLine]:
        ...


@dataclasses.dataclass(frozen=True)
class Finding:
    severity: severity.Severity
    code: str
    subject: str
    message: str
    fix: str = ''


# what every rule returns
Findings = list[Finding]


@dataclasses.dataclass(frozen=True, slots=True)
class Node:
    cell: str
    id: int
    host: str | None
    hypervisor_hostname: str | None = None
    deleted: bool = False
    numa_topology: str | None = None  # the raw column; None: NULL
    numa_read: bool = False           # False: the source lacks the column


@dataclasses.dataclass(frozen=True, slots=True)
class Leak:
    """A device row held by an instance that is deleted or unknown."""

    cell: str
    compute_node_id: int
    address: str
    vendor_id: str
    product_id: str
    status: str
    instance_uuid: str
    instance_deleted: bool  # False: no instance row at all


@dataclasses.dataclass(frozen=True)
class Flavor:
    id: str
    name: str
    specs: dict[str, str]
    vcpus: int | None = None          # None: the source did not say
    memory_mb: int | None = None


@dataclasses.dataclass(frozen=True)
class Device:
    """One ``pci_devices`` row: placement's view, or a server's device.

    Each source fills what it reads; None where it did not.
    """

    address: str
    vendor_id: str
    product_id: str
    dev_type: str
    status: str
    parent_addr: str | None = None
    instance_uuid: str | None = None
    numa_node: int | None = None
    compute_node_id: int | None = None


@dataclasses.dataclass(frozen=True)
class Provider:
    """One resource provider as placement (or an export) gives it."""

    uuid: str
    name: str
    parent_uuid: str | None = None
    root_uuid: str | None = None
    # {resource class: {'total': N, ...}}, as placement's inventories
    inventories: dict[str, dict[str, typing.Any]] = dataclasses.field(
        default_factory=dict)
    traits: frozenset[str] | None = None     # None: not read (export)
    usages: dict[str, int] | None = None     # None: not read


@dataclasses.dataclass
class NodeView:
    """One compute node: its tree in placement beside its pci_devices."""

    host: str
    hypervisor_hostname: str
    root_uuid: str
    providers: list[Provider]       # the whole in_tree listing
    devices: list[Device]
    # device_spec entries of its nova.conf, if known
    entries: list[dict[str, typing.Any]] | None = None
    # {instance uuid: {provider uuid: {resource class: amount}}}, read for
    # the holders of devices placement shows free (None: not read)
    allocations: dict[str, dict[str, dict[str, int]]] | None = None


# (nova.conf, its parsed [pci] alias lines)
AliasConfigs = list[tuple[NovaConf, pci_alias.AliasConfig]]


@dataclasses.dataclass
class Inventory:
    """What the adapters found; ``None`` means "not available"."""

    confs: list[NovaConf]
    pools: list[pci_pools.DevicePool] | None = None
    nodes: dict[NodeKey, Node] = dataclasses.field(default_factory=dict)
    leaks: list[Leak] | None = None
    flavors: list[Flavor] | None = None
    providers: list[NodeView] | None = None   # per node
    notes: list[str] = dataclasses.field(default_factory=list)

    def host(self, cell: str, node_id: int) -> str:
        node = self.nodes.get((cell, node_id))
        host = node.host if node and node.host else \
            f'compute node {node_id}'
        return f'{cell}/{host}' if cell and self.multi_cell else host

    @functools.cached_property
    def index(self) -> pci_pools.PoolIndex:
        return pci_pools.PoolIndex(self.pools or [])

    @functools.cached_property
    def gone_nodes(self) -> frozenset[NodeKey]:
        """Nodes whose pools point at a deleted or missing compute node.

        Only when the source lists compute nodes at all (an export of
        pci_devices alone does not).
        """
        if not self.nodes:
            return frozenset()
        nodes = self.nodes
        return frozenset(key for key in self.index.node_pools()
                         if (node := nodes.get(key)) is None or node.deleted)

    @functools.cached_property
    def host_topologies(self) -> 'numa.HostTopologies':
        # numa's findings import this module; importing numa on use keeps
        # either importable first
        from gpupassthrough_osc.pci import numa
        return numa.HostTopologies(self.nodes, lambda key: self.host(*key))

    @functools.cached_property
    def multi_cell(self) -> bool:
        return len({p.cell for p in self.pools or []}) > 1

    @functools.cached_property
    def alias_configs(self) -> AliasConfigs:
        """(conf, AliasConfig) per nova.conf, parsed once per Inventory.

        Every rule reads these; 20,000 alias lines take ~0.5 s to parse
        through nova's jsonschema.
        """
        return [(conf, pci_alias.parse_config(
            conf.alias, source=conf.path,
            pci_in_placement=conf.pci_in_placement))
            for conf in self.confs]

    def for_flavors(self, flavors: list[Flavor]) -> 'Inventory':
        """The same inventory with only ``flavors``, for rules on them.

        The parsed aliases, the pool index and the host topologies depend
        on nothing a flavor changes: the copy shares them instead of
        parsing nova.conf again.
        """
        copy = dataclasses.replace(self, flavors=flavors,
                                   notes=list(self.notes))
        for name in ('alias_configs', 'index', 'host_topologies',
                     'gone_nodes'):
            if name in self.__dict__:   # computed (functools.cached_property)
                copy.__dict__[name] = self.__dict__[name]
        return copy
