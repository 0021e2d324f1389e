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

"""`openstack gpu flavor ...` against a fake compute proxy."""

import os
import tempfile
from unittest import mock

from openstack import exceptions as sdk_exceptions
from osc_lib import exceptions

from gpupassthrough_osc.commands import flavor
from tests.unit import fakes

NOVA_CONF = """[pci]
alias = {"name": "gpuA40", "vendor_id": "10de", "product_id": "2235", \
"device_type": "type-PF"}
alias = {"name": "nvme155", "vendor_id": "144d", "product_id": "a808"}
"""


def ok_response(specs):
    return fakes.response(200, {'extra_specs': specs})


class FlavorTestCase(fakes.TestCommand):

    def setUp(self):
        super().setUp()
        fd, self.nova_conf = tempfile.mkstemp(suffix='.conf')
        with os.fdopen(fd, 'w') as f:
            f.write(NOVA_CONF)
        self.addCleanup(os.unlink, self.nova_conf)
        self.created = fakes.make_flavor()
        self.compute.create_flavor.return_value = self.created

    def run_command(self, cls, argv):
        cmd = cls(self.app, None)
        parsed = self.check_parser(cmd, argv, [])
        return cmd.take_action(parsed)


class TestCreate(FlavorTestCase):

    base = ['gpu.a40', '--vcpus', '8', '--ram', '16384', '--disk', '40']

    def test_create_sets_alias_at_max_microversion(self):
        self.compute.post.return_value = ok_response(
            {'pci_passthrough:alias': 'gpuA40:1,nvme155:1'})
        columns, data = self.run_command(flavor.CreateFlavor, self.base + [
            '--alias', 'gpuA40:1', '--alias', 'nvme155:1',
            '--nova-conf', self.nova_conf])
        self.compute.create_flavor.assert_called_once_with(
            name='gpu.a40', vcpus=8, ram=16384, disk=40, ephemeral=0,
            swap=0, is_public=True)
        self.compute.post.assert_called_once_with(
            '/flavors/f-1/os-extra_specs',
            json={'extra_specs': {
                'pci_passthrough:alias': 'gpuA40:1,nvme155:1'}},
            microversion='2.96')
        row = dict(zip(columns, data))
        self.assertEqual({'gpuA40': 1, 'nvme155': 1},
                         row['PCI Requests'].machine_readable())
        self.assertIsNone(row['Problem'])

    def test_numa_policy_and_properties(self):
        self.compute.post.return_value = ok_response({})
        self.run_command(flavor.CreateFlavor, self.base + [
            '--alias', 'gpuA40:1', '--numa-affinity-policy', 'preferred',
            '--property', 'hw:cpu_policy=dedicated', '--no-alias-check'])
        sent = self.compute.post.call_args.kwargs['json']['extra_specs']
        self.assertEqual({'pci_passthrough:alias': 'gpuA40:1',
                          'hw:pci_numa_affinity_policy': 'preferred',
                          'hw:cpu_policy': 'dedicated'}, sent)

    def test_rollback_when_nova_refuses_extra_specs(self):
        # the real proxy returns nova's 400, it does not raise it
        self.compute.post.return_value = fakes.nova_fault(
            400, "Validation failed; 'x' is not a valid extra spec")
        exc = self.assertRaises(
            exceptions.CommandError, self.run_command, flavor.CreateFlavor,
            self.base + ['--alias', 'gpuA40:1', '--no-alias-check'])
        self.compute.delete_flavor.assert_called_once_with(
            'f-1', ignore_missing=True)
        self.assertIn('Validation failed', str(exc))
        self.assertIn('was deleted', str(exc))

    def test_rollback_when_project_access_fails(self):
        self.compute.post.return_value = ok_response({})
        self.compute.flavor_add_tenant_access.side_effect = \
            sdk_exceptions.ForbiddenException('Policy does not allow')
        with mock.patch.object(flavor.CreateFlavor, '_project_id',
                               return_value='p-1'):
            exc = self.assertRaises(
                exceptions.CommandError, self.run_command,
                flavor.CreateFlavor, self.base + [
                    '--alias', 'gpuA40:1', '--private', '--project', 'demo',
                    '--no-alias-check'])
        self.compute.flavor_add_tenant_access.assert_called_once_with(
            'f-1', 'p-1')
        self.compute.delete_flavor.assert_called_once_with(
            'f-1', ignore_missing=True)
        self.assertIn('Policy does not allow', str(exc))

    def test_failed_rollback_names_the_leftover(self):
        self.compute.post.return_value = fakes.nova_fault(500, 'boom')
        self.compute.delete_flavor.side_effect = \
            sdk_exceptions.HttpException('gone away')
        exc = self.assertRaises(
            exceptions.CommandError, self.run_command, flavor.CreateFlavor,
            self.base + ['--alias', 'gpuA40:1', '--no-alias-check'])
        self.assertIn('delete it by hand', str(exc))
        self.assertIn('f-1', str(exc))

    def test_undefined_alias_refused_before_any_call(self):
        exc = self.assertRaises(
            exceptions.CommandError, self.run_command, flavor.CreateFlavor,
            self.base + ['--alias', 'gpu3080:1',
                         '--nova-conf', self.nova_conf])
        self.assertIn("'gpu3080' is not defined", str(exc))
        self.compute.create_flavor.assert_not_called()

    def test_no_alias_check_lets_undefined_alias_through(self):
        self.compute.post.return_value = ok_response({})
        self.run_command(flavor.CreateFlavor, self.base + [
            '--alias', 'gpu3080:1', '--nova-conf', self.nova_conf,
            '--no-alias-check'])
        self.compute.create_flavor.assert_called_once()

    def test_bad_grammar_refused_before_any_call(self):
        exc = self.assertRaises(
            exceptions.CommandError, self.run_command, flavor.CreateFlavor,
            self.base + ['--alias', 'gpuA40: 1', '--no-alias-check'])
        self.assertIn('invalid --alias', str(exc))
        self.compute.create_flavor.assert_not_called()

    def test_project_needs_private(self):
        self.assertRaises(
            exceptions.CommandError, self.run_command, flavor.CreateFlavor,
            self.base + ['--alias', 'a:1', '--project', 'demo',
                         '--no-alias-check'])
        self.compute.create_flavor.assert_not_called()

    def test_alias_required(self):
        self.assertRaises(fakes.base.ParserException, self.check_parser,
                          flavor.CreateFlavor(self.app, None), self.base, [])


class TestList(FlavorTestCase):

    def test_list_rows_per_alias_and_problem(self):
        self.compute.flavors.return_value = [
            fakes.make_flavor(id='1', name='two', extra_specs={
                'pci_passthrough:alias': 'nvme155:1,gpu3080:1'}),
            fakes.make_flavor(id='2', name='plain', extra_specs={}),
            fakes.make_flavor(id='3', name='broken', extra_specs={
                'pci_passthrough:alias': 'gpuA40:x'}),
        ]
        columns, rows = self.run_command(flavor.ListFlavor, [])
        self.assertEqual(['ID', 'Name', 'Alias', 'Count', 'Problem'],
                         columns)
        self.assertEqual(['1', 'two', 'nvme155', 1, None], rows[0])
        self.assertEqual(['1', 'two', 'gpu3080', 1, None], rows[1])
        self.assertEqual('3', rows[2][0])
        self.assertIsNone(rows[2][2])
        self.assertIn('not a whole number', rows[2][4])
        self.assertEqual(3, len(rows))

    def test_filter_by_alias(self):
        self.compute.flavors.return_value = [
            fakes.make_flavor(id='1', extra_specs={
                'pci_passthrough:alias': 'a:1'}),
            fakes.make_flavor(id='2', extra_specs={
                'pci_passthrough:alias': 'b:1'})]
        columns, rows = self.run_command(flavor.ListFlavor,
                                         ['--alias', 'b', '--long'])
        self.assertEqual(1, len(rows))
        self.assertEqual('2', rows[0][0])
        self.assertEqual('b:1', rows[0][-1])


class TestSetUnset(FlavorTestCase):

    def test_set_replaces_alias(self):
        self.compute.find_flavor.return_value = self.created
        self.compute.post.return_value = ok_response({})
        self.run_command(flavor.SetFlavor, [
            'gpu.a40', '--alias', 'nvme155:1,gpuA40:2',
            '--nova-conf', self.nova_conf])
        self.compute.post.assert_called_once_with(
            '/flavors/f-1/os-extra_specs',
            json={'extra_specs': {
                'pci_passthrough:alias': 'nvme155:1,gpuA40:2'}},
            microversion='2.96')

    def test_set_nothing(self):
        self.assertRaises(exceptions.CommandError, self.run_command,
                          flavor.SetFlavor, ['gpu.a40'])

    def test_unset(self):
        self.compute.find_flavor.return_value = self.created
        self.run_command(flavor.UnsetFlavor, ['gpu.a40', '--alias'])
        delete = self.compute.delete_flavor_extra_specs_property
        delete.assert_called_once_with(
            'f-1', 'pci_passthrough:alias', ignore_missing=True)

    def test_show_parses(self):
        self.compute.find_flavor.return_value = fakes.make_flavor(
            extra_specs={'pci_passthrough:alias': 'gpuA40:1'})
        columns, data = self.run_command(flavor.ShowFlavor, ['gpu.a40'])
        row = dict(zip(columns, data))
        self.assertEqual('gpuA40:1', row['PCI Alias'])
        self.assertEqual({'gpuA40': 1}, row['PCI Requests'].machine_readable())
