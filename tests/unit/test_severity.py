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

import testtools

from gpupassthrough_osc import severity


class TestSeverity(testtools.TestCase):

    def test_the_strings_operators_parse(self):
        self.assertEqual(('error', 'warning', 'info', 'ok'),
                         (severity.ERROR, severity.WARNING, severity.INFO,
                          severity.OK))
        self.assertEqual(('error', 'warning', 'never'),
                         severity.FAIL_ON_CHOICES)

    def test_worst(self):
        self.assertEqual('error', severity.worst(
            ['info', 'error', 'warning']))
        self.assertEqual('warning', severity.worst(['ok', 'warning']))
        self.assertEqual('info', severity.worst(['ok', 'info']))
        self.assertIsNone(severity.worst([]))

    def test_fails(self):
        self.assertTrue(severity.fails('error', 'error'))
        self.assertFalse(severity.fails('warning', 'error'))
        self.assertTrue(severity.fails('error', 'warning'))
        self.assertTrue(severity.fails('warning', 'warning'))
        self.assertFalse(severity.fails('info', 'warning'))
        self.assertFalse(severity.fails('ok', 'warning'))
        self.assertFalse(severity.fails('error', 'never'))
        self.assertFalse(severity.fails(None, 'error'))
