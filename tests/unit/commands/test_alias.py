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

"""`gpu alias list` and `gpu alias create`, in-process on the examples."""

import shutil

import fixtures

from gpupassthrough_osc.commands import alias
from tests import paths
from tests.unit import fakes

example = paths.example


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

    def test_numa_policy_reads_the_same_in_create_and_list(self):
        # nova applies legacy when the alias sets none
        # (nova/pci/request.py _get_alias_from_config)
        conf = self.useFixture(fixtures.TempDir()).join('nova.conf')
        shutil.copy(example('nova.conf'), conf)
        created = {}
        for name, policy in (('gpuL4', []), ('gpuL40S', ['preferred']),
                             ('gpuH100', ['legacy'])):
            cmd = alias.CreateAlias(self.app, None)
            columns, rows = cmd.take_action(self.check_parser(cmd, [
                name, '--vendor-id', '10de', '--product-id', '27b8',
                '--device-type', 'type-PCI', '--write', conf,
                *(['--numa-policy', *policy] if policy else [])], []))
            created[name] = dict(zip(columns, rows[0]))['NUMA Policy']
        self.assertEqual({'gpuL4': 'legacy (default)',
                          'gpuL40S': 'preferred', 'gpuH100': 'legacy'},
                         created)
        cmd = alias.ListAlias(self.app, None)
        columns, rows = cmd.take_action(self.check_parser(
            cmd, ['--nova-conf', conf], []))
        listed = {r[columns.index('Name')]: r[columns.index('NUMA Policy')]
                  for r in rows}
        self.assertEqual(dict(created, gpuA40='legacy (default)',
                              gpuV100S='legacy (default)'), listed)
