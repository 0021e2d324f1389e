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

"""doc/source/boot-truth.rst is what the boot-truth scenarios say."""

import os

import testtools

from tests.functional_boot import doc
from tests.functional_boot import scenarios
from tests import paths

REPO = paths.REPO


class TestBootTruthDoc(testtools.TestCase):

    def test_page_is_current(self):
        with open(os.path.join(REPO, 'doc', 'source',
                               'boot-truth.rst')) as f:
            self.assertEqual(
                doc.render(), f.read(),
                'run: python -m tests.functional_boot.doc > '
                'doc/source/boot-truth.rst')

    def test_at_least_thirty_scenarios_each_named_once(self):
        names = [s.name for s in scenarios.SCENARIOS]
        self.assertGreaterEqual(len(names), 30)
        self.assertEqual(len(names), len(set(names)))

    def test_every_failing_flavor_names_its_cause(self):
        for s in scenarios.SCENARIOS:
            self.assertEqual(set(s.flavors), set(s.outcome), s.name)
            for flavor, outcome in s.outcome.items():
                if outcome != scenarios.ACTIVE and not s.gap:
                    self.assertTrue(s.causes.get(flavor),
                                    f'{s.name}: {flavor} fails with no '
                                    f'cause recorded')
