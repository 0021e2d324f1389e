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

"""The pci_passthrough:alias grammar against nova's validator table."""

import re

import testtools

from gpupassthrough_osc.pci import request

# nova/api/validation/extra_specs/pci_passthrough.py, kept verbatim here so
# a change of ours to NOVA_VALUE_PATTERN cannot silently agree with itself.
NOVA_PATTERN = r'[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*'

NOVA_ACCEPTS = ['gpuA40:1', 'nvme155:1,gpu3080:1', 'a:1 , b:2', 'a :1',
                'a:0', 'a:12,b:3', 'a,b:1', 'a:1,,b:1']
NOVA_REFUSES = ['a: 1', 'a:1 ', 'a:1,', 'a:-1', ':1', '', 'a', 'a:b',
                ' ', 'a:1:2', 'a:1.5']


class TestNovaGrammar(testtools.TestCase):

    def test_pattern_is_novas(self):
        self.assertEqual(NOVA_PATTERN, request.NOVA_VALUE_PATTERN)

    def test_accepts_what_nova_accepts(self):
        for value in NOVA_ACCEPTS:
            self.assertTrue(request.nova_accepts(value), value)
            self.assertIsNotNone(re.fullmatch(NOVA_PATTERN, value))

    def test_refuses_what_nova_refuses(self):
        for value in NOVA_REFUSES:
            self.assertFalse(request.nova_accepts(value), value)
            self.assertRaises(request.RequestError, request.parse, value)

    def test_translate_like_nova(self):
        self.assertEqual(
            [request.AliasRequest('a', 1), request.AliasRequest('b', 2)],
            request.parse('a:1 , b:2'))
        self.assertEqual([request.AliasRequest('a', 1)],
                         request.parse('a :1'))

    def test_first_failure_is_novas(self):
        # nova/pci/request.py _translate_alias_to_requests: item by item,
        # NAME:COUNT, then the name, then int(count)
        exc = self.assertRaises(request.AliasNotDefined, request.translate,
                                'c:1,a:x', defined={'a'})
        self.assertEqual('c', exc.name)
        self.assertRaises(request.AliasNotDefined, request.translate,
                          'c:1,a:1:2', defined={'a'})
        exc = self.assertRaises(request.RequestError, request.translate,
                                'a:x,c:1', defined={'a'})
        self.assertNotIsInstance(exc, request.AliasNotDefined)
        # without nova.conf's names, only the grammar is checked
        self.assertEqual([request.AliasRequest('c', 1)],
                         request.translate('c:1'))


class TestBuild(testtools.TestCase):

    def test_single(self):
        self.assertEqual('gpuA40:1', request.build(['gpuA40:1']))

    def test_repeated_options(self):
        self.assertEqual('gpuA40:1,nvme155:1',
                         request.build(['gpuA40:1', 'nvme155:1']))

    def test_comma_string_normalised(self):
        self.assertEqual('nvme155:1,gpu3080:1',
                         request.build(['nvme155:1 , gpu3080:1']))

    def test_mixed(self):
        self.assertEqual('a:1,b:2,c:3', request.build(['a:1,b:2', 'c:3']))

    def test_zero_refused_with_reason(self):
        exc = self.assertRaises(request.RequestError, request.build, ['a:0'])
        self.assertIn('zero devices', str(exc))

    def test_duplicate_refused_across_options(self):
        exc = self.assertRaises(request.RequestError, request.build,
                                ['a:1', 'a:2'])
        self.assertIn("'a' is named twice", str(exc))

    def test_comma_in_name_refused(self):
        # nova's pattern lets these through, its translation cannot split
        for value in ('a,b:1', 'a:1,,b:1'):
            exc = self.assertRaises(request.RequestError, request.build,
                                    [value])
            self.assertIn('every boot', str(exc))

    def test_bad_item_names_itself(self):
        exc = self.assertRaises(request.RequestError, request.build,
                                ['a:1', 'b: 1'])
        self.assertIn("'b: 1'", str(exc))


class TestParseStored(testtools.TestCase):

    def test_good(self):
        self.assertEqual(([request.AliasRequest('a', 1)], None),
                         request.parse_stored('a:1'))

    def test_refused_by_validator_but_translatable(self):
        # stored through microversion < 2.86: nova still boots it
        requests, problem = request.parse_stored('a: 1')
        self.assertEqual([request.AliasRequest('a', 1)], requests)
        self.assertIn("nova's format", problem)

    def test_untranslatable(self):
        requests, problem = request.parse_stored('a:x')
        self.assertEqual([], requests)
        self.assertIn('not a whole number', problem)

    def test_negative_count(self):
        requests, problem = request.parse_stored('a:-1')
        self.assertEqual([request.AliasRequest('a', -1)], requests)
        self.assertIsNotNone(problem)
