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

"""`gpu server explain`, in-process on the examples, as each format prints."""

import json

from gpupassthrough_osc.commands import explain
from tests import paths
from tests.unit import fakes

example = paths.example


class TestServerExplainFormats(fakes.TestCommand):

    def explain(self, *formatter):
        cmd = explain.ExplainServer(self.app, None)
        parsed = self.check_parser(cmd, [
            'train-1', '--server-show',
            paths.fixture('server-show', 'no-valid-host.json'),
            '--nova-conf', example('nova.conf'),
            '--pci-devices', example('pci_devices.txt'),
            '--compute-nodes', example('compute_nodes.txt'),
            '-c', 'Hosts', '-c', 'Notes', *formatter], [])
        self.fake_stdout.content.clear()
        self.assertEqual(0, cmd.run(parsed))
        return ''.join(self.fake_stdout.content)

    def test_value_prints_the_table_text(self):
        # cliff's value formatter prints str() of machine_readable():
        # a Python list of dicts, which no operator reads
        printed = self.explain('-f', 'value')
        self.assertIn("Host='gpu-a40-01'", printed)
        self.assertNotIn("[{'", printed)
        self.assertNotIn("['", printed)

    def test_json_keeps_the_data(self):
        shown = json.loads(self.explain('-f', 'json'))
        self.assertIn('gpu-a40-01', [h['Host'] for h in shown['Hosts']])
        self.assertIsInstance(shown['Notes'], list)
