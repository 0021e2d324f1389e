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

from gpupassthrough_osc.pci import catalog


class TestCatalog(testtools.TestCase):

    def test_catalog_then_pci_ids(self):
        pci_ids = {('144d', 'a808'): 'NVMe SSD Controller SM981/PM981/PM983',
                   ('10de', '2235'): 'GA102GL [A40]'}
        self.assertEqual('A40', catalog.model_name('10de', '2235', pci_ids))
        self.assertEqual('NVMe SSD Controller SM981/PM981/PM983',
                         catalog.model_name('144D', 'A808', pci_ids))
        self.assertIsNone(catalog.model_name('1234', '5678', pci_ids))
        self.assertIsNone(catalog.model_name('144d', 'a808'))
        self.assertEqual('GA102 High Definition Audio Controller',
                         catalog.model_name('10de', '1aef'))
        self.assertEqual('gpuA40', catalog.alias_name('10de', '2235'))
        self.assertEqual('pci144da808', catalog.alias_name('144D', 'A808'))
