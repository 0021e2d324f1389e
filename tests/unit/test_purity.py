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

"""pci/ and host/ are pure: only host/sysfs.py touches the machine."""

import ast
import glob
import os

import testtools

from tests import paths

# what reads files, runs programs or talks to the network
IO_MODULES = {'glob', 'http', 'io', 'os', 'pathlib', 'pymysql', 'requests',
              'shutil', 'socket', 'sqlite3', 'subprocess', 'tempfile',
              'urllib', 'keystoneauth1', 'openstack', 'oslo_config'}
READER = os.path.join('gpupassthrough_osc', 'host', 'sysfs.py')


def _io_uses(path):
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or '']
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == 'open':
            names = ['open()']
        else:
            continue
        for name in names:
            if name == 'open()' or name.split('.')[0] in IO_MODULES:
                yield f'{os.path.relpath(path, paths.REPO)}:{node.lineno} ' \
                      f'{name}'


class TestPurity(testtools.TestCase):

    def test_only_sysfs_touches_the_machine(self):
        modules = [path for package in ('pci', 'host') for path in glob.glob(
            os.path.join(paths.REPO, 'gpupassthrough_osc', package, '*.py'))
            if not path.endswith(READER)]
        self.assertGreater(len(modules), 10)
        self.assertEqual([], [use for path in sorted(modules)
                              for use in _io_uses(path)])
