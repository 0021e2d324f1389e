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

"""What the audit reads from the cell databases, at a million rows.

Pools (the counts of pci.pools.DevicePool, aggregated by MariaDB), compute
nodes, leaked allocations and the NUMA cells a flavor can need, over at
most ``--db-workers`` connections (novadb.Connection): a big cell is read
in ranges of its primary key at once. pymysql decodes every field in pure
Python, so the SQL returns few rows, and few fields in each.
"""

import collections.abc
from collections.abc import Callable
import concurrent.futures
import dataclasses
import functools
import heapq
import itertools
import os
import threading
import typing

from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.sources import novadb

Iterator = collections.abc.Iterator
# (name, url) of one cell database
CellUrl = tuple[str, str]
NodeKey = tuple[str, int]
# numa_node NULL in a packed pool row (PACKED_POOLS_SQL)
NO_NUMA = '-'
# what the audit reads from the cells: pools, nodes by (cell, id), leaks
CellData = tuple[list[pci_pools.DevicePool], dict[NodeKey, model.Node],
                 list[model.Leak]]


def _in(statuses: collections.abc.Iterable[str]) -> str:
    return '(' + ', '.join(f"'{s}'" for s in statuses) + ')'


# which nodes' NUMA cells to read: a function of their pools
PoolFilter = Callable[[pci_pools.DevicePool], bool]
# first and last pci_devices.id of one worker's share of a cell
IdRange = tuple[int, int]

# Connections open at once over every cell (--db-workers). MariaDB runs
# each query on one thread: a big cell read in ranges over several
# connections uses several of the server's cores. Four at most keeps the
# load on a production server modest (nova's services hold dozens of
# connections); fewer on a small client, whose one Python process decodes
# and merges every answer under one lock.
DEFAULT_WORKERS = min(4, os.cpu_count() or 1)

# The counts of pci.pools.DevicePool, computed by MariaDB; the statuses are
# pci.pools' own constants so the SQL and the export path cannot disagree.
POOL_KEYS = ('compute_node_id', 'vendor_id', 'product_id', 'dev_type',
             'numa_node')
POOL_COLUMNS = (
    'compute_node_id', 'LOWER(vendor_id)', 'LOWER(product_id)', 'dev_type',
    'numa_node', 'COUNT(*)',
    # integers, not the DECIMAL of SUM that pymysql decodes slowly
    f"CAST(SUM(status NOT IN {_in(pci_pools.GONE_STATUSES)}) AS SIGNED)",
    f"CAST(SUM(status = '{pci_pools.AVAILABLE}') AS SIGNED)",
    f"CAST(SUM(status IN {_in(pci_pools.USED_STATUSES)}) AS SIGNED)")
# SQL_BIG_RESULT has MariaDB group by sorting the rows instead of through a
# temporary table keyed on five columns, three of them utf8 strings
# compared by collation: 0.9 s instead of 1.3 s for a million rows
# (doc/source/performance.rst). The groups come back in GROUP BY order,
# which merges the ranges. ``{select}`` is the columns, ``{where}`` takes
# the range of primary keys one worker reads (see read_cells).
_POOLS = ('SELECT SQL_BIG_RESULT {select} FROM pci_devices '
          'WHERE deleted = 0{where} GROUP BY ' + ', '.join(POOL_KEYS))
# One string per group, its fields joined by a space: pymysql decodes each
# field in pure Python, and nine fields of 82,000 groups cost the client
# 0.7 s of CPU where one field and str.split() cost 0.4 s, on the two
# cores the server's sort needs too. Nova writes no space in a PCI id,
# dev_type or number and no NULL but in numa_node; a group that splits
# otherwise has its range read again as columns (POOLS_SQL).
PACKED_POOLS_SQL = _POOLS.format(
    select="CONCAT_WS(' ', " + ', '.join(
        f'IFNULL({c}, {NO_NUMA!r})' if c == 'numa_node' else c
        for c in POOL_COLUMNS) + ')', where='{}')
POOLS_SQL = _POOLS.format(select=', '.join(POOL_COLUMNS), where='{}')
ID_RANGE = ' AND id BETWEEN %s AND %s'
# The primary key's ends: InnoDB answers from the clustered index alone.
BOUNDS_SQL = 'SELECT MIN(id), MAX(id) FROM pci_devices'

# One string per node too (see PACKED_POOLS_SQL): id, deleted and, unless
# NULL, the host last, which may then hold spaces.
NODE_TEXT = ("CONCAT(id, ' ', IFNULL(deleted, 0), "
             "IFNULL(CONCAT(' ', host), ''))")
# and many nodes per row, a line each, with how many lines there must be:
# a host name with a newline (nova writes none) or a line cut at
# group_concat_max_len makes the count differ, and the nodes are read
# again a row each (NODES_SQL)
PACKED_NODES_SQL = (f"SELECT COUNT(*), GROUP_CONCAT({NODE_TEXT} "
                    f"SEPARATOR '\\n') FROM compute_nodes "
                    f"GROUP BY id DIV 1024")
NODES_SQL = f'SELECT {NODE_TEXT} FROM compute_nodes'
# Enough for 1024 host names of nova's 255 characters (MySQL's default is
# 1 KiB, MariaDB's 1 MiB).
GROUP_CONCAT_MAX_LEN = 1024 * 1024
# The NUMA cells nova fits guests onto (nova/objects/numa.py), only for
# nodes whose devices a NUMA flavor can ask for: a blob is kilobytes.
NUMA_SQL = 'SELECT id, numa_topology FROM compute_nodes WHERE id IN ({})'
BATCH = 1000

# Rows held by an instance whose row is soft-deleted or absent, and whether
# it is deleted, in one statement joined in this order (STRAIGHT_JOIN).
# ``p`` finds the candidates from nova's indexes alone: only rows with an
# instance_uuid are in ix_pci_devices_instance_uuid_deleted (which holds
# deleted and the primary key too), and instances_uuid_deleted_idx answers
# "is there a live instance row" without reading the row (MariaDB picks
# the unique uuid key and reads every instance row unless told: ``{}``).
# Only then ``q`` reads the few leaked rows by primary key: the status
# asked of ``p`` would read all 300,000 rows that hold an instance.
LEAKS_SQL = (
    "SELECT STRAIGHT_JOIN q.compute_node_id, q.address, q.vendor_id, "
    "q.product_id, q.status, q.instance_uuid, EXISTS(SELECT 1 FROM "
    "instances d WHERE d.uuid = q.instance_uuid AND d.deleted != 0) "
    "FROM pci_devices p LEFT JOIN instances i{} "
    "ON i.uuid = p.instance_uuid AND i.deleted = 0 "
    "JOIN pci_devices q ON q.id = p.id "
    "WHERE p.instance_uuid IS NOT NULL AND p.deleted = 0 "
    "AND i.uuid IS NULL "
    f"AND q.status IN {_in(pci_pools.USED_STATUSES)}")
INSTANCES_INDEX = 'instances_uuid_deleted_idx'


def read_cells(cell_urls: collections.abc.Sequence[CellUrl],
               max_workers: int = DEFAULT_WORKERS, with_leaks: bool = True,
               timeouts: novadb.Timeouts = novadb.Timeouts(),
               with_numa: bool | PoolFilter = True) -> CellData:
    """Pools, nodes and leaks of every cell, merged in the cells' order.

    At most ``max_workers`` connections are open at once, over all cells,
    one per worker thread, each with the same timeouts and read-only
    transaction; a worker keeps its connection for its next query on the
    same cell. With more workers than cells, each cell's scan
    of pci_devices is split into ranges of its primary key, two per worker
    and cell (a range of the clustered index is a contiguous part of the
    table, where a range of compute_node_id reads the whole table, or
    every row by lookup on nova's index). A node whose rows fall in two
    ranges has its counts added up, so any number of workers gives the
    same pools in the same order. The first error, in the cells' order, is
    raised.
    """
    held = _Held()
    cells = [_Cell(name, url, timeouts, held) for name, url in cell_urls]
    workers = max(1, max_workers)
    # two ranges per connection: a connection that finished its range
    # takes the next, so the leak query or a slow range holds no one up;
    # the leak query and the nodes go first, so that the last to finish
    # are short ranges, not a long query started late
    ranges = 1 if workers == 1 else max(1, 2 * workers // len(cells or [1]))
    with held, concurrent.futures.ThreadPoolExecutor(workers) as executor:
        bounds = _all(executor, [functools.partial(c.id_ranges, ranges)
                                 for c in cells]) if ranges > 1 else \
            [[None]] * len(cells)
        calls: list[Callable[[], typing.Any]] = []
        for cell, cell_ranges in zip(cells, bounds):
            if with_leaks:
                calls.append(cell.leaks)
            calls.append(cell.nodes)
            calls += [functools.partial(cell.pools, r) for r in cell_ranges]
        results = iter(_all(executor, calls))
        read = []
        for cell, cell_ranges in zip(cells, bounds):
            leaks = next(results) if with_leaks else []
            nodes = next(results)
            pools = _merge([next(results) for _ in cell_ranges])
            read.append((cell, pools, nodes, leaks))
        if with_numa:
            wanted = with_numa if callable(with_numa) else None
            _all(executor, [functools.partial(
                cell.add_numa_topologies, nodes, sorted(
                    {p.compute_node_id for p in pools
                     if wanted is None or wanted(p)}))
                for cell, pools, nodes, _leaks in read])
    pools, nodes, leaks = [], {}, []
    for _cell, cell_pools, cell_nodes, cell_leaks in read:
        pools.extend(cell_pools)
        nodes.update(cell_nodes)
        leaks.extend(cell_leaks)
    return pools, nodes, leaks


def _all(executor: concurrent.futures.Executor,
         calls: list[Callable[[], typing.Any]]) -> list[typing.Any]:
    """Results of ``calls`` run on ``executor``, in order.

    The first failure in order is raised once the calls started before it
    ended; calls not started yet are cancelled.
    """
    futures = [executor.submit(call) for call in calls]
    try:
        return [f.result() for f in futures]
    except BaseException:
        for future in futures:
            future.cancel()
        concurrent.futures.wait(futures)
        raise


class _Held:
    """The connection each worker thread holds, closed when done.

    Opening one costs the client about 25 ms of CPU (pymysql >= 1.2 builds
    an SSL context for each, to use TLS when the server offers it), and a
    one-cell audit makes eight calls. A thread keeps its connection for
    its next call on the same cell and closes it for another, so no more
    connections are open than threads.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[novadb.Connection] = set()

    def get(self, cell: '_Cell') -> novadb.Connection:
        held: tuple[_Cell, novadb.Connection] | None = getattr(
            self._local, 'held', None)
        if held is not None and held[0] is cell:
            return held[1]
        if held is not None:
            self._close(held[1])
            self._local.held = None
        conn = cell.connect()
        with self._lock:
            self._open.add(conn)
        self._local.held = (cell, conn)
        return conn

    def _close(self, conn: novadb.Connection) -> None:
        with self._lock:
            self._open.discard(conn)
        conn.close()

    def close(self) -> None:
        with self._lock:
            left, self._open = self._open, set()
        for conn in left:
            conn.close()

    def __enter__(self) -> '_Held':
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Cell:
    """The reads of one cell database, on its workers' connections."""

    def __init__(self, name: str, url: str, timeouts: novadb.Timeouts,
                 held: _Held) -> None:
        self.name = name
        self.url = url
        self.timeouts = timeouts
        self.held = held

    def connect(self) -> novadb.Connection:
        return novadb.Connection(
            self.url, label=f'cell {self.name} ({novadb.mask(self.url)})',
            timeouts=self.timeouts)

    def id_ranges(self, count: int) -> list[IdRange | None]:
        """``count`` ranges of pci_devices ids covering the table."""
        conn = self.held.get(self)
        low, high = conn.query(BOUNDS_SQL)[0]
        return _id_ranges(low, high, count)

    def pools(self, id_range: IdRange | None) -> list[pci_pools.DevicePool]:
        """DevicePools of the rows in ``id_range``, or of every row."""
        conn = self.held.get(self)
        where = ID_RANGE if id_range else ''
        pools = _unpack_pools(self.name, conn.stream(
            PACKED_POOLS_SQL.format(where), id_range or ()))
        if pools is None:
            pools = [_pool(self.name, {}, *row) for row in conn.stream(
                POOLS_SQL.format(where), id_range or ())]
        return pools

    def nodes(self) -> dict[tuple[str, int], model.Node]:
        conn = self.held.get(self)
        conn.query('SET SESSION group_concat_max_len = %s',
                   (GROUP_CONCAT_MAX_LEN,))
        texts = []
        for count, text in conn.query(PACKED_NODES_SQL):
            lines = text.split('\n') if text is not None else []
            if len(lines) != count:
                texts = [row[0] for row in conn.query(NODES_SQL)]
                break
            texts += lines
        nodes = {}
        for text in texts:
            node_id, deleted, *host = text.split(' ', 2)
            node = model.Node(self.name, int(node_id),
                              host[0] if host else None,
                              deleted=deleted != '0')
            nodes[(self.name, node.id)] = node
        return nodes

    def leaks(self) -> list[model.Leak]:
        conn = self.held.get(self)
        hint = (f' FORCE INDEX ({INSTANCES_INDEX})'
                if INSTANCES_INDEX in conn.indexes('instances') else '')
        rows = conn.query(LEAKS_SQL.format(hint))
        # by host and address, whatever order the index gave
        return [model.Leak(self.name, node, address, vendor, product, status,
                           instance, instance_deleted=bool(deleted))
                for node, address, vendor, product, status, instance, deleted
                in sorted(rows)]

    def add_numa_topologies(self, nodes: dict[tuple[str, int], model.Node],
                            node_ids: list[int]) -> None:
        if not node_ids:
            return
        conn = self.held.get(self)
        for start in range(0, len(node_ids), BATCH):
            batch = node_ids[start:start + BATCH]
            sql = NUMA_SQL.format(', '.join(['%s'] * len(batch)))
            for node_id, topology in conn.query(sql, batch):
                key = (self.name, node_id)
                if key in nodes:
                    nodes[key] = dataclasses.replace(
                        nodes[key], numa_topology=topology,
                        numa_read=True)


def _pool(cell: str, same: dict[typing.Any, typing.Any], node: typing.Any,
          vendor: typing.Any, product: typing.Any, dev_type: typing.Any,
          numa: typing.Any,
          total: typing.Any, usable: typing.Any, available: typing.Any,
          used: typing.Any) -> pci_pools.DevicePool:
    # ids and dev_types repeat on every node, a node on each of its pools:
    # keep one object of each (a million-row cell has 82,000 pools)
    node = int(node)
    return pci_pools.DevicePool(
        cell, same.setdefault(node, node), same.setdefault(vendor, vendor),
        same.setdefault(product, product),
        same.setdefault(dev_type, dev_type),
        None if numa is None else int(numa), int(total), int(usable),
        int(available), int(used))


def _unpack_pools(cell: str, rows: Iterator[novadb.Row]
                  ) -> list[pci_pools.DevicePool] | None:
    """The pools of PACKED_POOLS_SQL's rows; None if one does not split.

    The stream is closed before returning, so the connection can take the
    query that reads the range again as columns.
    """
    same: dict[typing.Any, typing.Any] = {}
    pools = []
    width = len(POOL_COLUMNS)
    try:
        for (text,) in rows:
            fields: list[typing.Any] = (
                text.split(' ') if text is not None else [])
            if len(fields) != width:
                return None
            if fields[4] == NO_NUMA:
                fields[4] = None
            pools.append(_pool(cell, same, *fields))
    finally:
        close = getattr(rows, 'close', None)
        if close:
            close()
    return pools


def _id_ranges(low: int | None, high: int | None,
               count: int) -> list[IdRange | None]:
    """At most ``count`` (first, last) id ranges covering low..high.

    [None] (every row, no range) for an empty table.
    """
    if low is None or high is None:
        return [None]
    step = (high - low + 1) / count
    ends = sorted({low + round(step * n) for n in range(count + 1)})
    return [(start, end - 1) for start, end in zip(ends, ends[1:])]


def _merge(ranges: list[list[pci_pools.DevicePool]]
           ) -> list[pci_pools.DevicePool]:
    """The DevicePools of each range (each in key order) as one list.

    The ranges split the table by primary key, so one node's devices can
    be counted in two of them: their counts add up. Nova writes a host's
    rows when its compute service first starts, so the ranges mostly hold
    ever higher nodes: then they are joined end to end and only a node on
    a boundary is merged; a node that got devices later (a lower node in a
    later range) has every pool merged by key.
    """
    ranges = [part for part in ranges if part]
    if len(ranges) <= 1:
        return ranges[0] if ranges else []
    if any(before[-1].compute_node_id > after[0].compute_node_id
           for before, after in zip(ranges, ranges[1:])):
        return _merge_by_key(ranges)
    merged = ranges[0]
    for part in ranges[1:]:
        node = part[0].compute_node_id
        if merged[-1].compute_node_id != node:
            merged.extend(part)
            continue
        # the node on the boundary: its pools from both sides
        tail = len(merged)
        while tail and merged[tail - 1].compute_node_id == node:
            tail -= 1
        head = 0
        while head < len(part) and part[head].compute_node_id == node:
            head += 1
        merged[tail:] = _merge_by_key([merged[tail:], part[:head]])
        merged.extend(itertools.islice(part, head, None))
    return merged


def _merge_by_key(ranges: list[list[pci_pools.DevicePool]]
                  ) -> list[pci_pools.DevicePool]:
    """Sorted lists of DevicePools as one, equal keys added up."""
    merged: list[pci_pools.DevicePool] = []
    last = None
    for pool in heapq.merge(*ranges, key=_pool_order):
        key = _pool_order(pool)
        if key == last:
            have = merged[-1]
            merged[-1] = dataclasses.replace(
                have, total=have.total + pool.total,
                usable=have.usable + pool.usable,
                available=have.available + pool.available,
                used=have.used + pool.used)
        else:
            merged.append(pool)
            last = key
    return merged


def _pool_order(pool: pci_pools.DevicePool) -> tuple[typing.Any, ...]:
    # MariaDB's GROUP BY order (NULL first) over what nova writes: ids in
    # lower-case hex, dev_type its own constants
    return (pool.compute_node_id, pool.vendor_id, pool.product_id,
            pool.dev_type, pool.numa_node is not None, pool.numa_node or 0)
