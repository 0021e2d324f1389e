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

"""Names of the GPUs operators pass through, and of their companions.

A built-in table for the cards of the original procedure (and the common
data-centre cards), then the names of the system's pci.ids, which the
caller reads (host/sysfs.py ``read_pci_ids``) and passes in. The table
only names devices; what nova records (type-PF or type-PCI) is always read
from nova or sysfs, never assumed from here.
"""

from collections.abc import Mapping

NVIDIA = '10de'

# (vendor_id, device_id) -> name, lower-case hex ids, from pci.ids
PciIds = Mapping[tuple[str, str], str]

# (vendor_id, product_id) -> (model name, suggested alias name)
GPUS = {
    (NVIDIA, '1e30'): ('Quadro RTX 6000', 'gpuRTX6000'),
    (NVIDIA, '1e36'): ('Quadro RTX 6000', 'gpuRTX6000'),
    (NVIDIA, '1e78'): ('Quadro RTX 6000/8000', 'gpuRTX6000'),
    (NVIDIA, '1df6'): ('Tesla V100S PCIe 32GB', 'gpuV100S'),
    (NVIDIA, '1db4'): ('Tesla V100 PCIe 16GB', 'gpuV100'),
    (NVIDIA, '1db6'): ('Tesla V100 PCIe 32GB', 'gpuV100'),
    (NVIDIA, '2206'): ('GeForce RTX 3080', 'gpu3080'),
    (NVIDIA, '2216'): ('GeForce RTX 3080 LHR', 'gpu3080'),
    (NVIDIA, '220a'): ('GeForce RTX 3080 12GB', 'gpu3080'),
    (NVIDIA, '2204'): ('GeForce RTX 3090', 'gpu3090'),
    (NVIDIA, '2203'): ('GeForce RTX 3090 Ti', 'gpu3090Ti'),
    (NVIDIA, '2235'): ('A40', 'gpuA40'),
    (NVIDIA, '20b0'): ('A100 SXM4 40GB', 'gpuA100'),
    (NVIDIA, '20b2'): ('A100 SXM4 80GB', 'gpuA100'),
    (NVIDIA, '20b5'): ('A100 PCIe 80GB', 'gpuA100'),
    (NVIDIA, '20f1'): ('A100 PCIe 40GB', 'gpuA100'),
    (NVIDIA, '20b7'): ('A30', 'gpuA30'),
    (NVIDIA, '26b5'): ('L40', 'gpuL40'),
    (NVIDIA, '26b9'): ('L40S', 'gpuL40S'),
    (NVIDIA, '1eb8'): ('Tesla T4', 'gpuT4'),
    (NVIDIA, '2330'): ('H100 SXM5 80GB', 'gpuH100'),
    (NVIDIA, '2331'): ('H100 PCIe', 'gpuH100'),
    (NVIDIA, '2230'): ('RTX A6000', 'gpuRTXA6000'),
}

# Functions that sit beside a GPU in its IOMMU group.
COMPANIONS = {
    (NVIDIA, '10f7'): 'TU102 High Definition Audio Controller',
    (NVIDIA, '1ad6'): 'TU102 USB 3.1 Host Controller',
    (NVIDIA, '1ad7'): 'TU102 USB Type-C UCSI Controller',
    (NVIDIA, '1aef'): 'GA102 High Definition Audio Controller',
}


def is_known_gpu(vendor_id: str, product_id: str) -> bool:
    return (vendor_id.lower(), product_id.lower()) in GPUS


def alias_name(vendor_id: str, product_id: str) -> str:
    """A readable alias name: the catalog's, else pci<vendor><product>."""
    key = (vendor_id.lower(), product_id.lower())
    if key in GPUS:
        return GPUS[key][1]
    return f'pci{key[0]}{key[1]}'


def model_name(vendor_id: str, product_id: str,
               pci_ids: PciIds | None = None) -> str | None:
    """The catalog's name, a companion's, then ``pci_ids``', else None."""
    key = (vendor_id.lower(), product_id.lower())
    if key in GPUS:
        return GPUS[key][0]
    if key in COMPANIONS:
        return COMPANIONS[key]
    return (pci_ids or {}).get(key)
