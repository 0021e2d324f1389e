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

"""The Hypothesis examples committed in tests/fixtures/hypothesis replay.

CI's profile is derandomized and Hypothesis allows it no database, so this
is where the failures found once (by ``tox -e fuzz``, kept with
tools/hypothesis-promote.py) run again on every CI run. An example whose
property was edited sits under a key nothing asks for any more: that is a
failure here, not a silent loss.
"""

import os
import unittest
from unittest import mock

import testtools

from gpupassthrough_osc.pci import numa
from tests import fuzzing


def _committed_files():
    # one directory per key, one file per example; the database also keeps
    # a directory listing its keys, which holds no example
    keys = os.path.join(fuzzing.COMMITTED, '04e6b3400353b141')
    return sorted(
        os.path.join(d, name) for d, _dirs, files in os.walk(
            fuzzing.COMMITTED) if d != keys for name in files)


class TestCommittedExamples(testtools.TestCase):

    def replay(self, case):
        examples = fuzzing.Recording(fuzzing.committed())
        result = unittest.TestResult()
        with fuzzing.replaying(case, examples):
            case.run(result)
        self.assertTrue(result.wasSuccessful(),
                        [text for _c, text in
                         result.failures + result.errors])
        return sum(len(v) for v in examples.fetched.values())

    def test_every_committed_example_is_replayed_and_passes(self):
        committed = _committed_files()
        self.assertGreater(len(committed), 0)
        replayed = sum(self.replay(case) for case in fuzzing.properties())
        self.assertEqual(
            len(committed), replayed,
            'some committed examples belong to no current property (its '
            'code changed, so its key did): run tox -e fuzz and '
            'tools/hypothesis-promote.py again')

    def test_the_carriage_return_flavor_value(self):
        # found by tox -e fuzz with NumaError's escaping removed: a flavor
        # value holding a line break gave a two-line error
        from tests.unit.pci import test_fuzz_numa

        seen = []
        real = numa.guest_topology

        def spy(specs, *args):
            seen.append(dict(specs))
            return real(specs, *args)

        case = test_fuzz_numa.TestNumaFuzz('test_any_flavor_specs')
        with mock.patch.object(numa, 'guest_topology', spy):
            self.assertGreater(self.replay(case), 0)
        self.assertIn({'hw:numa_nodes': '\r'}, seen)
