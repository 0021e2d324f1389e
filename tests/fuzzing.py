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


"""Hypothesis settings shared by the property tests, and their examples.

``ci`` (the default) is derandomized: the same generated examples on every
run. Hypothesis refuses a database next to ``derandomize=True``, so the
examples committed in ``tests/fixtures/hypothesis`` (failures found once,
kept forever) are replayed by a second, equally fixed step:
tests/unit/test_committed_examples.py runs every property under
``replay`` (read-only committed database, reuse phase only).

``tox -e fuzz`` selects ``fuzz``: many more examples, random, replaying the
committed examples first; new failures go to ``.hypothesis/examples`` (not
committed). Once a failure is fixed, keep its example for every later run
with ``python tools/hypothesis-promote.py`` (README "Fuzzing").
"""

import contextlib
import os
import unittest
from unittest import mock

import hypothesis
from hypothesis import database

from tests import paths

COMMITTED = paths.fixture('hypothesis')
LOCAL = os.path.join(paths.REPO, '.hypothesis', 'examples')


def committed():
    return database.ReadOnlyDatabase(
        database.DirectoryBasedExampleDatabase(COMMITTED))


hypothesis.settings.register_profile(
    'ci', max_examples=300, derandomize=True, database=None, deadline=None,
    print_blob=True)
hypothesis.settings.register_profile(
    'fuzz', max_examples=20000, deadline=None, print_blob=True,
    database=database.MultiplexedDatabase(
        database.DirectoryBasedExampleDatabase(LOCAL), committed()))
# a replay runs each property from a new TestCase of its own, which
# Hypothesis takes for a second "executor"; the cases hold no state
hypothesis.settings.register_profile(
    'replay', database=committed(), deadline=None, print_blob=True,
    phases=(hypothesis.Phase.explicit, hypothesis.Phase.reuse),
    suppress_health_check=[hypothesis.HealthCheck.differing_executors])
hypothesis.settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))


class Recording(database.ExampleDatabase):
    """A read-only view of a database that counts what it hands out."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.asked = []
        self.fetched = {}

    def fetch(self, key):
        self.asked.append(key)
        for value in self.inner.fetch(key):
            self.fetched.setdefault(key, []).append(value)
            yield value

    def save(self, key, value):
        pass

    def delete(self, key, value):
        pass


def properties():
    """A test case for each Hypothesis property of tests/unit."""
    suite = unittest.TestLoader().discover(
        os.path.join(paths.REPO, 'tests', 'unit'), pattern='test_fuzz_*.py',
        top_level_dir=paths.REPO)
    stack = [suite]
    while stack:
        item = stack.pop()
        if isinstance(item, unittest.TestSuite):
            stack.extend(item)
        elif hasattr(getattr(item, item._testMethodName), 'hypothesis'):
            yield item


@contextlib.contextmanager
def replaying(case, examples):
    """Run ``case``'s property on ``examples`` (a database) only.

    @given captures the profile when the module is imported; its
    ``_hypothesis_internal_use_settings`` is what it reads at each call.
    """
    function = getattr(type(case), case._testMethodName)
    settings = hypothesis.settings(
        hypothesis.settings.get_profile('replay'), database=examples)
    with mock.patch.object(function, '_hypothesis_internal_use_settings',
                           settings):
        yield
