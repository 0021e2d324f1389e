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

"""nova.conf as nova reads it: conf.d, deprecated names, scheduler defaults."""

import builtins
import collections
import os
from unittest import mock

from gpupassthrough_osc.pci import scheduler
from gpupassthrough_osc.sources import novaconf
from tests.unit.sources import base


class TestNovaConf(base.FileTestCase):

    def test_conf_d_and_deprecated_names(self):
        path = self.write('nova.conf', '[DEFAULT]\npci_alias = '
                          '{"name": "a", "vendor_id": "10de", '
                          '"product_id": "2235"}\n[pci]\n'
                          'passthrough_whitelist = {"vendor_id": "10de"}\n')
        os.mkdir(path + '.d')
        with open(os.path.join(path + '.d', '50-b.conf'), 'w') as f:
            f.write('[pci]\nreport_in_placement = true\n')
        conf = novaconf.load(path)
        self.assertEqual(1, len(conf.alias))
        self.assertEqual(['{"vendor_id": "10de"}'], conf.device_spec)
        self.assertTrue(conf.report_in_placement)
        self.assertEqual({('DEFAULT', 'pci_alias'),
                          ('pci', 'passthrough_whitelist')},
                         {d[:2] for d in conf.deprecated})

    def test_bad_bool(self):
        path = self.write('nova.conf', '[pci]\nreport_in_placement = '
                          'perhaps\n')
        exc = self.assertRaises(novaconf.NovaConfError, novaconf.load, path)
        self.assertIn('nova.conf', str(exc))

    def test_scheduler_defaults_and_no_controller_marker(self):
        conf = novaconf.load(self.write('compute.conf', '[pci]\n'))
        self.assertEqual(list(scheduler.DEFAULT_ENABLED_FILTERS),
                         conf.enabled_filters)
        self.assertEqual([scheduler.ALL_FILTERS], conf.available_filters)
        self.assertEqual(3, conf.max_attempts)
        self.assertFalse(conf.pci_in_placement)
        self.assertEqual([], conf.controller_markers)

    def test_scheduler_options_mark_a_controller(self):
        path = self.write('nova.conf', '[filter_scheduler]\n'
                          'enabled_filters = ComputeFilter, '
                          'PciPassthroughFilter\n'
                          'available_filters = a.B\n'
                          'available_filters = c.D\n')
        os.mkdir(path + '.d')
        with open(os.path.join(path + '.d', 'db.conf'), 'w') as f:
            f.write('[scheduler]\nmax_attempts = 5\n[api_database]\n'
                    'connection = mysql+pymysql://nova@db/nova_api\n')
        conf = novaconf.load(path)
        self.assertEqual(['ComputeFilter', 'PciPassthroughFilter'],
                         conf.enabled_filters)
        self.assertEqual(['a.B', 'c.D'], conf.available_filters)
        self.assertEqual(5, conf.max_attempts)
        self.assertEqual(['[api_database] connection',
                          '[filter_scheduler] available_filters',
                          '[filter_scheduler] enabled_filters',
                          '[scheduler] max_attempts'],
                         conf.controller_markers)

    def test_max_attempts_below_novas_minimum(self):
        path = self.write('nova.conf', '[scheduler]\nmax_attempts = 0\n')
        exc = self.assertRaises(novaconf.NovaConfError, novaconf.load, path)
        self.assertIn('max_attempts', str(exc))

    def test_each_file_read_once_beside_oslo_config(self):
        # oslo.config reads each file for the values; the options written
        # (deprecated names, controller markers) and the values' lines
        # share one more read: a 20,000-line [pci] alias is not parsed
        # three times
        path = self.write('nova.conf', (
            '[DEFAULT]\npci_alias = {"name": "a", "vendor_id": "10de", '
            '"product_id": "2235"}\n[pci]\nalias = {"name": "b", '
            '"vendor_id": "10de", "product_id": "1df6"}\n'
            'passthrough_whitelist = {"vendor_id": "10de"}\n'))
        os.mkdir(path + '.d')
        extra = os.path.join(path + '.d', 'db.conf')
        with open(extra, 'w') as f:
            f.write('[scheduler]\nmax_attempts = 5\n')
        opened = collections.Counter()
        real = builtins.open

        def counting(file, *args, **kw):
            if isinstance(file, str) and file.startswith(self.tmp):
                opened[file] += 1
            return real(file, *args, **kw)

        with mock.patch('builtins.open', counting):
            conf = novaconf.load(path)
        self.assertEqual({path: 2, extra: 2}, dict(opened))
        # what the shared read gives is what two reads gave
        self.assertEqual([(path, 2), (path, 4)], conf.alias_lines)
        self.assertEqual([(path, 5)], conf.device_spec_lines)
        self.assertEqual({('DEFAULT', 'pci_alias'),
                          ('pci', 'passthrough_whitelist')},
                         {d[:2] for d in conf.deprecated})
        self.assertEqual(['[scheduler] max_attempts'],
                         conf.controller_markers)

    def test_a_binary_file_is_not_a_text_file(self):
        path = os.path.join(self.tmp, 'nova.conf')
        with open(path, 'wb') as f:
            f.write(b'[DEFAULT]\ndebug = \xd0\x00\xff\n')
        exc = self.assertRaises(novaconf.NovaConfError, novaconf.load, path)
        self.assertEqual(f'{path}: not a text file', str(exc))
