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


"""nova.conf writes: comments and order kept, a backup; and under faults
(a second writer, no space, signals).

After each: the original file byte for byte, or the complete new one plus
its backup; never a half-written file, never a stray temp file.
"""

import errno
import fcntl
import os
import subprocess
import sys
from unittest import mock

from gpupassthrough_osc.sources import confwriter
from gpupassthrough_osc.sources import novaconf
from tests.unit.sources import base

ORIGINAL = ('[DEFAULT]\ndebug = false\n\n[pci]\n# the operator\'s comment\n'
            'alias = {"name": "gpuA40", "vendor_id": "10de", '
            '"product_id": "2235"}\n')
NEW = '{"name": "gpuNew", "vendor_id": "10de", "product_id": "1df6"}'

# Run in a child: the patched step sends the signal to the child itself,
# then does its work.
CHILD = '''
import importlib, os, signal, sys
from unittest import mock
from gpupassthrough_osc.sources import confwriter
target, signame, path, value = sys.argv[1:]
module_name, name = target.rsplit('.', 1)
module = importlib.import_module(module_name)
real = getattr(module, name)
def step(*args, **kwargs):
    os.kill(os.getpid(), getattr(signal, signame))
    return real(*args, **kwargs)
with mock.patch.object(module, name, step):
    confwriter.write_alias(path, 'gpuNew', [value])
print('returned')
'''

# every step of a write, in order
STEPS = ('os.open', 'fcntl.flock', 'shutil.copy2', 'tempfile.mkstemp',
         'os.fsync', 'os.chmod', 'os.replace')


class TestFaults(base.FileTestCase):

    def setUp(self):
        super().setUp()
        self.path = self.write('nova.conf', ORIGINAL)

    def assertOriginalOnly(self):
        with open(self.path, 'rb') as f:
            self.assertEqual(ORIGINAL.encode(), f.read())
        self.assertEqual(['nova.conf'], os.listdir(self.tmp))

    def assertOriginalOrCompleteNew(self, context=''):
        with open(self.path) as f:
            text = f.read()
        files = sorted(os.listdir(self.tmp))
        self.assertEqual([], [f for f in files if f.startswith('.')],
                         context)
        if text == ORIGINAL:
            self.assertEqual(['nova.conf'], files, context)
            return 'original'
        self.assertEqual(ORIGINAL + f'alias = {NEW}\n', text, context)
        backups = [f for f in files if f.endswith('.bak')]
        self.assertEqual(1, len(backups), context)
        with open(os.path.join(self.tmp, backups[0])) as f:
            self.assertEqual(ORIGINAL, f.read(), context)
        return 'new'

    def test_second_writer_refused(self):
        fd = os.open(self.tmp, os.O_RDONLY | os.O_DIRECTORY)
        self.addCleanup(os.close, fd)
        fcntl.flock(fd, fcntl.LOCK_EX)
        exc = self.assertRaises(confwriter.ConfWriteError,
                                confwriter.write_alias, self.path,
                                'gpuNew', [NEW])
        self.assertIn('another writer', str(exc))
        self.assertOriginalOnly()
        fcntl.flock(fd, fcntl.LOCK_UN)
        confwriter.write_alias(self.path, 'gpuNew', [NEW])
        self.assertEqual('new', self.assertOriginalOrCompleteNew())

    def test_no_space_left(self):
        full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        for target in ('os.fsync', 'shutil.copy2'):
            with mock.patch(target, side_effect=full):
                exc = self.assertRaises(confwriter.ConfWriteError,
                                        confwriter.write_alias, self.path,
                                        'gpuNew', [NEW])
            self.assertIn('No space left on device', str(exc))
            self.assertOriginalOnly()

    def test_partial_backup_removed(self):
        def half_copy(src, dst):
            with open(dst, 'w') as f:
                f.write(ORIGINAL[:10])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        with mock.patch('shutil.copy2', side_effect=half_copy):
            self.assertRaises(confwriter.ConfWriteError,
                              confwriter.write_alias, self.path, 'gpuNew',
                              [NEW])
        self.assertOriginalOnly()

    def test_directory_not_writable(self):
        # as root a mode bit stops nothing: fail the way the kernel does
        denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        with mock.patch('tempfile.mkstemp', side_effect=denied):
            exc = self.assertRaises(confwriter.ConfWriteError,
                                    confwriter.write_alias, self.path,
                                    'gpuNew', [NEW])
        self.assertIn('cannot write in', str(exc))
        self.assertOriginalOnly()

    def test_signal_at_every_step(self):
        outcomes = {}
        for signame in ('SIGTERM', 'SIGINT'):
            for target in STEPS:
                with open(self.path, 'w') as f:
                    f.write(ORIGINAL)
                for name in os.listdir(self.tmp):
                    if name != 'nova.conf':
                        os.unlink(os.path.join(self.tmp, name))
                child = subprocess.run(
                    [sys.executable, '-c', CHILD, target, signame,
                     self.path, NEW], capture_output=True, text=True,
                    timeout=60)
                context = f'{signame} at {target}: {child.stderr[-500:]}'
                # the signal is never lost: the command does not go on
                self.assertNotIn('returned', child.stdout, context)
                outcomes[(signame, target)] = \
                    self.assertOriginalOrCompleteNew(context)
        # once the backup is being made, the write completes
        for signame in ('SIGTERM', 'SIGINT'):
            self.assertEqual('new', outcomes[(signame, 'os.replace')])
            self.assertEqual('new', outcomes[(signame, 'shutil.copy2')])


NOVA_CONF = """# managed by hand
[DEFAULT]
debug = true

[pci]
# the A40s
alias = {"name": "gpuA40", "vendor_id": "10de", "product_id": "2235"}
alias = {"name": "nvme155", "vendor_id": "144d", "product_id": "a808"}

[database]
connection = mysql+pymysql://nova:pw@db/nova
"""
A40_PF = ('{"name": "gpuA40", "vendor_id": "10de", "product_id": "2235", '
          '"device_type": "type-PF"}')


class TestConfWriter(base.FileTestCase):

    def test_replace_keeps_everything_else(self):
        path = self.write('nova.conf', NOVA_CONF)
        os.chmod(path, 0o640)
        changed, backup = confwriter.write_alias(path, 'gpuA40', [A40_PF],
                                                 replace=True)
        self.assertTrue(changed)
        with open(path) as f:
            text = f.read()
        self.assertEqual(NOVA_CONF.replace(
            '{"name": "gpuA40", "vendor_id": "10de", "product_id": "2235"}',
            A40_PF), text)
        with open(backup) as f:
            self.assertEqual(NOVA_CONF, f.read())
        self.assertEqual(0o640, os.stat(path).st_mode & 0o777)

    def test_idempotent(self):
        path = self.write('nova.conf', NOVA_CONF)
        confwriter.write_alias(path, 'gpuA40', [A40_PF], replace=True)
        changed, backup = confwriter.write_alias(path, 'gpuA40', [A40_PF])
        self.assertFalse(changed)
        self.assertIsNone(backup)
        self.assertEqual(1, len([n for n in os.listdir(self.tmp)
                                 if n.endswith('.bak')]))

    def test_refuses_different_without_replace(self):
        path = self.write('nova.conf', NOVA_CONF)
        exc = self.assertRaises(confwriter.ConfWriteError,
                                confwriter.write_alias, path, 'gpuA40',
                                [A40_PF])
        self.assertIn('--replace', str(exc))
        with open(path) as f:
            self.assertEqual(NOVA_CONF, f.read())

    def test_new_alias_goes_into_pci_section(self):
        path = self.write('nova.conf', NOVA_CONF)
        line = ('{"name": "gpu3090", "vendor_id": "10de", '
                '"product_id": "2204"}')
        confwriter.write_alias(path, 'gpu3090', [line])
        conf = novaconf.load(path)
        self.assertEqual(3, len(conf.alias))
        self.assertEqual(line, conf.alias[2])

    def test_no_pci_section(self):
        path = self.write('nova.conf', '[DEFAULT]\ndebug = true')
        confwriter.write_alias(path, 'gpuA40', [A40_PF])
        self.assertEqual([A40_PF], novaconf.load(path).alias)

    def test_multi_entry_alias_replaced_as_a_whole(self):
        text = NOVA_CONF.replace(
            'alias = {"name": "nvme155"',
            'alias = {"name": "gpuA40", "vendor_id": "10de", '
            '"product_id": "2236"}\nalias = {"name": "nvme155"')
        path = self.write('nova.conf', text)
        confwriter.write_alias(path, 'gpuA40', [A40_PF], replace=True)
        aliases = novaconf.load(path).alias
        self.assertEqual([A40_PF], [a for a in aliases if 'gpuA40' in a])
