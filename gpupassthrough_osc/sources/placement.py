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

"""Placement's view of the PCI devices: its REST API, or osc-placement exports.

For each compute node (``compute_nodes.uuid`` is its root provider's uuid)
this reads ``GET /resource_providers?in_tree=<root>`` and, per provider,
``/inventories``, ``/traits`` and ``/usages``; ``/allocations/<consumer>``
on demand. Every request carries ``OpenStack-API-Version: placement 1.36``
(the microversion nova's scheduler uses for PCI groups) and a timeout.
Failures are one line naming the URL and the status:
:class:`PlacementAuthError` for 401/403 or credentials keystone refuses,
:class:`PlacementApiError` for anything else (unreachable, 5xx, no
placement endpoint in the catalog).

Offline: one JSON file the operator builds with osc-placement, an object
keyed by root provider uuid (``compute_nodes.uuid``)::

    {"<root uuid>": {
        "providers": <resource provider list --in-tree ROOT -f json>,
        "inventories": {"<rp uuid>": <resource provider inventory list RP
                                      -f json>},
        "traits": {"<rp uuid>": <resource provider trait list RP -f json>},
        "usages": {"<rp uuid>": <resource provider usage show RP -f json>}
    }, ...}

``traits`` and ``usages`` may be left out (those checks are then
skipped). doc/source/cli/device.rst gives the shell loop that builds it.
"""

import json
import typing

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.pci import model

MICROVERSION = '1.36'
HEADERS = {'OpenStack-API-Version': f'placement {MICROVERSION}',
           'Accept': 'application/json'}
TIMEOUT = 30.0

# a decoded JSON object, as placement and osc-placement write them
JsonObject = dict[str, typing.Any]
# {root provider uuid (compute_nodes.uuid): [Provider] of its tree}
Trees = dict[str, list[model.Provider]]


class PlacementAuthError(exceptions.SourceError):
    """Placement (or keystone for it) refused the credentials."""


class PlacementApiError(exceptions.SourceError):
    """Placement could not be reached or answered with an error."""


class PlacementExportError(exceptions.SourceError):
    """A placement export file that cannot be read."""


def _one_line(text: str, limit: int = 200) -> str:
    text = ' '.join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _body_detail(response: typing.Any) -> str:
    """The first error's title/detail placement sends, else the reason."""
    try:
        errors = response.json().get('errors') or []
        first = errors[0]
        return _one_line(first.get('detail') or first.get('title') or '')
    except Exception:  # noqa: BLE001 - any non-JSON body
        return ''


class Reader:
    """Reads placement through a keystoneauth adapter.

    ``adapter``: a ``keystoneauth1.adapter.Adapter`` for placement, such as
    openstacksdk's ``Connection.placement`` proxy.
    """

    def __init__(self, adapter: typing.Any, timeout: float = TIMEOUT):
        self.adapter = adapter
        self.timeout = timeout

    def _endpoint(self) -> str:
        try:
            return str(self.adapter.get_endpoint() or 'placement')
        except Exception:  # noqa: BLE001 - only for naming it
            return 'placement'

    def get(self, path: str) -> JsonObject:
        """GET ``path``; the decoded JSON body, or a one-line error."""
        from keystoneauth1 import exceptions as ksa

        where = f'{self._endpoint().rstrip("/")}{path}'
        try:
            response = self.adapter.get(path, headers=dict(HEADERS),
                                        timeout=self.timeout,
                                        raise_exc=False)
        except (ksa.Unauthorized, ksa.Forbidden, ksa.AuthorizationFailure,
                ksa.MissingAuthPlugin, ksa.OptionError) as exc:
            raise PlacementAuthError(
                f'placement API {where}: authentication failed: '
                f'{_one_line(exc)}') from exc
        except ksa.EndpointNotFound as exc:
            raise PlacementApiError(
                f'placement API: no placement endpoint in the service '
                f'catalog: {_one_line(exc)}') from exc
        except (ksa.ConnectFailure, ksa.ConnectTimeout,
                ksa.RetriableConnectionFailure) as exc:
            raise PlacementApiError(
                f'placement API {where}: unreachable: {_one_line(exc)}'
            ) from exc
        except ksa.ClientException as exc:
            raise PlacementApiError(
                f'placement API {where}: {_one_line(exc)}') from exc
        status = response.status_code
        if status >= 400:
            url = getattr(response, 'url', None) or where
            detail = _body_detail(response)
            text = (f'placement API GET {url}: HTTP {status} '
                    f'{getattr(response, "reason", "") or ""}').rstrip()
            if detail:
                text += f': {detail}'
            if status in (401, 403):
                raise PlacementAuthError(text)
            raise PlacementApiError(text)
        try:
            return response.json()
        except ValueError as exc:
            raise PlacementApiError(
                f'placement API GET {where}: HTTP {status} but the body is '
                f'not JSON') from exc

    def tree(self, root_uuid: str) -> list[model.Provider]:
        """Every provider in the tree of ``root_uuid``, fully read."""
        listing = self.get(f'/resource_providers?in_tree={root_uuid}')
        providers = []
        for rp in listing.get('resource_providers', []):
            uuid = rp['uuid']
            base = f'/resource_providers/{uuid}'
            inventories = self.get(f'{base}/inventories').get(
                'inventories', {})
            traits = self.get(f'{base}/traits').get('traits', [])
            usages = self.get(f'{base}/usages').get('usages', {})
            providers.append(model.Provider(
                uuid=uuid, name=rp['name'],
                parent_uuid=rp.get('parent_provider_uuid'),
                root_uuid=rp.get('root_provider_uuid'),
                inventories={rc: dict(inv)
                             for rc, inv in inventories.items()},
                traits=frozenset(traits), usages=dict(usages)))
        return providers

    def allocations(self, consumer_uuid: str) -> dict[str, JsonObject]:
        """{provider uuid: {resource class: amount}} of one consumer."""
        body = self.get(f'/allocations/{consumer_uuid}')
        return {rp: dict(alloc.get('resources', {}))
                for rp, alloc in body.get('allocations', {}).items()}


def connect(options: typing.Any, config: JsonObject,
            timeout: float = TIMEOUT) -> Reader:
    """A :class:`Reader` over openstacksdk's placement proxy.

    The cloud is resolved as for the compute API
    (:func:`gpupassthrough_osc.sources.compute.connect`).
    """
    from keystoneauth1 import exceptions as ksa
    from openstack import exceptions as sdk_exceptions

    from gpupassthrough_osc.sources import compute

    try:
        return Reader(compute.connect(options, config).placement, timeout)
    except (ksa.DiscoveryFailure, ksa.EndpointNotFound,
            ksa.ConnectFailure, ksa.ConnectTimeout) as exc:
        # the proxy discovers placement's version document when created
        raise PlacementApiError(
            f'placement API: unreachable or not in the catalog: '
            f'{_one_line(exc)}') from exc
    except (ksa.ClientException, sdk_exceptions.SDKException) as exc:
        raise PlacementAuthError(
            f'placement API: cannot use the cloud credentials: '
            f'{_one_line(exc)}') from exc


# --- offline: osc-placement exports --------------------------------------

def _load(path: str) -> typing.Any:
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as exc:
        raise PlacementExportError(
            f'{path}: cannot read: {exc.strerror}') from exc
    except ValueError as exc:
        raise PlacementExportError(f'{path}: not JSON: {exc}') from exc


def _field(row: JsonObject, *names: str) -> typing.Any:
    """osc-placement prints 'uuid'/'name'/...; accept either spelling."""
    for name in names:
        if name in row:
            return row[name]
    return None


def _inventories(path: str, uuid: str,
                 rows: typing.Any) -> dict[str, JsonObject]:
    if isinstance(rows, dict):         # the API's own {"RC": {...}} shape
        return {rc: dict(inv) for rc, inv in rows.items()}
    inventories = {}
    for row in rows or []:
        rc = _field(row, 'resource_class', 'Resource Class')
        if not rc:
            raise PlacementExportError(
                f'{path}: provider {uuid}: inventory row without '
                f'resource_class')
        inventories[rc] = {k: v for k, v in row.items()
                           if k != 'resource_class'}
    return inventories


def _traits(rows: typing.Any) -> frozenset[str]:
    return frozenset(r['name'] if isinstance(r, dict) else r
                     for r in rows or [])


def _usages(rows: typing.Any) -> JsonObject:
    if isinstance(rows, dict):
        return dict(rows)
    return {_field(r, 'resource_class'): _field(r, 'usage')
            for r in rows or []}


def read_export(path: str) -> Trees:
    """{root uuid: [Provider]} from the export file (module docstring)."""
    data = _load(path)
    if not isinstance(data, dict):
        raise PlacementExportError(
            f'{path}: expected an object keyed by compute node uuid')
    trees = {}
    for root, tree in data.items():
        if not isinstance(tree, dict) or not isinstance(
                tree.get('providers'), list):
            raise PlacementExportError(
                f'{path}: {root}: expected {{"providers": [...], ...}}')
        inventories = tree.get('inventories') or {}
        traits = tree.get('traits')
        usages = tree.get('usages')
        providers = []
        for row in tree['providers']:
            uuid = _field(row, 'uuid')
            name = _field(row, 'name')
            if not uuid or not name:
                raise PlacementExportError(
                    f'{path}: {root}: a provider without uuid or name')
            providers.append(model.Provider(
                uuid=uuid, name=name,
                parent_uuid=_field(row, 'parent_provider_uuid'),
                root_uuid=_field(row, 'root_provider_uuid'),
                inventories=_inventories(path, uuid, inventories.get(uuid)),
                traits=None if traits is None else _traits(
                    traits.get(uuid)),
                usages=None if usages is None else _usages(
                    usages.get(uuid))))
        trees[root] = providers
    return trees


# --- one view per compute node -------------------------------------------

def _device(row: JsonObject) -> model.Device:
    return model.Device(
        address=str(row['address']).lower(),
        vendor_id=str(row['vendor_id']).lower(),
        product_id=str(row['product_id']).lower(),
        dev_type=row['dev_type'], status=row['status'],
        parent_addr=(str(row['parent_addr']).lower()
                     if row.get('parent_addr') not in (None, '', 'NULL')
                     else None),
        instance_uuid=row.get('instance_uuid') or None)


def node_views(nodes: list[JsonObject], devices: typing.Iterable[JsonObject],
               trees: Trees, entries: list[JsonObject] | None
               ) -> tuple[list[model.NodeView], list[str]]:
    """(NodeViews, notes): each node with devices beside its tree.

    ``nodes``: dicts with cell, id, uuid, host, hypervisor_hostname (live
    compute_nodes rows); ``devices``: pci_devices rows (dicts with cell
    and compute_node_id); ``trees``: {root uuid: [Provider]}.
    """
    by_node: dict[tuple[str, int], list[model.Device]] = {}
    for row in devices:
        key = (row.get('cell') or '', int(row['compute_node_id']))
        by_node.setdefault(key, []).append(_device(row))
    views: list[model.NodeView] = []
    unread: list[str] = []
    for node in nodes:
        rows = by_node.get((node.get('cell') or '', int(node['id'])))
        if not rows:
            continue
        # live compute_nodes rows always name their hypervisor
        host = node.get('host') or node['hypervisor_hostname']
        if node['uuid'] not in trees:
            unread.append(host)
            continue
        views.append(model.NodeView(
            host=host, hypervisor_hostname=node['hypervisor_hostname'],
            root_uuid=node['uuid'], providers=trees[node['uuid']],
            devices=rows, entries=entries))
    notes = []
    if unread:
        notes.append(f"placement: no provider tree read for "
                     f"{', '.join(sorted(unread))} (not in the export): "
                     f"their placement checks skipped")
    return views, notes
