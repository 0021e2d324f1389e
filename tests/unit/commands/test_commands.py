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

"""The nova.conf- and export-driven commands, in-process."""

import configparser
import importlib
import os
from unittest import mock

import fixtures
from keystoneauth1 import exceptions as ksa_exceptions
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


class TestAuditExitCode(fakes.TestCommand):

    def audit(self, *argv):
        cmd = device.AuditDevice(self.app, None)
        parsed = self.check_parser(cmd, [
            '--nova-conf', example('nova.conf'), '--pci-devices',
            example('pci_devices.txt'), '--flavors', example('flavors.json'),
            '-f', 'value', *argv], [])
        return cmd.run(parsed)

    def test_errors_fail_by_default(self):
        self.assertEqual(1, self.audit())

    def test_fail_on_never(self):
        self.assertEqual(0, self.audit('--fail-on', 'never'))

    def test_warning_threshold_after_the_fix(self):
        conf = self.useFixture(fixtures.TempDir()).join('nova.conf')
        with open(conf, 'w') as f:
            f.write('[pci]\nalias = {"name": "gpuA40", "vendor_id": '
                    '"10de", "product_id": "2235", "device_type": '
                    '"type-PF"}\nalias = {"name": "gpuV100S", "vendor_id": '
                    '"10de", "product_id": "1df6"}\n[filter_scheduler]\n'
                    'enabled_filters = ComputeFilter,PciPassthroughFilter\n')
        cmd = device.AuditDevice(self.app, None)
        argv = ['--nova-conf', conf, '--pci-devices',
                example('pci_devices.txt'), '--flavors',
                example('flavors.json'), '-f', 'value']
        # only a warning left (the V100S is busy): error passes, warning not
        self.assertEqual(0, cmd.run(self.check_parser(cmd, argv, [])))
        self.assertEqual(1, cmd.run(self.check_parser(
            cmd, argv + ['--fail-on', 'warning'], [])))


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


class TestAuditFlavorsFromTheCloud(fakes.TestCommand):
    """No API database, a cloud configured: flavors from the compute API."""

    def setUp(self):
        super().setUp()
        self.app.options = mock.Mock(cloud='nova')
        self.config = {'auth': {'auth_url': 'http://keystone:5000/v3'}}
        self.useFixture(fixtures.MockPatchObject(
            self.app.client_manager, 'get_configuration',
            return_value=self.config))
        self.connect = self.useFixture(fixtures.MockPatch(
            'gpupassthrough_osc.sources.compute.connect')).mock
        # the SDK's compute proxy, autospecced: calls it lacks fail
        from openstack.compute.v2 import _proxy
        self.cloud_compute = mock.create_autospec(_proxy.Proxy,
                                                  instance=True)
        self.connect.return_value.compute = self.cloud_compute

    def audit(self):
        cmd = device.AuditDevice(self.app, None)
        columns, rows = cmd.take_action(self.check_parser(cmd, [
            '--nova-conf', example('nova.conf'), '--pci-devices',
            example('pci_devices.txt')], []))
        return [dict(zip(columns, r)) for r in rows]

    def test_flavors_read_with_the_shells_options(self):
        self.cloud_compute.flavors.return_value = [fakes.make_flavor(
            name='typo', extra_specs={'pci_passthrough:alias': 'gpuA4O:1'})]
        codes = {r['Code'] for r in self.audit()}
        self.connect.assert_called_once_with(self.app.options, self.config)
        self.assertIn('FLAVOR_ALIAS_UNDEFINED', codes)

    def test_auth_failure_is_an_error(self):
        self.cloud_compute.flavors.side_effect = \
            ksa_exceptions.Unauthorized('The request you have made '
                                        'requires authentication.')
        exc = self.assertRaises(exceptions.CommandError, self.audit)
        self.assertIn('compute API: authentication failed', str(exc))

    def test_unreachable_api_is_a_note(self):
        self.cloud_compute.flavors.side_effect = \
            ksa_exceptions.ConnectFailure('Unable to establish connection')
        notes = [r['Message'] for r in self.audit() if r['Code'] == 'NOTE']
        self.assertTrue(any('flavors skipped: compute API: Unable' in n
                            for n in notes), notes)

    def test_a_bug_is_not_hidden(self):
        self.cloud_compute.flavors.side_effect = KeyError('id')
        self.assertRaises(KeyError, self.audit)


class TestDeviceList(fakes.TestCommand):

    def test_summary_refuses_status(self):
        cmd = device.ListDevice(self.app, None)
        parsed = self.check_parser(cmd, [
            '--summary', '--status', 'available', '--pci-devices',
            example('pci_devices.txt')], [])
        exc = self.assertRaises(exceptions.CommandError,
                                cmd.take_action, parsed)
        self.assertIn('--status does not apply to --summary', str(exc))

    def test_summary_keeps_the_other_filters(self):
        cmd = device.ListDevice(self.app, None)
        columns, rows = cmd.take_action(self.check_parser(cmd, [
            '--summary', '--vendor-id', '10DE', '--product-id', '2235',
            '--pci-devices', example('pci_devices.txt')], []))
        self.assertEqual({'2235'}, {r[columns.index('Product ID')]
                                    for r in rows})


class TestAliasCommands(fakes.TestCommand):

    def test_list_rows_and_verdicts(self):
        cmd = alias.ListAlias(self.app, None)
        columns, rows = cmd.take_action(self.check_parser(
            cmd, ['--nova-conf', example('nova.conf')], []))
        rows = [dict(zip(columns, r)) for r in rows]
        self.assertEqual(['gpuA40', 'gpuV100S'], [r['Name'] for r in rows])
        self.assertTrue(all(r['Valid'] for r in rows))

    def test_create_auto_from_export(self):
        cmd = alias.CreateAlias(self.app, None)
        columns, rows = cmd.take_action(self.check_parser(cmd, [
            'gpuA40', '--vendor-id', '10DE', '--product-id', '2235',
            '--pci-devices', example('pci_devices.txt')], []))
        row = dict(zip(columns, rows[0]))
        self.assertEqual('type-PF', row['Device Type'])
        self.assertEqual('printed', row['Action'])
        self.assertIn('"vendor_id": "10de"', row['nova.conf [pci]'])

    def test_create_all_names_from_catalog(self):
        cmd = alias.CreateAlias(self.app, None)
        columns, rows = cmd.take_action(self.check_parser(cmd, [
            '--all', '--pci-devices', example('pci_devices.txt')], []))
        self.assertEqual({('gpuA40', 'type-PF'), ('gpuV100S', 'type-PCI')},
                         {(r[0], r[3]) for r in rows})
