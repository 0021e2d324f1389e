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


def cloud(cells=1, **counts):
    values = {'live': 10, 'hosts': 2, 'allocated': 4, 'leaked': 3,
              'leak_hosts': 2, 'on_deleted_node': 2, 'deleted_nodes': 1,
              'soft_deleted': 1, 'load_seconds': 0.1, 'cell_count': cells}
    values.update(counts)
    return types.SimpleNamespace(**values)


def size(rows, audit=1.0, dump=1.0, list_mib=90.0, cells=1, rss=100.0,
         split=(0.3, 0.2), start=0.9):
    one = cells == 1
    return bench.Size(rows, cloud(cells), (audit, rss),
                      (1.0, 90.0) if one else None,
                      (2.0, list_mib) if one else None, (dump, 10.0), split,
                      (audit * 1.1, rss), start)


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

    def test_split_of_time_comes_from_the_command(self):
        errors = []
        bench.run([sys.executable, '-c', 'import sys; sys.stderr.write('
                   '"audit timing: read 1.250 s, rules 0.300 s")'],
                  errors=errors)
        self.assertEqual((1.25, 0.3), bench.split_of(errors[0]))
        exc = self.assertRaises(bench.FailedRun, bench.split_of, 'DEBUG x')
        self.assertIn('without its timing line', str(exc))

    def test_header_line_not_counted(self):
        check = bench.rows_check(1, header=1)
        self.assertIsNone(check(io.StringIO('id\n1\n')))

    def test_totals_must_add_up(self):
        self.assertIsNone(bench.total_check(5)(io.StringIO('2\n3\n')))
        self.assertIn('4, 5 expected',
                      bench.total_check(5)(io.StringIO('1\n3\n')))

    def test_findings_must_be_what_the_cloud_was_made_with(self):
        check = bench.findings_check(cloud())
        right = ('PCI_DEVICE_LEAKED 2 device(s) held by ...\n'
                 'PCI_DEVICE_LEAKED 1 device(s) held by ...\n'
                 'DEVICES_ON_DELETED_NODE 2 live pci_devices row(s) ...\n')
        self.assertIsNone(check(io.StringIO(right)))
        self.assertIsNone(check(io.StringIO(
            right + 'FLAVOR_NO_FREE_CAPACITY 3 host(s) could ...\n')))
        self.assertIn('PCI_DEVICE_LEAKED: 0 findings of 0 devices, 2 of 3 '
                      'expected', check(io.StringIO('')))
        # one host fewer, or one device fewer: wrong
        self.assertIn('PCI_DEVICE_LEAKED: 1 findings of 1 devices',
                      check(io.StringIO(right.split('\n', 1)[1])))
        self.assertIn('DEVICES_ON_DELETED_NODE: 1 findings of 1 devices',
                      check(io.StringIO(right.replace(
                          'NODE 2 live', 'NODE 1 live'))))
        self.assertIn("unexpected ['ALIAS_DROPS_PF']", check(io.StringIO(
            right + 'ALIAS_DROPS_PF alias gpuA40 ...\n')))


class TestTargets(testtools.TestCase):

    version = bench.Version([0.70] * 5, [0.69] * 5)

    def found(self, *measured):
        return {t.name: t for t in bench.targets(
            list(measured), self.version, 1.6)}

    def test_only_what_the_sizes_allow(self):
        found = self.found(size(2000), size(2000, cells=4))
        self.assertEqual({'version', 'import'}, set(found))
        self.assertTrue(all(t.met for t in found.values()))

    def test_the_issues_targets(self):
        found = self.found(
            size(100000, audit=1.3), size(1000000, audit=1.9, dump=1.9),
            size(100000, audit=1.5, cells=4),
            size(1000000, audit=3.0, dump=2.0, cells=4, rss=140.0))
        self.assertEqual(
            {'audit-vs-dump', 'audit-rss', 'audit-scaling-1',
             'audit-scaling-4', 'list-streams', 'version', 'import'},
            set(found))
        self.assertTrue(all(t.met for t in found.values()), found)
        self.assertIn('(1.00x; target <= 1.0x)', found['audit-vs-dump'].text)
        self.assertIn('4 cells: 1.50s -> 3.00s (2.00x; target <= 2.5x)',
                      found['audit-scaling-4'].text)
        self.assertIn('100 MiB (one cell), 140 MiB (4 cells)',
                      found['audit-rss'].text)

    def test_missed_targets(self):
        found = self.found(size(100000, audit=1.3),
                           size(1000000, audit=4.1, dump=1.9,
                                list_mib=200.0, rss=150.0),
                           size(100000, audit=1.0, cells=4),
                           size(1000000, audit=2.6, cells=4))
        missed = {n for n, t in found.items() if not t.met}
        # 150 MiB is above 150 MB
        self.assertEqual({'audit-vs-dump', 'audit-scaling-1',
                          'audit-scaling-4', 'list-streams', 'audit-rss'},
                         missed)

    def test_check_fails_on_a_missed_target(self):
        found = self.found(size(100000, audit=1.0), size(1000000, audit=4.0))
        self.assertEqual(0, bench.verdict(found.values(), check=False))
        self.useFixture(fixtures.MockPatch('sys.stderr', io.StringIO()))
        self.assertEqual(1, bench.verdict(found.values(), check=True))
        met = self.found(size(2000))
        self.assertEqual(0, bench.verdict(met.values(), check=True))

    def test_doc_explains_misses_in_the_run_numbers(self):
        measured = [size(100000, audit=1.3, split=(0.2, 0.1)),
                    size(1000000, audit=4.1, dump=1.9, split=(2.0, 0.5))]
        found = bench.targets(measured, self.version, 1.6)
        text = bench.explanations(measured, found, self.version, 1.6)
        self.assertEqual(2, len(text))
        self.assertIn('(0.90 s here', text[0])
        self.assertIn('read the cell in 2.00 s', text[0])
        self.assertIn('ran the rules in 0.50 s', text[0])
        self.assertIn('Less the start-up the audit took 3.20 s', text[0])
        self.assertIn('69% of the audit at 100k rows', text[1])
        self.assertIn('(reading 10.0x, rules 5.0x)', text[1])

    def test_one_cell_against_four(self):
        measured = [size(1000000, audit=4.1, dump=3.0, split=(3.0, 0.4)),
                    size(1000000, audit=3.0, dump=2.0, split=(1.9, 0.3),
                         cells=4)]
        found = bench.targets(measured, self.version, 1.6)
        text = bench.explanations(measured, found, self.version, 1.6)
        self.assertIn('read in 1.90 s (one cell: 3.00 s) and dumped in '
                      '2.00 s (one cell: 3.00 s): one cell\'s table', text[1])
        # no cause where the dumps do not show one
        measured[0] = size(1000000, audit=4.1, dump=2.1, split=(3.0, 0.4))
        text = bench.explanations(measured, found, self.version, 1.6)
        self.assertTrue(text[1].endswith('(one cell: 2.10 s).'), text[1])

    def test_no_section_when_every_target_is_met(self):
        measured = [size(2000)]
        found = bench.targets(measured, self.version, 1.6)
        self.assertEqual([], bench.explanations(
            measured, found, self.version, 1.6))


class TestDoc(testtools.TestCase):

    def test_split_of_time_is_the_rest_of_the_median(self):
        text = bench.report([size(2000, audit=2.0, split=(0.4, 0.1),
                                  start=1.2)], [])
        self.assertIn('1     2000 2.00    1.20     0.40       0.10  0.30',
                      text)

    def test_query_plans_are_shown(self):
        text = bench.plans_text([(
            'compute nodes', 'SELECT id FROM compute_nodes',
            ['id', 'select_type', 'table', 'type', 'key', 'rows', 'Extra'],
            [(1, 'SIMPLE', 'compute_nodes', 'index', 'uniq_host', 41062,
              'Using index')])])
        self.assertIn('compute nodes::', text)
        self.assertIn('    SELECT id FROM compute_nodes', text)
        self.assertIn('compute_nodes index uniq_host 41062 Using index',
                      text)
