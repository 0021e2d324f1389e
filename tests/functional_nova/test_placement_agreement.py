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

"""Resource class and trait names: ours against nova's own functions.

nova/compute/pci_placement_translator.py ``get_resource_class`` and
``get_traits`` name what a device provider offers and what an alias asks
placement for; ours must give the same names for any input.
"""

import os
import random

import testtools

from nova.compute import pci_placement_translator as nova_names

from gpupassthrough_osc.pci import placement

CASES = 2000
PIECES = ['gpu', 'GPU', 'CUSTOM_', 'custom_', 'vgpu', 'VGPU', 'PGPU',
          'HW_CPU_X86_AVX', 'hw_nic_sriov', 'my dev', ' ', '-', '_', 'x9',
          'COMPUTE_MANAGED_PCI_DEVICE', 'blue', ',', 'big ', 'nvlink']


def _name(rng):
    return ''.join(rng.choice(PIECES) for _ in range(rng.randint(1, 4)))


class TestNamesAgree(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.seed = int(os.environ.get('GPU_TEST_SEED') or
                        random.randrange(2 ** 32))
        self.addDetail('seed', testtools.content.text_content(
            f'GPU_TEST_SEED={self.seed}'))

    def test_resource_class(self):
        rng = random.Random(self.seed)
        for _ in range(CASES):
            name = rng.choice([None, '', _name(rng).replace(',', '')])
            vendor = rng.choice(['10de', '10DE', '8086'])
            product = rng.choice(['1df6', '2235', 'A808'])
            self.assertEqual(
                nova_names.get_resource_class(name, vendor, product),
                placement.resource_class(name, vendor, product),
                f'{name!r} {vendor} {product} (seed {self.seed})')

    def test_traits(self):
        rng = random.Random(self.seed)
        for _ in range(CASES):
            value = rng.choice(['', _name(rng)])
            self.assertEqual(nova_names.get_traits(value),
                             set(placement.traits(value)),
                             f'{value!r} (seed {self.seed})')
