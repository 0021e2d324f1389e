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

"""The one error mapper every command goes through (commands/common.py)."""

import configparser
import gc
import importlib
import os

import fixtures
from osc_lib import exceptions
import testtools

from gpupassthrough_osc.commands import alias
from gpupassthrough_osc.commands import common
from gpupassthrough_osc.commands import device
from gpupassthrough_osc import exceptions as gpu_exceptions
from tests import paths
from tests.unit import fakes

REPO = paths.REPO
example = paths.example


class TestErrorMapping(fakes.TestCommand):

    def test_every_command_maps_errors(self):
        # a command added without @common.maps_errors would print a
        # traceback for a nova.conf it cannot read
        setup = configparser.ConfigParser()
        setup.read(os.path.join(REPO, 'setup.cfg'))
        commands = setup['entry_points']['openstack.gpu.v1'].strip(
        ).splitlines()
        self.assertGreater(len(commands), 10)
        for entry in commands:
            module, _, name = entry.split('=')[-1].strip().partition(':')
            cls = getattr(importlib.import_module(module), name)
            self.assertTrue(hasattr(cls.take_action, '__wrapped__'),
                            f'{module}:{name}.take_action lacks '
                            f'@common.maps_errors')

    def test_package_error_becomes_one_line_command_error(self):
        cause = gpu_exceptions.DeviceTypeError('10de:2235 is not recorded')
        expected = testtools.ExpectedException(
            exceptions.CommandError, '^10de:2235 is not recorded$')
        with expected, common.command_errors():
            raise cause

    def test_a_password_an_adapter_quoted_is_masked_here(self):
        # the last line of defence: whatever a package error quotes, the
        # one mapper prints it through sources/dburl.py
        cause = gpu_exceptions.SourceError(
            'cannot read reader:S3cretMark@db/nova (timeout)')
        try:
            with common.command_errors():
                raise cause
        except exceptions.CommandError as exc:
            self.assertNotIn('S3cretMark', str(exc))
            self.assertIn('reader:***@db/nova', str(exc))

    def test_cause_is_chained(self):
        cause = gpu_exceptions.SourceError('db: gone')
        try:
            with common.command_errors('prefix: '):
                raise cause
        except exceptions.CommandError as exc:
            self.assertIs(cause, exc.__cause__)
            self.assertEqual('prefix: db: gone', str(exc))

    def test_bugs_are_not_mapped(self):
        def bug():
            with common.command_errors():
                raise ValueError('a bug')
        self.assertRaises(ValueError, bug)

    def test_streamed_rows_are_mapped(self):
        bad = self.useFixture(fixtures.TempDir()).join('bad.txt')
        with open(bad, 'w') as f:
            f.write('not an export\n')
        cmd = device.ListDevice(self.app, None)
        _columns, rows = cmd.take_action(self.check_parser(
            cmd, ['--pci-devices', bad], []))
        self.assertRaises(exceptions.CommandError, list, rows)

    def test_alias_create_unrecorded_ids(self):
        cmd = alias.CreateAlias(self.app, None)
        parsed = self.check_parser(cmd, [
            'gpuX', '--vendor-id', '10de', '--product-id', 'ffff',
            '--pci-devices', example('pci_devices.txt')], [])
        exc = self.assertRaises(exceptions.CommandError, cmd.take_action,
                                parsed)
        self.assertIn('10de:ffff is not recorded', str(exc))
        self.assertIsInstance(exc.__cause__, gpu_exceptions.DeviceTypeError)


class TestCollectorDuringCommands(testtools.TestCase):
    """The collector pauses in take_action and always comes back."""

    def setUp(self):
        super().setUp()
        self.addCleanup(gc.enable)
        self.addCleanup(gc.unfreeze)

    def test_paused_inside_on_again_after(self):
        seen = []

        @common.maps_errors
        def take_action(_self, _args):
            seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
            return ('Columns',), []

        take_action(None, None)
        self.assertEqual([(False, True)], seen)
        self.assertTrue(gc.isenabled())

    def test_on_again_after_an_error(self):
        @common.maps_errors
        def take_action(_self, _args):
            raise gpu_exceptions.DeviceTypeError('not recorded')

        self.assertRaises(exceptions.CommandError, take_action, None, None)
        self.assertTrue(gc.isenabled())
