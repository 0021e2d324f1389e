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

"""Run the real `openstack` executable of this environment."""

import json
import os
import subprocess
import sys

import fixtures
import testtools

from tests import paths

FIXTURES = paths.FIXTURES
EXAMPLES = paths.EXAMPLES


def fixtures_tempdir():
    return fixtures.TempDir()


def fixture(name):
    return os.path.abspath(os.path.join(FIXTURES, name))


def openstack_executable():
    return os.path.join(os.path.dirname(sys.executable), 'openstack')


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self):
        return json.loads(self.stdout)


def run_openstack(*args, env=None, timeout=300):
    """Run `openstack ARGS`, with no cloud credentials unless given."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(('OS_', 'GPUPASSTHROUGH_'))}
    clean.update(env or {})
    proc = subprocess.run(
        [openstack_executable(), *args], capture_output=True,
        text=True, env=clean, timeout=timeout)
    return Result(proc)


class OpenStackTestCase(testtools.TestCase):

    def openstack(self, *args, env=None, check=None, timeout=300):
        """Run `openstack ARGS`, with no cloud credentials unless given."""
        result = run_openstack(*args, env=env, timeout=timeout)
        if check is not None:
            self.assertEqual(
                check, result.rc,
                f'openstack {" ".join(args)}\nstdout: {result.stdout}\n'
                f'stderr: {result.stderr}')
        return result

    def assertCleanError(self, result, *fragments):
        """Non-zero, one short error line, no traceback."""
        self.assertNotEqual(0, result.rc, result.stdout)
        self.assertNotIn('Traceback', result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        self.assertEqual(1, len(lines), result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])
