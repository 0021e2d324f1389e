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

"""Where nova's PCI devices are read from: the databases or exports.

Every reader offers :class:`DeviceReader`: the audit's pools, nodes and
leaks; the device rows ``device list`` streams; the compute nodes and
rows placement's checks compare. ``sources/inventory.py`` picks one
reader per command from the options. A new source of devices (an Ansible
inventory, another export format) is one more class here with the same
three methods, and one more branch in that choice.
"""

import collections.abc
import typing

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.sources import cellread
from gpupassthrough_osc.sources import dburl
from gpupassthrough_osc.sources import devicefilter
from gpupassthrough_osc.sources import exports
from gpupassthrough_osc.sources import novadb
from gpupassthrough_osc.sources import settings

DeviceFilter = devicefilter.DeviceFilter
DeviceRow = devicefilter.DeviceRow
# (pools, nodes, leaks); pools None: no device data (config-only mode);
# leaks None: not checked
DeviceData = tuple[list[pci_pools.DevicePool] | None,
                   dict[cellread.NodeKey, model.Node], list[model.Leak] | None]
# a live compute_nodes row with the uuid of its placement root provider
NodeRow = dict[str, typing.Any]
PlacementRows = tuple[list[NodeRow], list[DeviceRow]] | tuple[None, None]


class NoDeviceSource(novadb.DatabaseError):
    """``device list`` without a database or an export to read."""


class DeviceReader(typing.Protocol):
    """What the commands ask a device source for."""

    def device_data(self, with_leaks: bool = True,
                    with_numa: bool | cellread.PoolFilter = False
                    ) -> DeviceData:
        """(pools, nodes, leaks), or (None, {}, None) without devices."""

    def devices(self, device_filter: DeviceFilter
                ) -> collections.abc.Iterator[DeviceRow]:
        """Stream the device rows the filter matches."""

    def placement_nodes(self) -> PlacementRows:
        """(compute node rows with uuid, device rows) or (None, None)."""

    def check_cell(self, device_filter: DeviceFilter) -> None:
        """Raise NoSuchCell when the filter asks for a cell not read."""


class DatabaseDevices:
    """Nova's cell databases: every cell of the API database, or one.

    ``notes``: the list the reader appends what it skipped to.
    """

    def __init__(self, cell_url: str | None, api_url: str | None,
                 timeouts: novadb.Timeouts, notes: list[str],
                 workers: int = cellread.DEFAULT_WORKERS) -> None:
        self.cell_url = cell_url
        self.api_url = api_url
        self.timeouts = timeouts
        self.notes = notes
        self.workers = workers
        self._cells: list[cellread.CellUrl] | None = None

    def cells(self) -> list[cellread.CellUrl]:
        """[(name, url)] of the cells to read, from cell_mappings once."""
        if self._cells is None:
            self._cells = self._cell_mappings()
        return self._cells

    def _cell_mappings(self) -> list[cellread.CellUrl]:
        if self.api_url:
            base = self.cell_url or self.api_url
            cells = [(name, novadb.format_cell_url(url, base))
                     for name, _uuid, url in novadb.cells(self.api_url,
                                                          self.timeouts)]
            if cells:
                return cells
        if self.cell_url:
            return [('default', self.cell_url)]
        return []

    def device_data(self, with_leaks: bool = True,
                    with_numa: bool | cellread.PoolFilter = False
                    ) -> DeviceData:
        """Pools, nodes and leaks of every cell.

        ``with_numa``: read the nodes' NUMA cells too (kilobytes per
        node; only flavors with a guest NUMA topology need them).
        """
        cells = self.cells()
        if not cells:
            self.notes.append(
                'no nova database or --pci-devices export: device, '
                'capacity and leak checks skipped (config-only mode)')
            return None, {}, None
        return cellread.read_cells(cells, self.workers, with_leaks,
                                   self.timeouts, with_numa)

    def devices(self, device_filter: DeviceFilter
                ) -> collections.abc.Iterator[DeviceRow]:
        cells = self.cells()
        if not cells:
            raise NoDeviceSource(
                'no nova database: give --db-connection, set '
                f'{settings.DB_ENV}, or give --pci-devices FILE')
        self.check_cell(device_filter)
        listed = 0
        for name, url in cells:
            if not device_filter.selects_cell(name):
                continue
            try:
                for dev in novadb.devices(name, url, device_filter,
                                          self.timeouts):
                    if device_filter.matches(dev):
                        listed += 1
                        yield dev
            except novadb.DatabaseError as exc:
                # rows of earlier cells may be printed already: say so
                before = (f' ({exceptions.rows(listed)} of earlier cells '
                          f'read: the list is incomplete)' if listed else '')
                raise novadb.DatabaseError(
                    dburl.mask(exc) + before) from exc

    def check_cell(self, device_filter: DeviceFilter) -> None:
        """Against cell_mappings (without an API database: 'default')."""
        if device_filter.cell:
            device_filter.check_cell(name for name, _url in self.cells())

    def placement_nodes(self) -> PlacementRows:
        cells = self.cells()
        if not cells:
            self.notes.append('placement checks need pci_devices: give a '
                              'nova database or --pci-devices')
            return None, None
        nodes = [n for name, url in cells
                 for n in novadb.placement_nodes(name, url)]
        devices = [d for name, url in cells
                   for d in novadb.devices(name, url)]
        return nodes, devices


def _one_cell(devices: collections.abc.Iterable[DeviceRow]) -> str:
    """The cell all the devices come from, else ''.

    A compute_nodes export names no cell; when the devices all come from
    one cell (``device list -f json`` says which), its nodes belong to
    that cell.
    """
    cells = {dev['cell'] for dev in devices}
    return cells.pop() if len(cells) == 1 else ''


# an export names cells in a Cell column (device list -f json) or by
# its file's name (several --pci-devices)
NO_CELL_COLUMN = 'the export names no cell: its rows have no Cell column'


class ExportDevices:
    """``--pci-devices`` files (one per cell) and a ``--compute-nodes``."""

    def __init__(self, device_paths: list[str], nodes_path: str | None,
                 notes: list[str]) -> None:
        self.device_paths = device_paths
        self.nodes_path = nodes_path
        self.notes = notes
        # the cells the rows named on device_data's pass, for check_cell
        self._cells_read: frozenset[str] | None = None

    def _rows(self) -> exports.DeviceExports:
        # streamed from the files on each pass, never held (1M rows)
        return exports.DeviceExports(self.device_paths)

    def _nodes(self, cell: str) -> dict[cellread.NodeKey, model.Node]:
        """The --compute-nodes export, its nodes in ``cell``."""
        if not self.nodes_path:
            return {}
        return exports.read_nodes(self.nodes_path, cell)

    def device_data(self, with_leaks: bool = True,
                    with_numa: bool | cellread.PoolFilter = False
                    ) -> DeviceData:
        """Pools and nodes of the exports, in one pass over the files.

        Leaks are never read (they need the instances table); the NUMA
        cells come when the compute_nodes export carries them.
        """
        cells: set[str] = set()
        nodes: dict[cellread.NodeKey, model.Node] = {}

        def noting(devices: exports.DeviceExports
                   ) -> collections.abc.Iterator[DeviceRow]:
            # the hosts and cells the rows name, while they are pooled
            for dev in devices:
                cells.add(dev['cell'])
                node = exports.node_of(dev)
                if node:
                    nodes[(node.cell, node.id)] = node
                yield dev

        pools = pci_pools.aggregate(noting(self._rows()))
        self._cells_read = frozenset(cells)
        nodes.update(self._nodes(cells.pop() if len(cells) == 1 else ''))
        self.notes.append('offline export: leaked allocations need the '
                          'instances table and were not checked')
        return pools, nodes, None

    def devices(self, device_filter: DeviceFilter
                ) -> collections.abc.Iterator[DeviceRow]:
        devices = self._rows()
        # the hosts of --compute-nodes fill in the rows, so the cell
        # they belong to is needed first: one more pass, only then
        nodes = self._nodes(_one_cell(devices)) if self.nodes_path else {}
        listed = 0
        # the cells the rows name, known once they are all read: no
        # row of an unknown cell is listed before its error
        cells = set()
        try:
            for dev in devices:
                cells.add(dev['cell'])
                node = nodes.get((dev['cell'], int(dev['compute_node_id'])))
                if node and not dev.get('host'):
                    dev['host'] = node.host
                if device_filter.matches(dev):
                    listed += 1
                    yield dev
        except exports.ExportError as exc:
            if not listed:
                raise
            # the export is streamed: rows before the bad one are out
            raise exports.ExportError(
                f'{exc} ({exceptions.rows(listed)} read before it: the '
                f'list is incomplete)') from exc
        device_filter.check_cell(cells, NO_CELL_COLUMN)

    def check_cell(self, device_filter: DeviceFilter) -> None:
        """Against the cells the rows name (device_data's, or one pass)."""
        if device_filter.cell:
            device_filter.check_cell(
                self._cells_read if self._cells_read is not None else
                (dev['cell'] for dev in self._rows()), NO_CELL_COLUMN)

    def placement_nodes(self) -> PlacementRows:
        """From a --compute-nodes export that has a uuid column."""
        rows = (exports.read_rows(self.nodes_path)
                if self.nodes_path else [])
        live = [r for r in rows
                if r.get('uuid') and r.get('hypervisor_hostname') and
                not int(r.get('deleted') or 0)]
        if not live:
            self.notes.append(
                'placement checks need the compute nodes\' uuid and '
                'hypervisor_hostname: give --compute-nodes with those '
                'columns')
            return None, None
        # held: the placement checks compare every node's devices
        devices = [dict(d, compute_node_id=int(d['compute_node_id']))
                   for d in self._rows()]
        cell = _one_cell(devices)
        return [dict(r, cell=cell, id=int(r['id'])) for r in live], devices
