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

"""nova's RequestSpec as the API database stores it, parsed and typed.

``request_specs.spec`` (nova_api) holds
``jsonutils.dumps(spec.obj_to_primitive())`` of a ``RequestSpec``
(nova/objects/request_spec.py ``_get_update_primitives``): every object,
nested ones too, in a ``{"nova_object.name": ..., "nova_object.version":
..., "nova_object.data": {...}}`` envelope. Pure: no I/O, no nova import.

What the scheduler saw for the last boot or move: the flavor (with its
extra specs), the image properties, the guest NUMA topology nova computed
(nova/virt/hardware.py ``numa_get_constraints``), the PCI requests the
flavor's aliases became (nova/pci/request.py
``get_pci_requests_from_flavor``), and the forced hosts and nodes.

nova blanks ``retry``, ``requested_destination`` and ``ignore_hosts``
before storing (``_get_update_primitives``: "per-request"), so from the
database they are always None; they are read when present, as in a
primitive taken from an RPC message.

A field nova did not set (an absent key, or an envelope without
``nova_object.data``) reads as None; ``()`` means "set, and empty". A blob
that is not nova's format raises :class:`RequestSpecError`.
"""

import dataclasses
import json
from typing import Any, Callable, Mapping, NoReturn

from gpupassthrough_osc import exceptions as gpu_exceptions

OBJECT_NAME = 'RequestSpec'
_NAME = 'nova_object.name'
_VERSION = 'nova_object.version'
_DATA = 'nova_object.data'

# One entry of InstancePCIRequest.spec (ListOfDictOfNullableStringsField):
# the alias's vendor_id, product_id, dev_type, ... as nova matches them.
Spec = dict[str, str | None]


class RequestSpecError(gpu_exceptions.GpuPassthroughError):
    """A request spec not in nova's format; one line naming the instance."""


@dataclasses.dataclass(frozen=True)
class Flavor:
    """The flavor embedded in the spec (nova/objects/flavor.py)."""

    name: str | None
    flavorid: str | None
    vcpus: int | None
    memory_mb: int | None
    extra_specs: dict[str, str] | None


@dataclasses.dataclass(frozen=True)
class ImageProperties:
    """Image properties that shape NUMA and PCI placement.

    nova/objects/image_meta.py ``ImageMetaProps``.
    """

    hw_numa_nodes: int | None = None
    hw_cpu_policy: str | None = None
    hw_mem_page_size: str | None = None
    hw_pci_numa_affinity_policy: str | None = None


@dataclasses.dataclass(frozen=True)
class NUMACell:
    """One guest NUMA cell (nova/objects/instance_numa.py).

    ``cpuset`` holds the floating CPUs, ``pcpuset`` the pinned ones (since
    ``InstanceNUMACell`` 1.5).
    """

    id: int | None
    cpuset: frozenset[int] | None
    pcpuset: frozenset[int] | None
    memory: int | None
    cpu_policy: str | None
    pagesize: int | None


@dataclasses.dataclass(frozen=True)
class PCIRequest:
    """``count`` devices matching any one of ``spec``.

    nova/objects/instance_pci_requests.py ``InstancePCIRequest``.
    """

    count: int | None
    spec: tuple[Spec, ...] | None
    alias_name: str | None
    numa_policy: str | None
    request_id: str | None
    requester_id: str | None


@dataclasses.dataclass(frozen=True)
class Retry:
    """``SchedulerRetries``: attempts so far, (host, node) pairs tried."""

    num_attempts: int | None
    hosts: tuple[tuple[str | None, str | None], ...] | None


@dataclasses.dataclass(frozen=True)
class Destination:
    """``Destination``: the host (and node) a move or boot asked for."""

    host: str | None
    node: str | None


@dataclasses.dataclass(frozen=True)
class RequestSpec:
    instance_uuid: str | None = None
    flavor: Flavor | None = None
    image: ImageProperties | None = None
    # None: no guest NUMA topology (nova's numa_topology field is null)
    numa_cells: tuple[NUMACell, ...] | None = None
    # None: not known; (): no PCI request
    pci_requests: tuple[PCIRequest, ...] | None = None
    force_hosts: tuple[str, ...] | None = None
    force_nodes: tuple[str, ...] | None = None
    ignore_hosts: tuple[str, ...] | None = None
    retry: Retry | None = None
    requested_destination: Destination | None = None
    availability_zone: str | None = None


def parse(text: str | bytes, instance: str) -> RequestSpec:
    """The RequestSpec in ``text``, the ``spec`` column of one row."""
    try:
        primitive = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise RequestSpecError(
            f'request spec of instance {instance}: not JSON: {exc}')
    return from_primitive(primitive, instance)


def from_primitive(primitive: Any, instance: str) -> RequestSpec:
    """The RequestSpec of a decoded ``obj_to_primitive()`` value."""
    return _Reader(instance).request_spec(primitive)


def _version(text: object) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in str(text).split('.'))
    except ValueError:
        return None


class _Reader:
    """Typed getters that name the instance and the field on failure."""

    def __init__(self, instance: str) -> None:
        self.instance = instance

    def fail(self, where: str, problem: str) -> NoReturn:
        raise RequestSpecError(
            f'request spec of instance {self.instance}: {where}: {problem}')

    def data(self, value: Any, where: str,
             name: str | None = None) -> dict[str, Any] | None:
        """The ``nova_object.data`` of an envelope, None when unset."""
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(where, f'not a nova object ({type(value).__name__})')
        found = value.get(_NAME)
        if name and found is not None and found != name:
            self.fail(where, f'{found} object where {name} expected')
        data = value.get(_DATA)
        if data is None:
            return None
        if not isinstance(data, dict):
            self.fail(where, f'{_DATA} is a {type(data).__name__}')
        return data

    def value(self, data: dict[str, Any] | None, key: str, where: str,
              kind: type) -> Any:
        if data is None:
            return None
        value = data.get(key)
        # bool is an int to Python, never to nova's IntegerField
        if value is not None and (not isinstance(value, kind) or
                                  (kind is int and isinstance(value, bool))):
            self.fail(f'{where}.{key}',
                      f'{value!r:.60} is not {kind.__name__}')
        return value

    def items(self, data: dict[str, Any] | None, key: str, where: str,
              kind: type) -> tuple[Any, ...] | None:
        """A list field as a tuple, each item checked."""
        values = self.value(data, key, where, list)
        if values is None:
            return None
        for value in values:
            if not isinstance(value, kind) or isinstance(value, bool):
                self.fail(f'{where}.{key}',
                          f'item {value!r:.60} is not {kind.__name__}')
        return tuple(values)

    def request_spec(self, primitive: Any) -> RequestSpec:
        if not isinstance(primitive, dict) or _DATA not in primitive:
            self.fail('spec', f'not a nova object ({_DATA} missing)')
        data = self.data(primitive, 'spec', OBJECT_NAME)
        if data is None:
            self.fail('spec', f'{_DATA} is null')
        where = OBJECT_NAME
        return RequestSpec(
            instance_uuid=self.value(data, 'instance_uuid', where, str),
            flavor=self.flavor(data.get('flavor')),
            image=self.image(data.get('image')),
            numa_cells=self.object_list(
                data.get('numa_topology'), 'numa_topology',
                'InstanceNUMATopology', 'cells', self.numa_cell),
            pci_requests=self.object_list(
                data.get('pci_requests'), 'pci_requests',
                'InstancePCIRequests', 'requests', self.pci_request),
            force_hosts=self.items(data, 'force_hosts', where, str),
            force_nodes=self.items(data, 'force_nodes', where, str),
            ignore_hosts=self.items(data, 'ignore_hosts', where, str),
            retry=self.retry(data.get('retry')),
            requested_destination=self.destination(
                data.get('requested_destination')),
            availability_zone=self.value(data, 'availability_zone', where,
                                         str))

    def flavor(self, value: Any) -> Flavor | None:
        data = self.data(value, 'flavor', 'Flavor')
        if data is None:
            return None
        specs = self.value(data, 'extra_specs', 'flavor', dict)
        if specs is not None:
            specs = {str(k): str(v) for k, v in specs.items()}
        return Flavor(name=self.value(data, 'name', 'flavor', str),
                      flavorid=self.value(data, 'flavorid', 'flavor', str),
                      vcpus=self.value(data, 'vcpus', 'flavor', int),
                      memory_mb=self.value(data, 'memory_mb', 'flavor', int),
                      extra_specs=specs)

    def image(self, value: Any) -> ImageProperties | None:
        data = self.data(value, 'image', 'ImageMeta')
        if data is None:
            return None
        where = 'image.properties'
        props = self.data(data.get('properties'), where, 'ImageMetaProps')
        if props is None:
            return ImageProperties()
        return ImageProperties(
            hw_numa_nodes=self.value(props, 'hw_numa_nodes', where, int),
            hw_cpu_policy=self.value(props, 'hw_cpu_policy', where, str),
            hw_mem_page_size=self.value(props, 'hw_mem_page_size', where,
                                        str),
            hw_pci_numa_affinity_policy=self.value(
                props, 'hw_pci_numa_affinity_policy', where, str))

    def object_list(self, value: Any, where: str, name: str, key: str,
                    read: Callable[[Any, str], Any]
                    ) -> tuple[Any, ...] | None:
        """``read`` applied to each object of a list-holding object."""
        data = self.data(value, where, name)
        if data is None:
            return None
        values = self.value(data, key, where, list) or []
        return tuple(read(v, f'{where}.{key}[{i}]')
                     for i, v in enumerate(values))

    def numa_cell(self, value: Any, where: str) -> NUMACell:
        data = self.data(value, where, 'InstanceNUMACell') or {}
        cpuset = self.items(data, 'cpuset', where, int)
        pcpuset = self.items(data, 'pcpuset', where, int)
        policy = self.value(data, 'cpu_policy', where, str)
        version = _version(value.get(_VERSION)) if value else None
        if (version and (1, 4) <= version < (1, 5) and
                policy == 'dedicated' and not pcpuset):
            # Before InstanceNUMACell 1.5 the pinned CPUs were in cpuset;
            # nova moves them on load (nova/objects/instance_numa.py
            # _migrate_legacy_dedicated_instance_cpuset, called from
            # RequestSpec._from_db_object).
            cpuset, pcpuset = (), cpuset
        return NUMACell(
            id=self.value(data, 'id', where, int),
            cpuset=None if cpuset is None else frozenset(cpuset),
            pcpuset=None if pcpuset is None else frozenset(pcpuset),
            memory=self.value(data, 'memory', where, int),
            cpu_policy=policy,
            pagesize=self.value(data, 'pagesize', where, int))

    def pci_request(self, value: Any, where: str) -> PCIRequest:
        data = self.data(value, where, 'InstancePCIRequest') or {}
        specs = self.items(data, 'spec', where, dict)
        if specs is not None:
            specs = tuple({str(k): None if v is None else str(v)
                           for k, v in spec.items()} for spec in specs)
        return PCIRequest(
            count=self.value(data, 'count', where, int),
            spec=specs,
            alias_name=self.value(data, 'alias_name', where, str),
            numa_policy=self.value(data, 'numa_policy', where, str),
            request_id=self.value(data, 'request_id', where, str),
            requester_id=self.value(data, 'requester_id', where, str))

    def retry(self, value: Any) -> Retry | None:
        data = self.data(value, 'retry', 'SchedulerRetries')
        if data is None:
            return None
        return Retry(
            num_attempts=self.value(data, 'num_attempts', 'retry', int),
            hosts=self.object_list(data.get('hosts'), 'retry.hosts',
                                   'ComputeNodeList', 'objects',
                                   self.tried_node))

    def tried_node(self, value: Any,
                   where: str) -> tuple[str | None, str | None]:
        data = self.data(value, where, 'ComputeNode') or {}
        return (self.value(data, 'host', where, str),
                self.value(data, 'hypervisor_hostname', where, str))

    def destination(self, value: Any) -> Destination | None:
        where = 'requested_destination'
        data = self.data(value, where, 'Destination')
        if data is None:
            return None
        return Destination(host=self.value(data, 'host', where, str),
                           node=self.value(data, 'node', where, str))


def summary(spec: RequestSpec) -> Mapping[str, Any]:
    """The spec as plain data (lists and dicts), for ``-f json``."""
    plain: Mapping[str, Any] = _plain(dataclasses.asdict(spec))
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, frozenset):
        return sorted(value)
    return value
