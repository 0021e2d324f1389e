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

"""`gpu device audit` and `gpu device list`, in-process on the examples."""

from unittest import mock

import fixtures
from keystoneauth1 import exceptions as ksa_exceptions
from osc_lib import exceptions

from gpupassthrough_osc.commands import device
from tests import paths
from tests.unit import fakes

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

    def test_numa_node_and_compute_node_id_are_numbers(self):
        cmd = device.ListDevice(self.app, None)
        columns, rows = cmd.take_action(self.check_parser(
            cmd, ['--pci-devices', example('pci_devices.txt')], []))
        rows = list(rows)
        self.assertEqual([0, 0, 1], sorted(
            r[columns.index('NUMA Node')] for r in rows))
        self.assertEqual({int}, {type(r[columns.index('Compute Node ID')])
                                 for r in rows})

    def test_an_unknown_cell_is_one_error_line(self):
        # with or without --summary; a single export without a Cell
        # column names no cell
        cmd = device.ListDevice(self.app, None)
        for summary in ([], ['--summary']):
            parsed = self.check_parser(cmd, [
                '--cell', 'cellX', *summary,
                '--pci-devices', example('pci_devices.txt')], [])
            exc = self.assertRaises(
                exceptions.CommandError,
                lambda: list(cmd.take_action(parsed)[1]))
            self.assertEqual('--cell cellX: no such cell (the export names '
                             'no cell: its rows have no Cell column)',
                             str(exc))
