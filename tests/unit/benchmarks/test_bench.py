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

"""The benchmark's own honesty: failed runs fail, missed targets count."""

import io
import sys
import types

import fixtures
import testtools

from benchmarks import bench


def cloud(**counts):
    values = {'live': 10, 'hosts': 2, 'allocated': 4, 'leaked': 1,
              'on_deleted_node': 0, 'soft_deleted': 1, 'load_seconds': 0.1}
    values.update(counts)
    return types.SimpleNamespace(**values)


def size(rows, audit=1.0, dump=1.0, list_mib=90.0):
    return bench.Size(rows, cloud(), (audit, 100.0), (1.0, 90.0),
                      (2.0, list_mib), (dump, 10.0))


class TestRunsAreChecked(testtools.TestCase):

    def test_non_zero_exit_is_a_failed_run(self):
        exc = self.assertRaises(bench.FailedRun, bench.run,
                                [sys.executable, '-c', 'exit(1)'])
        self.assertIn('exited 1', str(exc))

    def test_wrong_row_count_is_a_failed_run(self):
        argv = [sys.executable, '-c', 'print("a"); print("b")']
        self.assertEqual(2, len(bench.run(argv, bench.rows_check(2))))
        exc = self.assertRaises(bench.FailedRun, bench.run, argv,
                                bench.rows_check(3))
        self.assertIn('2 rows printed, 3 expected', str(exc))

    def test_header_line_not_counted(self):
        check = bench.rows_check(1, header=1)
        self.assertIsNone(check(io.StringIO('id\n1\n')))

    def test_totals_must_add_up(self):
        self.assertIsNone(bench.total_check(5)(io.StringIO('2\n3\n')))
        self.assertIn('4, 5 expected',
                      bench.total_check(5)(io.StringIO('1\n3\n')))

    def test_findings_must_be_what_the_cloud_was_made_with(self):
        check = bench.findings_check(cloud(leaked=3, on_deleted_node=0))
        self.assertIsNone(check(io.StringIO('PCI_DEVICE_LEAKED\n')))
        self.assertIsNone(check(io.StringIO(
            'PCI_DEVICE_LEAKED\nFLAVOR_NO_FREE_CAPACITY\n')))
        self.assertIn("missing ['PCI_DEVICE_LEAKED']",
                      check(io.StringIO('')))
        self.assertIn("unexpected ['ALIAS_DROPS_PF']", check(io.StringIO(
            'PCI_DEVICE_LEAKED\nALIAS_DROPS_PF\n')))


class TestTargets(testtools.TestCase):

    version = bench.Version([0.70] * 5, [0.69] * 5)

    def found(self, *measured, cells=None):
        return {t.name: t for t in bench.targets(
            list(measured), cells, self.version, 1.6, 100000)}

    def test_only_what_the_sizes_allow(self):
        found = self.found(size(2000), cells=(1.0, 1.2))
        self.assertEqual({'cells', 'version', 'import'}, set(found))
        self.assertTrue(all(t.met for t in found.values()))

    def test_missed_targets(self):
        found = self.found(size(100000, audit=1.3),
                           size(1000000, audit=4.1, dump=1.9,
                                list_mib=200.0))
        missed = {n for n, t in found.items() if not t.met}
        self.assertEqual({'audit-vs-dump', 'audit-scaling', 'list-streams'},
                         missed)

    def test_check_fails_on_a_missed_target(self):
        found = self.found(size(100000, audit=1.0), size(1000000, audit=4.0))
        self.assertEqual(0, bench.verdict(found.values(), check=False))
        self.useFixture(fixtures.MockPatch('sys.stderr', io.StringIO()))
        self.assertEqual(1, bench.verdict(found.values(), check=True))
        met = self.found(size(2000))
        self.assertEqual(0, bench.verdict(met.values(), check=True))

    def test_doc_explains_misses_in_the_run_numbers(self):
        measured = [size(100000, audit=1.3),
                    size(1000000, audit=4.1, dump=1.9)]
        found = bench.targets(measured, None, self.version, 1.6, 0)
        text = bench.explanations(measured, found, self.version, 1.6, 0.9)
        self.assertEqual(2, len(text))
        self.assertIn('(0.90 s here', text[0])
        self.assertIn('took 3.20 s against the dump\'s 1.90 s', text[0])
        self.assertIn('69% of the audit at 100k rows', text[1])

    def test_no_section_when_every_target_is_met(self):
        measured = [size(2000)]
        found = bench.targets(measured, None, self.version, 1.6, 0)
        self.assertEqual([], bench.explanations(
            measured, found, self.version, 1.6, 0.9))
