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

"""One server as nova keeps it: status, fault, devices and request spec.

From nova's databases, read-only (novadb.Connection: SELECT grants are
enough): ``instances``, ``instance_faults`` and ``pci_devices`` of the
server's cell, ``instance_mappings`` and ``request_specs`` of the API
database. Or, offline, from ``openstack server show SERVER -f json``.

A boot no host could take never reaches a real cell: the conductor writes
the instance and its fault to cell0 (nova/conductor/manager.py
``_bury_in_cell0``). The cells the audit reads skip cell0 (it has no
hosts), so with an API database cell0 is searched as well.
"""

import dataclasses
import json
import re
import typing
import uuid as uuidlib

from gpupassthrough_osc import exceptions as gpu_exceptions
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import requestspec
from gpupassthrough_osc.sources import cellread
from gpupassthrough_osc.sources import exports
from gpupassthrough_osc.sources import novadb

# (name, url) of one cell database, as cellread.read_cells takes them
CellUrl = cellread.CellUrl

CELL0_NAME = 'cell0'
SHOW_COMMAND = 'openstack server show SERVER -f json'
# OSC prints "NAME (ID)" for the flavor below compute API microversion
# 2.47 (openstackclient/compute/v2/server.py _prep_server_detail)
_FLAVOR_NAME_ID = re.compile(r'^(.*) \(([^()]*)\)$')


class ServerError(gpu_exceptions.SourceError):
    """A server that cannot be found or named uniquely; one line."""


class ServerNotFound(ServerError):
    """No live server with that UUID or name."""


class AmbiguousServer(ServerError):
    """Several live servers with that name."""

    def __init__(self, message: str, uuids: list[str]):
        super().__init__(message)
        self.uuids = uuids


@dataclasses.dataclass(frozen=True)
class Fault:
    """The latest ``instance_faults`` row (or the API's ``fault``)."""

    code: int | None
    message: str | None
    details: str | None
    created_at: str | None


@dataclasses.dataclass(frozen=True)
class Server:
    uuid: str
    name: str | None
    # None when the source does not say (a `server show` export)
    cell: str | None
    host: str | None
    node: str | None
    vm_state: str | None
    task_state: str | None
    # the compute API's status (ERROR, ACTIVE, ...); None from the
    # database, where nova derives it from vm_state and task_state
    # (nova/api/openstack/common.py status_from_state)
    status: str | None
    fault: Fault | None
    # None: the source cannot tell; (): holds no device
    devices: tuple[model.Device, ...] | None
    request_spec: requestspec.RequestSpec | None
    # what the source could not say, and why, one line each
    notes: tuple[str, ...] = ()


# --- the databases --------------------------------------------------------

INSTANCE_SQL = ('SELECT uuid, display_name, host, node, vm_state, task_state '
                'FROM instances WHERE deleted = 0 AND uuid = %s')
# nova's latest fault is the highest id among live rows
# (nova/db/main/api.py instance_fault_get_by_instance_uuids, latest=True)
FAULT_SQL = ('SELECT code, message, details, created_at FROM instance_faults '
             'WHERE instance_uuid = %s AND deleted = 0 '
             'ORDER BY id DESC LIMIT 1')
DEVICES_SQL = ('SELECT address, vendor_id, product_id, dev_type, status, '
               'numa_node, compute_node_id FROM pci_devices '
               'WHERE instance_uuid = %s AND deleted = 0 '
               'ORDER BY compute_node_id, address')
MAPPING_SQL = ('SELECT m.cell_id, c.name, c.uuid, c.database_connection '
               'FROM instance_mappings m '
               'LEFT JOIN cell_mappings c ON c.id = m.cell_id '
               'WHERE m.instance_uuid = %s')
CELL0_SQL = ('SELECT name, database_connection FROM cell_mappings '
             'WHERE uuid = %s')
SPEC_SQL = 'SELECT spec FROM request_specs WHERE instance_uuid = %s'


def _uuid(ref: str) -> str | None:
    """The canonical form of a UUID-like reference, else None.

    Like oslo_utils.uuidutils.is_uuid_like, which nova's API uses.
    """
    try:
        value = uuidlib.UUID(ref)
    except (TypeError, ValueError, AttributeError):
        return None
    if str(value).replace('-', '') != ref.lower().replace('-', ''):
        return None
    return str(value)


def _open_cell(name: str, url: str) -> novadb.Connection:
    return novadb.Connection(url, label=f'cell {name} ({novadb.mask(url)})')


def find_server(cells: list[CellUrl], api_url: str | None,
                ref: str) -> Server:
    """The live server with UUID or name ``ref`` in any cell.

    ``cells`` are the cells to search; with ``api_url``, cell0 is searched
    too, a UUID goes straight to its cell through ``instance_mappings``,
    and the request spec is read. Raises ServerNotFound, AmbiguousServer,
    or novadb.DatabaseError.
    """
    api = None
    if api_url:
        api = novadb.Connection(
            api_url, label='API database ' + novadb.mask(api_url))
    try:
        search = _Search(cells, api, api_url)
        cell, server_uuid = search.find(ref)
        return _load(cell, server_uuid, api, search.notes)
    finally:
        if api:
            api.close()


class _Search:
    """Where to look for a server, and what could not be read."""

    def __init__(self, cells: list[CellUrl], api: novadb.Connection | None,
                 api_url: str | None) -> None:
        self.api = api
        # used only with an API database, which gives the URL
        self.base = cells[0][1] if cells else api_url or ''
        self.cells = list(cells)
        self.optional: set[CellUrl] = set()
        self.notes: list[str] = []
        if api:
            self._add_cell0(api)

    def _cell_url(self, template: str) -> str:
        return novadb.format_cell_url(template, self.base)

    def _add_cell0(self, api: novadb.Connection) -> None:
        rows = api.query(CELL0_SQL, (novadb.CELL0_UUID,))
        if rows:
            url = self._cell_url(rows[0][1])
            if url not in (u for _n, u in self.cells):
                cell = (rows[0][0] or CELL0_NAME, url)
                self.cells.append(cell)
                self.optional.add(cell)

    def find(self, ref: str) -> tuple[CellUrl, str]:
        """(cell, uuid) of the one server ``ref`` names."""
        server_uuid = _uuid(ref)
        if server_uuid:
            mapped = self._mapped_cell(server_uuid)
            for cell in [mapped] if mapped else list(self.cells):
                if self._matches(cell, 'uuid', server_uuid):
                    return cell, server_uuid
        found = [(cell, row[0]) for cell in list(self.cells)
                 for row in self._matches(cell, 'display_name', ref)
                 if row[1] == ref]  # exact, as OSC's find: MariaDB's = is not
        if len(found) > 1:
            listed = ', '.join(f'{u} (cell {c[0]})' for c, u in found)
            raise AmbiguousServer(
                f"More than one server exists with the name '{ref}': "
                f"{listed}; give its UUID", [u for _c, u in found])
        if not found:
            names = ', '.join(name for name, _url in self.cells) or 'none'
            unread = ''.join(f'; {note}' for note in self.notes)
            raise ServerNotFound(
                f"No server with a name or ID of '{ref}' (live rows of "
                f"instances) in cells: {names}{unread}")
        return found[0]

    def _mapped_cell(self, server_uuid: str) -> CellUrl | None:
        """The cell instance_mappings names for this UUID, if any."""
        if not self.api:
            return None
        rows = self.api.query(MAPPING_SQL, (server_uuid,))
        if not rows:
            return None
        cell_id, name, cell_uuid, template = rows[0]
        if cell_id is None:
            raise ServerNotFound(
                f'server {server_uuid} is in no cell yet (its '
                f'instance_mappings row has no cell_id): nova has not '
                f'finished scheduling it, or its build request was deleted')
        url = self._cell_url(template)
        # the caller's name for that cell, when it is one of theirs
        cell = next((c for c in self.cells if c[1] == url),
                    (name or cell_uuid, url))
        self.optional.discard(cell)  # the server is there: it must be read
        return cell

    def _matches(self, cell: CellUrl, column: str,
                 value: str) -> typing.Sequence[novadb.Row]:
        name, url = cell
        try:
            conn = _open_cell(name, url)
        except novadb.DatabaseError as exc:
            if cell not in self.optional:
                raise
            self.notes.append(f'{name} not searched: {exc}')
            self.optional.discard(cell)
            self.cells.remove(cell)
            return []
        try:
            return conn.query(f'SELECT uuid, display_name FROM instances '
                              f'WHERE deleted = 0 AND {column} = %s',
                              (value,))
        finally:
            conn.close()


def _load(cell: CellUrl, server_uuid: str, api: novadb.Connection | None,
          notes: list[str]) -> Server:
    name, url = cell
    conn = _open_cell(name, url)
    try:
        rows = conn.query(INSTANCE_SQL, (server_uuid,))
        if not rows:  # deleted between the search and now
            raise ServerNotFound(f'server {server_uuid} is no longer in '
                                 f'cell {name}')
        fault = [Fault(code, message, details, _timestamp(created))
                 for code, message, details, created
                 in conn.query(FAULT_SQL, (server_uuid,))]
        devices = tuple(model.Device(
            address, vendor_id, product_id, dev_type, status,
            numa_node=numa_node, compute_node_id=node_id)
            for address, vendor_id, product_id, dev_type, status, numa_node,
            node_id in conn.query(DEVICES_SQL, (server_uuid,)))
    finally:
        conn.close()
    notes = list(notes)
    spec = _request_spec(api, server_uuid, notes)
    server_uuid, display_name, host, node, vm_state, task_state = rows[0]
    return Server(uuid=server_uuid, name=display_name, cell=name, host=host,
                  node=node, vm_state=vm_state, task_state=task_state,
                  status=None, fault=fault[0] if fault else None,
                  devices=devices, request_spec=spec, notes=tuple(notes))


def _timestamp(value: typing.Any) -> typing.Any:
    return value.isoformat() if hasattr(value, 'isoformat') else value


def _request_spec(api: novadb.Connection | None, server_uuid: str,
                  notes: list[str]) -> requestspec.RequestSpec | None:
    """The parsed request spec, or None with the reason in ``notes``."""
    if api is None:
        notes.append('request spec not read: it is in the API database '
                     '(request_specs), which was not given')
        return None
    rows = api.query(SPEC_SQL, (server_uuid,))
    if not rows:
        notes.append(f'request spec not found: request_specs has no row '
                     f'for {server_uuid}')
        return None
    try:
        return requestspec.parse(rows[0][0], server_uuid)
    except requestspec.RequestSpecError as exc:
        notes.append(str(exc))
        return None


# --- `openstack server show -f json` --------------------------------------

def server_from_show_json(path: str) -> Server:
    """The server of an ``openstack server show SERVER -f json`` file.

    Status, fault, host and flavor as the compute API shows them; no
    devices and no request spec beyond the flavor (notes say so).
    """
    text = exports.read_text(path)
    try:
        data = json.loads(text)
    except ValueError:
        raise exports.ExportError(
            f'{path}: not JSON: give `{SHOW_COMMAND}` output')
    if isinstance(data, list):
        raise exports.ExportError(
            f'{path}: a JSON list (`server list` output?): give '
            f'`{SHOW_COMMAND}` output')
    return server_from_show(data, path)


def server_from_show(data: object, source: str) -> Server:
    """The server of a ``server show`` body (a file's, or the API's)."""
    path = source
    if not (isinstance(data, dict) and isinstance(data.get('id'), str) and
            'status' in data):
        raise exports.ExportError(
            f'{path}: not `{SHOW_COMMAND}` output (no "id" and "status")')
    show = _Show(path, data)
    notes = ['devices unknown: `server show` does not list PCI devices; '
             'the cell database has them (pci_devices.instance_uuid)']
    flavor = show.flavor(notes)
    notes.append('request spec: only the flavor, from `server show`; the PCI '
                 'requests, NUMA topology and forced hosts are in the API '
                 'database (request_specs)')
    return Server(
        uuid=data['id'], name=show.text('name'), cell=None,
        host=show.text('OS-EXT-SRV-ATTR:host'),
        node=show.text('OS-EXT-SRV-ATTR:hypervisor_hostname'),
        vm_state=show.text('OS-EXT-STS:vm_state'),
        task_state=show.text('OS-EXT-STS:task_state'),
        status=show.text('status'), fault=show.fault(), devices=None,
        request_spec=requestspec.RequestSpec(instance_uuid=data['id'],
                                             flavor=flavor),
        notes=tuple(notes))


class _Show:
    """Typed fields of a `server show` object; one-line errors."""

    def __init__(self, path: str, data: dict[str, typing.Any]) -> None:
        self.path = path
        self.data = data

    def fail(self, field: str, expected: str) -> typing.NoReturn:
        raise exports.ExportError(
            f'{self.path}: "{field}" is not {expected}: not '
            f'`{SHOW_COMMAND}` output?')

    def text(self, key: str, data: dict[str, typing.Any] | None = None,
             where: str | None = None) -> str | None:
        value = (self.data if data is None else data).get(key)
        if value is not None and not isinstance(value, str):
            self.fail(where or key, 'a string')
        return value

    def number(self, key: str, data: dict[str, typing.Any],
               where: str) -> int | None:
        value = data.get(key)
        if value is not None and (not isinstance(value, int) or
                                  isinstance(value, bool)):
            self.fail(where, 'a whole number')
        return value

    def fault(self) -> Fault | None:
        fault = self.data.get('fault')
        if fault is None:
            return None
        if not isinstance(fault, dict):
            self.fail('fault', 'an object')
        return Fault(code=self.number('code', fault, 'fault.code'),
                     message=self.text('message', fault, 'fault.message'),
                     details=self.text('details', fault, 'fault.details'),
                     created_at=self.text('created', fault, 'fault.created'))

    def flavor(self, notes: list[str]) -> requestspec.Flavor | None:
        flavor = self.data.get('flavor')
        if flavor is None:
            return None
        if isinstance(flavor, str):
            # below microversion 2.47: "NAME (ID)", or the ID alone
            match = _FLAVOR_NAME_ID.match(flavor)
            name, flavorid = match.groups() if match else (None, flavor)
            notes.append('flavor without vcpus, RAM or extra specs: the '
                         'export was made below compute API microversion '
                         '2.47 (add --os-compute-api-version 2.47)')
            return requestspec.Flavor(name, flavorid, None, None, None)
        if not isinstance(flavor, dict):
            self.fail('flavor', 'an object')
        specs = flavor.get('extra_specs')
        if specs is not None and not (
                isinstance(specs, dict) and
                all(isinstance(v, str) for v in specs.values())):
            self.fail('flavor.extra_specs', 'an object of strings')
        # from 2.47 the API embeds the flavor without its ID; the SDK
        # fills "id" with the name (openstack/compute/v2/flavor.py)
        return requestspec.Flavor(
            name=self.text('original_name', flavor, 'flavor.original_name'),
            flavorid=None,
            vcpus=self.number('vcpus', flavor, 'flavor.vcpus'),
            memory_mb=self.number('ram', flavor, 'flavor.ram'),
            extra_specs=specs)
