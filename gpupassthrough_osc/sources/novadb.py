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

"""Nova's databases, read-only, through pymysql.

Every query is a SELECT inside a read-only transaction, so a user with
nothing but SELECT grants is enough and nothing is ever written. The
audit's read of the cells is in cellread.py; ``devices`` streams rows with
a server-side cursor for ``device list``.
"""

import collections.abc
import dataclasses
import functools
import threading
import typing
import urllib.parse

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.sources import dburl
from gpupassthrough_osc.sources import devicefilter

CELL0_UUID = '00000000-0000-0000-0000-000000000000'
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 300


class DatabaseError(exceptions.SourceError):
    """A database that cannot be reached or read; never shows a password."""


# the one printed form of a DB URL (sources/dburl.py)
mask = dburl.mask

Iterator = collections.abc.Iterator
Row = tuple[typing.Any, ...]
NO_FILTER = devicefilter.DeviceFilter()


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a database, in the two phases that can hang.

    ``connect`` bounds the TCP connect, the MySQL handshake and the session
    set-up together: pymysql's own connect_timeout covers only the TCP
    connect, and a server that accepts and never answers (a load-balancer
    VIP with its backend down) would otherwise hold the handshake for the
    whole read timeout. ``read`` then bounds each wait for a query's
    answer; the aggregate at a million rows takes about 4 s.
    """

    connect: float = CONNECT_TIMEOUT
    read: float = READ_TIMEOUT


def connect_args(url: str,
                 timeouts: Timeouts = Timeouts()) -> dict[str, typing.Any]:
    """pymysql.connect() arguments from an SQLAlchemy-style URL.

    ``mysql+pymysql://user:pass@host:port/db?charset=utf8&unix_socket=...
    &read_default_file=/etc/my.cnf`` as nova.conf writes it.
    """
    parts = _split(url)
    if not parts.scheme.startswith('mysql'):
        raise DatabaseError(
            f'{mask(url)}: only mysql/mariadb URLs are supported '
            f'(mysql+pymysql://user:password@host/nova)')
    query = dict(urllib.parse.parse_qsl(parts.query))
    args: dict[str, typing.Any] = {
        'database': parts.path.lstrip('/') or None,
        'charset': query.get('charset', 'utf8mb4'),
        # the handshake and session set-up are bounded by the connect
        # timeout; Connection switches to the read timeout afterwards
        'connect_timeout': timeouts.connect,
        'read_timeout': timeouts.connect,
        'write_timeout': timeouts.connect}
    if parts.hostname:
        args['host'] = parts.hostname
    if _port(parts, url):
        args['port'] = _port(parts, url)
    if parts.username:
        args['user'] = urllib.parse.unquote(parts.username)
    if parts.password is not None:
        args['password'] = urllib.parse.unquote(parts.password)
    for key in ('unix_socket', 'read_default_file', 'read_default_group'):
        if key in query:
            args[key] = query[key]
    tls = _tls(url, query)
    if tls:
        args['ssl'] = tls
    return args


# TLS options as SQLAlchemy's mysqldb dialect, which pymysql's extends,
# reads them from nova's URL (sqlalchemy/dialects/mysql/mysqldb.py
# create_connect_args): ``?ssl_ca=/etc/ssl/ca.pem`` makes pymysql require
# TLS and check the server's certificate against that CA, and its name
# unless ``ssl_check_hostname=false``.
TLS_KEYS = ('ssl_ca', 'ssl_key', 'ssl_cert', 'ssl_capath', 'ssl_cipher')
# sqlalchemy.util.asbool's words
_TRUE = ('true', 'yes', 'on', 'y', 't', '1')
_FALSE = ('false', 'no', 'off', 'n', 'f', '0')


def _tls(url: str, query: dict[str, str]) -> dict[str, typing.Any]:
    tls: dict[str, typing.Any] = {key[len('ssl_'):]: query[key]
                                  for key in TLS_KEYS if key in query}
    if 'ssl_check_hostname' in query:
        value = query['ssl_check_hostname'].strip().lower()
        if value not in _TRUE + _FALSE:
            raise DatabaseError(
                f'{mask(url)}: ssl_check_hostname={value!r} is not true or '
                f'false')
        tls['check_hostname'] = value in _TRUE
    return tls


def _split(url: str) -> urllib.parse.SplitResult:
    """urlsplit(), or a DatabaseError that shows no password.

    urllib refuses unbalanced brackets and some Unicode in the host, and
    its message then quotes the netloc, password included.
    """
    try:
        return urllib.parse.urlsplit(url)
    except ValueError:
        raise DatabaseError(
            f'{mask(url)}: not a URL urllib can split (brackets or '
            f'characters it refuses in user, password or host; write '
            f'them %-encoded)') from None


def _port(parts: urllib.parse.SplitResult, url: str) -> int | None:
    try:
        return parts.port
    except ValueError:
        # urllib's message quotes what it took for the port, which is part
        # of the password when that holds an unencoded '/'
        raise DatabaseError(
            f'{mask(url)}: the port is not a number (write a "/", "@" or '
            f'":" in the password as %2F, %40, %3A)') from None


def format_cell_url(template: str, base_url: str) -> str:
    """Fill a templated cell_mappings URL as nova does.

    ``nova-manage cell_v2 create_cell`` may store
    ``{scheme}://{username}:{password}@{hostname}:{port}/{path}?{query}``;
    nova fills the fields from its own [database] connection
    (nova/objects/cell_mapping.py ``_format_db_url``).
    """
    if '{' not in template:
        return template
    parts = _split(base_url)
    fields = {'scheme': parts.scheme, 'username': parts.username or '',
              'password': parts.password or '',
              'hostname': parts.hostname or '',
              'port': _port(parts, base_url) or '',
              'path': parts.path.lstrip('/'), 'query': parts.query,
              'fragment': parts.fragment}
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise DatabaseError(f'cannot fill cell URL template: {exc}')


class Connection:
    """One read-only connection to a nova database."""

    def __init__(self, url: str, label: str = '',
                 timeouts: Timeouts = Timeouts()) -> None:
        import pymysql

        self.url = url
        self.label = label or mask(url)
        self.timeouts = timeouts
        self._pymysql = pymysql
        args = connect_args(url, timeouts)
        self._where = (args.get('unix_socket') or
                       f"{args.get('host', 'localhost')}:"
                       f"{args.get('port', 3306)}")
        try:
            self.conn = _connection_class()(autocommit=False, **args)
            with self.conn.cursor() as cur:
                cur.execute('START TRANSACTION READ ONLY')
        except pymysql.err.Error as exc:
            raise DatabaseError(
                f'cannot connect to {self.label}: '
                f'{self._reason(exc, "connect")}') from None
        except OSError as exc:
            # the URL's ssl_ca, ssl_cert or ssl_key, read before connecting
            # (an ssl.SSLError is an OSError too); Python's message for a
            # missing CA file names no file: the options do
            files = ', '.join(f'ssl_{key}={value}'
                              for key, value in args.get('ssl', {}).items()
                              if key in ('ca', 'capath', 'cert', 'key'))
            raise DatabaseError(
                f'cannot connect to {self.label}: TLS options of the URL '
                f'({files}): {mask(exc.strerror or exc, url)}') from None
        # pymysql reads this before each wait for a packet; it has no
        # public setter, and its connect() uses it for the handshake.
        self.conn._read_timeout = timeouts.read

    def _reason(self, exc: BaseException, phase: str) -> str:
        if _timed_out(exc):
            if phase == 'connect':
                return (f'{self._where} did not answer within '
                        f'{self.timeouts.connect:g} s (connect timeout, '
                        f'--db-timeout)')
            return (f'{self._where} did not answer a query within '
                    f'{self.timeouts.read:g} s (read timeout)')
        return mask(_reason(exc), self.url)

    def query(self, sql: str,
              args: collections.abc.Sequence[typing.Any] = ()
              ) -> collections.abc.Sequence[Row]:
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall()
        except self._pymysql.err.Error as exc:
            reason = self._reason(exc, 'read')
            if _lost(exc):
                # the audit reads a cell over several queries at once: one
                # lost is a partial read of the cloud, and nothing is shown
                reason = (f'connection lost during a query ({reason}): the '
                          f'result is incomplete')
            raise DatabaseError(f'{self.label}: {reason}') from None

    def stream(self, sql: str,
               args: collections.abc.Sequence[typing.Any] = ()
               ) -> Iterator[Row]:
        """Rows one at a time from a server-side cursor.

        A server lost mid-stream is a DatabaseError that says how many
        rows came, so that what was printed is never taken as complete.
        """
        cur = self.conn.cursor(self._pymysql.cursors.SSCursor)
        rows = 0
        try:
            cur.execute(sql, args)
            for rows, row in enumerate(cur, 1):
                yield row
        except (self._pymysql.err.Error, AttributeError, OSError) as exc:
            # pymysql's reads after it closed a lost connection fail with
            # AttributeError ('NoneType' object has no attribute 'read')
            _abandon(cur)
            reason = (self._reason(exc, 'read')
                      if isinstance(exc, self._pymysql.err.Error)
                      else 'the server closed the connection')
            # device list has printed those rows already; the audit prints
            # nothing on an error
            raise DatabaseError(
                f'{self.label}: connection lost after '
                f'{exceptions.rows(rows)} '
                f'({reason}): the result is incomplete') from None
        finally:
            _abandon(cur)

    def indexes(self, table: str) -> set[str]:
        """Names of the indexes of ``table`` (nova's schema names them)."""
        rows = self.query(
            'SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS '
            'WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s', (table,))
        return {r[0] for r in rows}

    def columns(self, table: str) -> set[str]:
        rows = self.query(
            'SELECT COLUMN_NAME FROM information_schema.COLUMNS '
            'WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s', (table,))
        return {r[0] for r in rows}

    def close(self) -> None:
        try:
            self.conn.rollback()
            self.conn.close()
        except Exception:
            pass


@functools.cache
def _connection_class() -> type:
    """pymysql's Connection, its TLS context for no TLS options built once.

    Given no TLS option, pymysql >= 1.2 still uses TLS when the server
    offers it (without checking the certificate, as it has no CA to check
    it with), and builds that context for each connection: Python reads
    the system's CA bundle each time, 25 ms of CPU. An audit opens a
    connection per worker and cell. The context it would build is the
    same each time, so the first is kept; given TLS options, pymysql
    builds theirs as before.
    """
    import pymysql

    lock = threading.Lock()
    kept: list[typing.Any] = []

    class _Connection(pymysql.connections.Connection):  # type: ignore
        def _create_ssl_ctx(self, sslp: typing.Any) -> typing.Any:
            if sslp:
                return super()._create_ssl_ctx(sslp)
            with lock:
                if not kept:
                    kept.append(super()._create_ssl_ctx(sslp))
            return kept[0]

    return _Connection


# CR_SERVER_LOST, CR_SERVER_GONE_ERROR, CR_SERVER_LOST_EXTENDED
_LOST_ERRNOS = frozenset({2013, 2006, 2055})


def _lost(exc: BaseException) -> bool:
    """Did the server go away (killed, restarted) during the query?"""
    args: tuple[typing.Any, ...] = exc.args
    return bool(args) and args[0] in _LOST_ERRNOS and not _timed_out(exc)


def _abandon(cursor: typing.Any) -> None:
    """Close a server-side cursor whose connection may be dead.

    pymysql drains an unfinished result on close() and again in the
    result's __del__; on a lost connection both fail, the second as
    "Exception ignored" tracebacks at exit. Nothing is left to drain.
    """
    result = getattr(cursor, '_result', None)
    if result is not None and cursor.connection is not None and \
            getattr(cursor.connection, '_sock', None) is None:
        result.unbuffered_active = False
    try:
        cursor.close()
    except Exception:  # the connection is gone: nothing left to drain
        pass


def _timed_out(exc: BaseException | None) -> bool:
    """Whether pymysql gave up because a socket wait timed out."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, TimeoutError):
            return True
        seen.add(id(exc))
        exc = (getattr(exc, 'original_exception', None) or
               exc.__cause__ or exc.__context__)
    return False


def _reason(exc: BaseException) -> str:
    args: tuple[typing.Any, ...] = getattr(exc, 'args', ())
    if len(args) >= 2:
        return f'({args[0]}) {args[1]}'
    return str(exc) or exc.__class__.__name__


# --- the API database ----------------------------------------------------

def cells(api_url: str,
          timeouts: Timeouts = Timeouts()) -> list[tuple[str, str, str]]:
    """Cells from cell_mappings, cell0 skipped (it has no hosts)."""
    conn = Connection(api_url, label='API database ' + mask(api_url),
                      timeouts=timeouts)
    try:
        rows = conn.query('SELECT name, uuid, database_connection '
                          'FROM cell_mappings ORDER BY id')
    finally:
        conn.close()
    return [(name or uuid, uuid, db) for name, uuid, db in rows
            if uuid != CELL0_UUID]


def flavors(api_url: str,
            timeouts: Timeouts = Timeouts()) -> list[model.Flavor]:
    """Flavors with their extra specs from the API database."""
    conn = Connection(api_url, label='API database ' + mask(api_url),
                      timeouts=timeouts)
    try:
        rows = conn.query(
            'SELECT f.flavorid, f.name, f.vcpus, f.memory_mb, s.`key`, '
            's.value FROM flavors f '
            'LEFT JOIN flavor_extra_specs s ON s.flavor_id = f.id '
            'ORDER BY f.id')
    finally:
        conn.close()
    result: dict[str, model.Flavor] = {}
    for flavorid, name, vcpus, memory_mb, key, value in rows:
        flavor = result.setdefault(flavorid, model.Flavor(
            flavorid, name, {}, vcpus, memory_mb))
        if key is not None:
            flavor.specs[key] = value
    return list(result.values())


PLACEMENT_NODES_SQL = ('SELECT id, uuid, host, hypervisor_hostname '
                       'FROM compute_nodes WHERE deleted = 0')


def placement_nodes(name: str, url: str) -> list[dict[str, typing.Any]]:
    """Live compute nodes of a cell with the uuid of their root provider."""
    conn = Connection(url, label=f'cell {name} ({mask(url)})')
    try:
        return [{'cell': name, 'id': r[0], 'uuid': r[1], 'host': r[2],
                 'hypervisor_hostname': r[3]}
                for r in conn.query(PLACEMENT_NODES_SQL)]
    finally:
        conn.close()


DEVICE_COLUMNS = ('compute_node_id', 'address', 'vendor_id', 'product_id',
                  'dev_type', 'status', 'numa_node', 'instance_uuid',
                  'parent_addr')


# the filter's fields as columns of the query below
FILTER_COLUMNS = {'host': 'c.host', 'status': 'p.status',
                  'vendor_id': 'p.vendor_id', 'product_id': 'p.product_id',
                  'dev_type': 'p.dev_type'}


def devices(name: str, url: str,
            device_filter: devicefilter.DeviceFilter = NO_FILTER,
            timeouts: Timeouts = Timeouts()
            ) -> Iterator[devicefilter.DeviceRow]:
    """Stream live device rows of one cell with the host joined in.

    ``device_filter`` narrows the SELECT (a superset of what it matches:
    the caller keeps its matches); older schemas without parent_addr
    return None in that column.
    """
    conn = Connection(url, label=f'cell {name} ({mask(url)})',
                      timeouts=timeouts)
    try:
        present = conn.columns('pci_devices')
        select = ', '.join(f'p.{c}' if c in present else 'NULL'
                           for c in DEVICE_COLUMNS)
        conditions, args = device_filter.where(FILTER_COLUMNS)
        where = ['p.deleted = 0', *conditions]
        sql = (f'SELECT {select}, c.host FROM pci_devices p '
               f'LEFT JOIN compute_nodes c ON c.id = p.compute_node_id '
               f'WHERE {" AND ".join(where)} '
               f'ORDER BY c.host, p.address')
        for row in conn.stream(sql, args):
            yield dict(zip(DEVICE_COLUMNS + ('host',), row), cell=name)
    finally:
        conn.close()
