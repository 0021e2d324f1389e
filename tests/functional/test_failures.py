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


"""A database or API that fails: never hang, never show a password, never
look complete when it is not.

Every error path an operator can provoke, through the real `openstack`
executable: a silent endpoint (accepts, never answers), a scheme
forgotten, a malformed URL, an unreachable host, a wrong password, an
unknown database, a cell URL from cell_mappings, a nova.conf that cannot
be parsed, a clouds.yaml value; and a server that dies or restarts while
a command reads it, or a grant revoked mid-run.
"""

import os
import signal
import socket
import subprocess
import time


from gpupassthrough_osc import plugin
from gpupassthrough_osc.sources import novadb
from tests import files
from tests.functional import base
from tests.functional import fullfs
from tests.functional import mariadb
from tests.functional import novadata
from tests import hostfixture

MARK = 'Pw0MARKnever'

COMMANDS = (
    ('device', 'audit'),
    ('device', 'list'),
    ('device', 'list', '--summary'),
    ('alias', 'create', 'gpuA40', '--vendor-id', '10de', '--product-id',
     '2235'),
)

# seconds a command may take beyond its timeout on a noisy 2-core machine
SLACK = 6


def silent_endpoint(test):
    """A TCP listener that completes the connect and never says a word.

    The kernel accepts into the backlog; nothing ever reads or writes,
    as with a load-balancer VIP whose backend is down.
    """
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(64)
    test.addCleanup(sock.close)
    return sock.getsockname()[1]


class FailureTestCase(files.TempFiles, base.OpenStackTestCase):

    def assertHidden(self, result, marker=MARK):
        """The marker in no line of ours.

        With --debug OSC itself echoes its command line ("START with
        options"); that line is OSC's, every other one is checked.
        """
        ours = [line for line in (result.stdout + result.stderr).splitlines()
                if not line.startswith('START with options')]
        for line in ours:
            self.assertNotIn(marker, line)


class TestSilentDatabase(FailureTestCase):

    def timed(self, *args, **kw):
        start = time.monotonic()
        result = self.openstack(*args, **kw)
        return result, time.monotonic() - start

    def test_gives_up_within_the_connect_timeout(self):
        port = silent_endpoint(self)
        url = f'mysql+pymysql://nova:{MARK}@127.0.0.1:{port}/nova'
        for command in COMMANDS[:2]:
            # start-up and a refused connection: what is not the timeout
            _refused, baseline = self.timed(
                'gpu', *command, '--db-connection',
                'mysql+pymysql://nova@127.0.0.1:1/nova')
            result, elapsed = self.timed(
                'gpu', *command, '--db-connection', url, '--db-timeout',
                '2', timeout=baseline + 2 + 20)
            self.assertCleanError(result, f'127.0.0.1:{port}',
                                  'did not answer within 2 s')
            self.assertHidden(result)
            # the timeout plus slack for a loaded 2-core machine (start-up
            # alone varies by seconds there); without the bound the
            # handshake waits for the 300 s read timeout
            self.assertLess(elapsed, baseline + 2 + SLACK, result.stderr)

    def test_default_and_clouds_yaml_timeout(self):
        port = silent_endpoint(self)
        url = f'mysql+pymysql://nova@127.0.0.1:{port}/nova'
        result = self.openstack('gpu', 'device', 'list', '--db-connection',
                                url, timeout=novadb.CONNECT_TIMEOUT + 10)
        self.assertCleanError(
            result, f'within {novadb.CONNECT_TIMEOUT:g} s')
        clouds = self.write('clouds.yaml', (
            'clouds:\n  lab:\n    auth_type: none\n'
            '    endpoint: http://127.0.0.1:9/\n'
            '    gpu_db_timeout_seconds: 1\n'))
        result = self.openstack(
            '--os-cloud', 'lab', 'gpu', 'device', 'list', '--db-connection',
            url, env={'OS_CLIENT_CONFIG_FILE': clouds},
            timeout=novadb.CONNECT_TIMEOUT + 10)
        self.assertCleanError(result, 'within 1 s')

    def test_bad_timeout_value(self):
        result = self.openstack('gpu', 'device', 'list', '--db-timeout',
                                '0')
        self.assertNotEqual(0, result.rc)
        self.assertIn('not a number of seconds above 0', result.stderr)

    def test_a_query_that_does_not_answer_hits_the_read_timeout(self):
        cell = novadata.Cell(mariadb.server())
        conn = novadb.Connection(cell.url(),
                                 timeouts=novadb.Timeouts(connect=5, read=1))
        self.addCleanup(conn.close)
        start = time.monotonic()
        exc = self.assertRaises(novadb.DatabaseError, conn.query,
                                'SELECT SLEEP(10)')
        self.assertLess(time.monotonic() - start, 3)
        self.assertIn('did not answer a query within 1 s', str(exc))
        self.assertNotIn(mariadb.ADMIN_PASSWORD, str(exc))


class TestSilentApi(FailureTestCase):

    def clouds(self, port):
        return self.write('clouds.yaml', (
            f'clouds:\n  lab:\n    auth:\n'
            f'      auth_url: http://127.0.0.1:{port}/v3\n'
            f'      username: u\n      password: {MARK}\n'
            f'      project_name: p\n      user_domain_name: Default\n'
            f'      project_domain_name: Default\n'))

    def test_identity_and_compute_calls_time_out(self):
        # OSC leaves api_timeout unset; the plugin's default bounds the
        # identity discovery and the token request OSC makes first
        env = {plugin.API_TIMEOUT_ENV: '1'}
        for command in (('flavor', 'list'), ('flavor', 'show', 'x')):
            start = time.monotonic()
            self.openstack('--os-cloud', 'lab', 'gpu', *command, env=dict(
                env, OS_CLIENT_CONFIG_FILE=self.clouds(1)))
            baseline = time.monotonic() - start
            port = silent_endpoint(self)
            start = time.monotonic()
            result = self.openstack(
                '--os-cloud', 'lab', 'gpu', *command,
                timeout=baseline + 2 + 20,
                env=dict(env, OS_CLIENT_CONFIG_FILE=self.clouds(port)))
            elapsed = time.monotonic() - start
            self.assertNotEqual(0, result.rc)
            self.assertIn(f'127.0.0.1:{port}/v3/auth/tokens timed out',
                          result.stderr)
            self.assertHidden(result)
            # two calls of 1 s (version discovery, then the token), with
            # slack for a loaded machine; unbounded they never return
            self.assertLess(elapsed, baseline + 2 * 1 + SLACK, result.stderr)

    def test_audit_notes_the_timeout_and_goes_on(self):
        conf = self.write('nova.conf', '[pci]\n')
        result = self.openstack(
            '--os-cloud', 'lab', 'gpu', 'device', 'audit', '--no-db',
            '--nova-conf', conf, '-f', 'value', timeout=20,
            env={plugin.API_TIMEOUT_ENV: '1',
                 'OS_CLIENT_CONFIG_FILE': self.clouds(silent_endpoint(self))})
        self.assertEqual(0, result.rc, result.stderr)
        self.assertIn('flavors skipped: compute API', result.stdout)
        self.assertIn('timed out', result.stdout)


class TestPasswordNeverShown(FailureTestCase):
    """A marker password through every command and every error path."""

    def error_paths(self):
        server = mariadb.server()
        cell = novadata.Cell(server)
        silent = silent_endpoint(self)
        return {
            'scheme forgotten': f'reader:{MARK}@127.0.0.1/nova',
            'other scheme': f'postgresql://nova:{MARK}@127.0.0.1/nova',
            'malformed port': f'mysql+pymysql://nova:{MARK}@127.0.0.1:x/n',
            'unencoded /': f'mysql+pymysql://nova:{MARK}/x@127.0.0.1:1/n',
            'unreachable': f'mysql+pymysql://nova:{MARK}@127.0.0.1:1/nova',
            'wrong password': cell.url(password=MARK),
            'unknown database': server.url('no_such_db'),
            'silent': f'mysql+pymysql://nova:{MARK}@127.0.0.1:{silent}/n',
        }

    def test_every_command_every_error(self):
        for path, url in self.error_paths().items():
            for command in COMMANDS:
                result = self.openstack('gpu', *command, '--db-connection',
                                        url, '--db-timeout', '1')
                self.assertNotEqual(0, result.rc, (path, command))
                self.assertNotIn('Traceback', result.stderr)
                self.assertHidden(result)
                self.assertHidden(result, mariadb.ADMIN_PASSWORD)
            # --debug: the URL from the environment, so that OSC's echo of
            # its command line holds no password either
            result = self.openstack(
                '--debug', 'gpu', 'device', 'list', '--db-timeout', '1',
                env={'GPUPASSTHROUGH_DB_CONNECTION': url})
            self.assertNotEqual(0, result.rc, path)
            self.assertHidden(result)
            self.assertHidden(result, mariadb.ADMIN_PASSWORD)
            result = self.openstack('--debug', 'gpu', 'device', 'audit',
                                    '--db-connection', url,
                                    '--db-timeout', '1')
            self.assertHidden(result)
            self.assertHidden(result, mariadb.ADMIN_PASSWORD)

    def test_nova_conf_values(self):
        conf = self.write('nova.conf', (
            f'[database]\nconnection = reader:{MARK}@127.0.0.1/nova\n'
            f'[api_database]\nconnection = mysql+pymysql://api:{MARK}'
            f'@127.0.0.1:1/nova_api\n'))
        # oslo.config quotes the line it cannot parse
        broken = self.write('broken.conf', (
            f'[database]\n  connection = mysql://nova:{MARK}@db/nova\n'))
        for debug in ((), ('--debug',)):
            for path in (conf, broken):
                result = self.openstack(*debug, 'gpu', 'device', 'audit',
                                        '--nova-conf', path)
                self.assertNotEqual(0, result.rc, result.stderr)
                self.assertHidden(result)

    def test_cell_url_from_cell_mappings(self):
        server = mariadb.server()
        api = novadata.ApiDb(server)
        api.map_cell('cell1', f'mysql+pymysql://nova:{MARK}@127.0.0.1:1/c1')
        for debug in ((), ('--debug',)):
            result = self.openstack(
                *debug, 'gpu', 'device', 'audit',
                env={'GPUPASSTHROUGH_API_DB_CONNECTION': api.url()})
            self.assertNotEqual(0, result.rc)
            self.assertIn('cell cell1', result.stderr)
            self.assertHidden(result)
            self.assertHidden(result, mariadb.ADMIN_PASSWORD)

    def test_clouds_yaml_value(self):
        clouds = self.write('clouds.yaml', (
            'clouds:\n  lab:\n    auth_type: none\n'
            '    endpoint: http://127.0.0.1:9/\n'
            f'    gpu_db_connection: "reader:{MARK}@127.0.0.1/nova"\n'))
        result = self.openstack(
            '--os-cloud', 'lab', 'gpu', 'device', 'list',
            env={'OS_CLIENT_CONFIG_FILE': clouds})
        self.assertNotEqual(0, result.rc)
        # the warning that OSC itself shows such values with --debug
        self.assertIn('configuration show', result.stderr)
        self.assertHidden(result)


def seed_devices(server, cell, count):
    """``count`` live pci_devices rows on 100 hosts, loaded in bulk.

    LOAD DATA: 100k rows in about a second where executemany takes ten.
    """
    import pymysql

    nodes = [cell.add_node(f'gpu{n:03d}') for n in range(100)]
    path = os.path.join(server.dir, f'{cell.database}-pci_devices.tsv')
    with open(path, 'w') as f:
        for i in range(count):
            k = i // 100
            f.write(f'{nodes[i % 100]}\t'
                    f'0000:{k // 256:02x}:{k // 8 % 32:02x}.{k % 8}\n')
    conn = pymysql.connect(unix_socket=server.socket, user='root',
                           database=cell.database, local_infile=True,
                           autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE pci_devices "
                f"(compute_node_id, address) SET vendor_id = '10de', "
                f"product_id = '2235', dev_type = 'type-PF', "
                f"label = 'label_10de_2235', status = 'available', "
                f"deleted = 0")
    finally:
        conn.close()
        os.unlink(path)


def finish(proc):
    """(rc, rest of stdout, stderr) of a command read from already.

    Not communicate(): it reads the pipes' descriptors and would skip
    what readline() has buffered.
    """
    out, err = proc.stdout.read(), proc.stderr.read()
    return proc.wait(timeout=120), out, err


def start(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    return subprocess.Popen(
        [base.openstack_executable(), *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env)


class TestGrantLostMidRun(FailureTestCase):

    def test_second_cell_refused_after_the_first_is_listed(self):
        server = mariadb.server()
        api = novadata.ApiDb(server)
        first, second = novadata.Cell(server), novadata.Cell(server)
        seed_devices(server, first, 50000)
        seed_devices(server, second, 100)
        reader = {'user': 'reader', 'password': mariadb.READER_PASSWORD}
        api.map_cell('cell1', first.url(**reader))
        api.map_cell('cell2', second.url(**reader))
        proc = start('gpu', 'device', 'list', '--api-db-connection',
                     api.url(**reader), '-f', 'value')
        # the pipe's back-pressure holds the command inside cell1
        read = [proc.stdout.readline() for _ in range(100)]
        with server.root() as cur:
            cur.execute(f"REVOKE SELECT ON {second.database}.* "
                        f"FROM 'reader'@'%'")
        rc, out, err = finish(proc)
        self.assertNotEqual(0, rc)
        lines = [line for line in err.splitlines() if line.strip()]
        self.assertEqual(1, len(lines), err)
        self.assertIn('cell cell2', lines[0])
        self.assertIn('50000 rows of earlier cells read: the list is '
                      'incomplete', lines[0])
        self.assertEqual(50000, len((''.join(read) + out).splitlines()))
        self.assertNotIn(mariadb.READER_PASSWORD, out + err)


class TestServerKilled(FailureTestCase):
    """MariaDB SIGKILLed while a command reads: say so, never look done."""

    ROWS = 200000

    def setUp(self):
        super().setUp()
        # a server of its own: the shared one must survive this test
        self.server = mariadb.Server()
        self.addCleanup(self.server.stop)
        self.cell = novadata.Cell(self.server)
        seed_devices(self.server, self.cell, self.ROWS)

    def kill_after(self, lines, *args):
        proc = start(*args)
        read = [proc.stdout.readline() for _ in range(lines)]
        os.kill(self.server.proc.pid, signal.SIGKILL)
        self.server.proc.wait()
        rc, out, err = finish(proc)
        return rc, ''.join(read) + out, err

    def test_device_list_says_it_is_incomplete(self):
        rc, out, err = self.kill_after(
            1000, 'gpu', 'device', 'list', '--db-connection',
            self.cell.url(), '-f', 'value')
        self.assertNotEqual(0, rc)
        self.assertNotIn('Traceback', err)
        self.assertNotIn('Exception ignored', err)
        lines = [line for line in err.splitlines() if line.strip()]
        self.assertEqual(1, len(lines), err)
        printed = len(out.splitlines())
        self.assertLess(printed, self.ROWS)
        self.assertIn('the result is incomplete', lines[0])
        # the count it gives is the count printed
        self.assertIn(f'connection lost after {printed} rows', lines[0])
        self.assertNotIn(mariadb.ADMIN_PASSWORD, out + err)

    def test_audit_at_100k_rows_says_it_is_incomplete(self):
        # a table lock holds the audit's 100k-row aggregate on the server,
        # so the kill lands inside the audit, not before or after it
        import pymysql

        locker = pymysql.connect(unix_socket=self.server.socket, user='root',
                                 database=self.cell.database)
        self.addCleanup(locker.close)
        with locker.cursor() as cur:
            cur.execute('LOCK TABLES pci_devices WRITE')
        proc = start('gpu', 'device', 'audit', '--db-connection',
                     self.cell.url(), '-f', 'value')
        self.wait_for_query('FROM pci_devices', proc)
        os.kill(self.server.proc.pid, signal.SIGKILL)
        self.server.proc.wait()
        rc, out, err = finish(proc)
        self.assertNotEqual(0, rc)
        # nothing that could pass for a (partial) audit
        self.assertEqual('', out)
        self.assertNotIn('Traceback', err)
        self.assertNotIn('Exception ignored', err)
        lines = [line for line in err.splitlines() if line.strip()]
        self.assertEqual(1, len(lines), err)
        self.assertIn('cell default (', lines[0])
        # streamed or not: the pools (streamed) or the leak and range
        # queries (--db-workers runs them at once) may be the one cut
        self.assertIn('connection lost', lines[0])
        self.assertIn('the result is incomplete', lines[0])
        self.assertNotIn(mariadb.ADMIN_PASSWORD, out + err)

    def wait_for_query(self, fragment, proc, seconds=30):
        """Until the server shows ``proc``'s query waiting for a lock."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.assertIsNone(proc.poll(), proc.stderr.read() if
                              proc.poll() is not None else '')
            with self.server.root() as cur:
                cur.execute(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                    "WHERE STATE LIKE 'Waiting for table metadata lock' "
                    "AND INFO LIKE %s", (f'%{fragment}%',))
                if cur.fetchone()[0]:
                    return
            time.sleep(0.05)
        self.fail(f'no query with {fragment!r} waited within {seconds} s')


class TestCellServerRestarted(FailureTestCase):
    """cell2's server restarts while the command is still in cell1.

    Two servers, as with cells on their own database hosts: cell1 (50000
    rows, on the shared server) is being listed, held there by the pipe's
    back-pressure, when cell2's server goes down, or goes down and comes
    back, before the command connects to it.
    """

    def setUp(self):
        super().setUp()
        shared = mariadb.server()
        self.other = mariadb.Server()
        self.addCleanup(self.other.stop)
        self.api = novadata.ApiDb(shared)
        first, second = novadata.Cell(shared), novadata.Cell(self.other)
        seed_devices(shared, first, 50000)
        seed_devices(self.other, second, 100)
        self.api.map_cell('cell1', first.url())
        self.api.map_cell('cell2', second.url())

    def list_while(self, between):
        proc = start('gpu', 'device', 'list', '--api-db-connection',
                     self.api.url(), '-f', 'value')
        read = [proc.stdout.readline() for _ in range(100)]
        between()
        rc, out, err = finish(proc)
        return rc, (''.join(read) + out).splitlines(), err

    def test_down_when_the_second_cell_is_read(self):
        rc, out, err = self.list_while(self.other.shutdown)
        self.assertNotEqual(0, rc)
        self.assertNotIn('Traceback', err)
        lines = [line for line in err.splitlines() if line.strip()]
        self.assertEqual(1, len(lines), err)
        self.assertIn('cannot connect to cell cell2', lines[0])
        self.assertIn('50000 rows of earlier cells read: the list is '
                      'incomplete', lines[0])
        self.assertEqual(50000, len(out))
        self.assertNotIn(mariadb.ADMIN_PASSWORD, '\n'.join(out) + err)
        # the audit reads both cells or reports nothing
        result = self.openstack('gpu', 'device', 'audit',
                                '--api-db-connection', self.api.url())
        self.assertCleanError(result, 'cannot connect to cell cell2')
        self.assertEqual('', result.stdout)

    def test_back_before_the_second_cell_is_read(self):
        def restart():
            self.other.shutdown()
            self.other.start()

        rc, out, err = self.list_while(restart)
        # a new connection per cell: a restart between cells is harmless
        self.assertEqual(0, rc, err)
        self.assertEqual(50100, len(out))
        self.assertEqual(50100, len(set(out)))


NOVA_CONF = ('[DEFAULT]\n# the operator\'s comments stay\ndebug = false\n\n'
             '[pci]\nalias = {"name": "gpuOld", "vendor_id": "10de", '
             '"product_id": "1df6", "device_type": "type-PCI"}\n'
             'device_spec = {"vendor_id": "10de"}\n')


class TestNoSpaceLeft(FailureTestCase):
    """The real commands writing on a real, full filesystem (a tmpfs)."""

    def on_full_fs(self, mountpoint, files, *args, free_pages=0):
        os.makedirs(mountpoint, exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('OS_', 'GPUPASSTHROUGH_'))}
        try:
            return fullfs.run(mountpoint, files,
                              [base.openstack_executable(), *args], env,
                              free_pages=free_pages)
        except fullfs.CannotMount as exc:
            # no skip: CI runs as root, and a developer is told how
            self.fail(str(exc))

    def assertRefusedUntouched(self, outcome, files):
        self.assertNotEqual(0, outcome['rc'])
        self.assertNotIn('Traceback', outcome['stderr'])
        lines = [line for line in outcome['stderr'].splitlines()
                 if line.strip()]
        self.assertEqual(1, len(lines), outcome['stderr'])
        self.assertIn('No space left on device', lines[0])
        self.assertEqual('', outcome['stdout'])
        # the original byte for byte; no temp file, no (half) backup
        self.assertEqual(files, outcome['files'])

    def test_alias_create_write(self):
        directory = os.path.join(self.tmp, 'etc-nova')
        outcome = self.on_full_fs(
            directory, {'nova.conf': NOVA_CONF},
            'gpu', 'alias', 'create', 'gpuA40', '--vendor-id', '10de',
            '--product-id', '2235', '--device-type', 'type-PF',
            '--write', os.path.join(directory, 'nova.conf'))
        self.assertRefusedUntouched(outcome, {'nova.conf': NOVA_CONF})

    def test_room_for_the_backup_not_for_the_new_file(self):
        # a one-page nova.conf whose new version needs two pages: the
        # backup is made, the temp file's write fails; both are removed
        conf = NOVA_CONF + '#' * (4000 - len(NOVA_CONF)) + '\n'
        directory = os.path.join(self.tmp, 'etc-nova')
        outcome = self.on_full_fs(
            directory, {'nova.conf': conf},
            'gpu', 'alias', 'create', 'gpuA40', '--vendor-id', '10de',
            '--product-id', '2235', '--device-type', 'type-PF',
            '--write', os.path.join(directory, 'nova.conf'), free_pages=1)
        self.assertRefusedUntouched(outcome, {'nova.conf': conf})

    def test_host_config_write(self):
        root = os.path.join(self.tmp, 'root')
        hostfixture.rtx6000_intel_typec(root)
        modprobe_d = os.path.join(root, 'etc', 'modprobe.d')
        files = {}
        for name in os.listdir(modprobe_d):
            with open(os.path.join(modprobe_d, name),
                      encoding='latin-1') as f:
                files[name] = f.read()
        self.assertIn('vfio.conf', files)
        outcome = self.on_full_fs(
            modprobe_d, files, 'gpu', 'host', 'config', '--write', '--root',
            root, '-f', 'json')
        self.assertRefusedUntouched(outcome, files)
        self.assertIn('vfio.conf', outcome['stderr'])


class TestExportBrokenLate(FailureTestCase):
    """Exports stream: a bad row after good ones is reached after output."""

    def test_device_list_says_it_is_incomplete(self):
        header = ('compute_node_id\taddress\tvendor_id\tproduct_id\t'
                  'dev_type\tstatus\tdeleted\n')
        rows = ''.join(f'{n % 7}\t0000:{n // 8 % 256:02x}:00.{n % 8}\t10de\t'
                       f'2235\ttype-PF\tavailable\t0\n' for n in range(5000))
        path = self.write('pci_devices.tsv', header + rows + '1\t2\n')
        result = self.openstack('gpu', 'device', 'list', '--pci-devices',
                                path, '-f', 'value')
        self.assertCleanError(
            result, 'pci_devices.tsv:5002: 2 fields',
            '5000 rows read before it: the list is incomplete')
        self.assertEqual(5000, len(result.stdout.splitlines()))
        # the audit prints nothing but the error
        result = self.openstack('gpu', 'device', 'audit', '--pci-devices',
                                path)
        self.assertCleanError(result, 'pci_devices.tsv:5002: 2 fields')
        self.assertEqual('', result.stdout)
