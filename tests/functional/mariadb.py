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

"""A private MariaDB server for the functional tests.

One server per test process, started on first use: its own datadir in a
temp dir, listening on 127.0.0.1 on a free port and on a socket, stopped by
PID when the process exits. Each test gets fresh databases holding nova's
real tables (DDL generated from nova's models, see
tools/dump-nova-schema.py).
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pymysql

SCHEMA_DIR = os.path.join(os.path.dirname(__file__), '..', 'fixtures',
                          'schema')
ADMIN_PASSWORD = 'admin-pw-never-shown'
READER_PASSWORD = 'reader-pw-never-shown'
# taken at import: nova's test base points tempfile at a per-test directory
# it removes afterwards, and the server must outlive each test
_TMP_ROOT = tempfile.gettempdir()


def _find(*names):
    for name in names:
        path = shutil.which(name) or shutil.which(name, path='/usr/sbin')
        if path:
            return path
    raise RuntimeError(
        f'none of {names} found: install mariadb-server '
        f'(tools/test-deps.sh does)')


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Server:
    """A running mariadbd owned by this process."""

    def __init__(self, tls=None):
        """``tls``: (CA, certificate, key) paths to serve TLS with."""
        self.tls = tls
        self.dir = tempfile.mkdtemp(prefix='gpu-mariadb-', dir=_TMP_ROOT)
        self.datadir = os.path.join(self.dir, 'data')
        self.socket = os.path.join(self.dir, 'mysql.sock')
        self.port = _free_port()
        # a private tmpdir: two servers bootstrapping at once in /tmp can
        # trip over each other's temporary tables
        self.tmpdir = os.path.join(self.dir, 'tmp')
        os.mkdir(self.tmpdir)
        install = subprocess.run(
            [_find('mariadb-install-db', 'mysql_install_db'),
             '--no-defaults', f'--datadir={self.datadir}', '--user=root',
             '--auth-root-authentication-method=normal', '--skip-test-db',
             f'--tmpdir={self.tmpdir}'],
            capture_output=True, text=True)
        if install.returncode:
            raise RuntimeError(
                f'mariadb-install-db failed ({install.returncode}): '
                f'{install.stdout[-2000:]} {install.stderr[-2000:]}')
        self.log = open(os.path.join(self.dir, 'server.log'), 'w')
        self.start()
        atexit.register(self.stop)
        with self.root() as cur:
            cur.execute("CREATE USER 'admin'@'%%' IDENTIFIED BY %s",
                        (ADMIN_PASSWORD,))
            cur.execute("GRANT ALL ON *.* TO 'admin'@'%'")
            cur.execute("CREATE USER 'reader'@'%%' IDENTIFIED BY %s",
                        (READER_PASSWORD,))

    def start(self):
        """mariadbd on this datadir, port and socket; back when it answers."""
        self.proc = subprocess.Popen(
            [_find('mariadbd', 'mysqld'), '--no-defaults',
             f'--datadir={self.datadir}', f'--socket={self.socket}',
             f'--tmpdir={self.tmpdir}',
             f'--port={self.port}', '--bind-address=127.0.0.1',
             '--user=root', f'--pid-file={self.dir}/mariadb.pid',
             '--innodb-buffer-pool-size=128M', '--skip-log-bin',
             '--innodb-flush-log-at-trx-commit=0', *self._tls_args()],
            stdout=self.log, stderr=subprocess.STDOUT)
        self._wait()

    def _tls_args(self):
        if not self.tls:
            return []
        ca, cert, key = self.tls
        return [f'--ssl-ca={ca}', f'--ssl-cert={cert}', f'--ssl-key={key}']

    def _wait(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'mariadbd exited, see {self.dir}')
            try:
                pymysql.connect(unix_socket=self.socket, user='root').close()
                return
            except pymysql.err.OperationalError:
                time.sleep(0.2)
        raise RuntimeError('mariadbd did not start within 60 s')

    def root(self, database=None):
        conn = pymysql.connect(unix_socket=self.socket, user='root',
                               database=database, autocommit=True)
        return _Cursor(conn)

    def shutdown(self):
        """Stop mariadbd cleanly, keeping its datadir for start()."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self):
        self.shutdown()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database, user='admin', password=ADMIN_PASSWORD):
        return (f'mysql+pymysql://{user}:{password}@127.0.0.1:{self.port}/'
                f'{database}?charset=utf8')

    def create_database(self, kind, prefix='nova'):
        """A new database with nova's ``main`` or ``api`` tables."""
        name = f'{prefix}_{kind}_{uuid.uuid4().hex[:8]}'
        with open(os.path.join(SCHEMA_DIR, f'{kind}.sql')) as f:
            ddl = f.read()
        with self.root() as cur:
            cur.execute(f'CREATE DATABASE {name}')
            cur.execute(f'USE {name}')
            for statement in ddl.split(';'):
                if statement.strip():
                    cur.execute(statement)
            cur.execute(f"GRANT SELECT ON {name}.* TO 'reader'@'%'")
        return name


class _Cursor:
    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.cur = self.conn.cursor()
        return self.cur

    def __exit__(self, *exc):
        self.cur.close()
        self.conn.close()


_SERVER = None


def server():
    global _SERVER
    if _SERVER is None:
        _SERVER = Server()
    return _SERVER
