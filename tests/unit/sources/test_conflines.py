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


"""Line numbers of [pci] alias and device_spec values, as oslo reads them."""

import os

from gpupassthrough_osc.sources import conflines
from gpupassthrough_osc.sources import novaconf
from tests.unit.sources import base

A = '{"name": "a", "vendor_id": "10de", "product_id": "2235"}'
B = '{"name": "b", "vendor_id": "10de", "product_id": "1df6"}'


class TestLines(base.FileTestCase):

    def test_every_shape_oslo_reads(self):
        path = self.write('nova.conf', (
            '[DEFAULT]\n'
            f'pci_alias = {A}\n'                       # 2: the old name
            '[pci]\n'
            '# alias = {"name": "commented"}\n'
            f"alias = '{B}'\n"                         # 5: quoted
            f'alias={A}\n'                             # 6: the same value
            'device_spec = [{"vendor_id": "10de",\n'   # 7: continued
            '  "product_id": "2235"}]\n'
            '[filter_scheduler]\n'
            f'alias = {B}\n'))                         # not [pci]
        os.mkdir(path + '.d')
        extra = os.path.join(path + '.d', '10-pci.conf')
        with open(extra, 'w') as f:
            f.write('[pci]\n\npassthrough_whitelist = {"vendor_id": '
                    '"8086"}\n')
        conf = novaconf.load(path)
        self.assertEqual(
            {(path, 2), (path, 5), (path, 6)}, set(conf.alias_lines))
        self.assertEqual(
            sorted(zip(conf.alias, conf.alias_lines)),
            sorted([(A, (path, 2)), (B, (path, 5)), (A, (path, 6))]))
        self.assertEqual(
            {(path, 7), (extra, 3)}, set(conf.device_spec_lines))
        spec_at = dict(zip(conf.device_spec_lines, conf.device_spec))
        self.assertEqual('{"vendor_id": "8086"}', spec_at[(extra, 3)])

    def test_value_without_line_is_none(self):
        self.assertEqual([('f', 1), None], conflines.locate(
            [A, B], {('pci', 'alias'): [('f', 1, A)]}))
