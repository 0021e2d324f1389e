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

"""Keep the failures a fuzz run found, so that every CI run replays them.

``tox -e fuzz`` saves each failing example in ``.hypothesis/examples``
(not committed). Fix the bug, then run this from the repository root:
every property of tests/unit replays its local examples once, and those
of its own key (not Hypothesis' secondary or pareto corpora) are copied
into ``tests/fixtures/hypothesis``. Commit that directory with the fix.

    python tools/hypothesis-promote.py

Editing a property changes its key (Hypothesis hashes its source), and
its committed examples then belong to nothing (tests/unit/
test_committed_examples.py says so). Move them to the new key with

    python tools/hypothesis-promote.py --rekey DIRECTORY TEST_ID

e.g. ``--rekey tests/fixtures/hypothesis/bab211a681dc79b6
tests.unit.pci.test_fuzz_numa.TestNumaFuzz.test_any_flavor_specs``.
"""

import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from hypothesis import database  # noqa: E402

from tests import fuzzing  # noqa: E402


def main() -> int:
    local = fuzzing.Recording(
        database.DirectoryBasedExampleDatabase(fuzzing.LOCAL))
    kept = database.DirectoryBasedExampleDatabase(fuzzing.COMMITTED)
    failing = 0
    for case in fuzzing.properties():
        local.fetched.clear()
        result = unittest.TestResult()
        with fuzzing.replaying(case, local):
            case.run(result)
        values = [(key, value) for key, found in local.fetched.items()
                  if not key.endswith((b'.secondary', b'.pareto'))
                  for value in found]
        if not values:
            continue
        for key, value in values:
            kept.save(key, value)
        state = 'passes' if result.wasSuccessful() else 'STILL FAILS'
        failing += not result.wasSuccessful()
        print(f'{case.id()}: {len(values)} example(s) kept, {state}')
    if failing:
        print(f'{failing} properties still fail on their examples: fix '
              f'them before committing {fuzzing.COMMITTED}')
    return 1 if failing else 0


def rekey(directory: str, test_id: str) -> int:
    """Move the examples in ``directory`` to the current key of a test."""
    cases = [c for c in fuzzing.properties() if c.id() == test_id]
    if not cases:
        print(f'{test_id}: no such property')
        return 1
    asking = fuzzing.Recording(database.InMemoryExampleDatabase())
    with fuzzing.replaying(cases[0], asking):
        cases[0].run(unittest.TestResult())
    key = asking.asked[0]
    kept = database.DirectoryBasedExampleDatabase(fuzzing.COMMITTED)
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), 'rb') as f:
            kept.save(key, f.read())
    shutil.rmtree(directory)
    print(f'{test_id}: examples of {directory} moved to its key')
    return 0


if __name__ == '__main__':
    if sys.argv[1:2] == ['--rekey'] and len(sys.argv) == 4:
        sys.exit(rekey(sys.argv[2], sys.argv[3]))
    sys.exit(main())
