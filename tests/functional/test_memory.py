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

"""Offline exports stream: peak memory does not grow with the rows.

The real commands on a 10k-row and a 200k-row ``mysql -B`` export, peak
RSS from os.wait4() (tools/export-memory.py, which also runs the \\G and
JSON forms and a million rows: about ten minutes, too long for CI's two
cores; its numbers are in doc/source/reliability.rst). Memory, not time:
the bound (1.5x the small peak + 20 MB) holds on a noisy machine, and
holding the rows costs about 1.5 KB each (300 MB at 200k) before
streaming.
"""

import importlib.util
import os

import fixtures

from tests.functional import base
from tests import paths


def _tool():
    spec = importlib.util.spec_from_file_location(
        'export_memory', os.path.join(paths.REPO, 'tools',
                                      'export-memory.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestExportMemory(base.OpenStackTestCase):

    def test_tsv_export_streams(self):
        tool = _tool()
        workdir = self.useFixture(fixtures.TempDir()).path
        results = tool.run([10000, 200000], ['tsv'], workdir)
        self.assertEqual([], tool.broken_bounds(results),
                         tool.report(results))
        # and every row was listed, not a prefix
        listed = {r[2]: r[5] for r in results if r[0] == 'device list'}
        self.assertEqual({10000: 10000, 200000: 200000}, listed)
