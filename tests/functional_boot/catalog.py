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

"""The seed's cards as nova's fake libvirt presents them.

Ids and functions from shared/host-facts.md. What matters to nova is the
libvirt node device: a device with the ``virt_functions`` capability is
recorded as ``type-PF`` even with no VF enabled (nova/virt/libvirt/host.py
``_get_pcidev_info``), which is how an A40 (SR-IOV capable, no VFs) ends
up as the seed's ``type-PF`` row. Everything else here is ``type-PCI``,
except the NIC's VFs.
"""

import dataclasses

NVIDIA = '10de'


@dataclasses.dataclass(frozen=True)
class Function:
    """One PCI function of a card: fake libvirt's ``add_device`` kwargs."""

    vendor_id: str
    product_id: str
    name: str
    dev_type: str = 'PCI'       # fake libvirt's PCI, PF or VF
    driver: str = 'vfio-pci'


@dataclasses.dataclass(frozen=True)
class Card:
    """A board in one slot: its functions share an IOMMU group."""

    model: str
    functions: tuple[Function, ...]
    vfs: int = 0                # VFs enabled on function 0 (a PF)

    @property
    def main(self) -> Function:
        return self.functions[0]


A40 = Card('NVIDIA A40', (
    Function(NVIDIA, '2235', 'GA102GL [A40]', dev_type='PF'),))
V100S = Card('Tesla V100S PCIe 32GB', (
    Function(NVIDIA, '1df6', 'GV100GL [Tesla V100S PCIe 32GB]'),))
RTX6000 = Card('Quadro RTX 6000', (
    Function(NVIDIA, '1e30', 'TU102GL [Quadro RTX 6000/8000]'),
    Function(NVIDIA, '10f7', 'TU102 High Definition Audio Controller',
             driver='snd_hda_intel'),
    Function(NVIDIA, '1ad6', 'TU102 USB 3.1 Host Controller',
             driver='xhci_hcd'),
    Function(NVIDIA, '1ad7', 'TU102 USB Type-C UCSI Controller',
             driver='nvidia-gpu')))
RTX3080 = Card('GeForce RTX 3080', (
    Function(NVIDIA, '2206', 'GA102 [GeForce RTX 3080]'),
    Function(NVIDIA, '1aef', 'GA102 High Definition Audio Controller',
             driver='snd_hda_intel')))
RTX3090 = Card('GeForce RTX 3090', (
    Function(NVIDIA, '2204', 'GA102 [GeForce RTX 3090]'),
    Function(NVIDIA, '1aef', 'GA102 High Definition Audio Controller',
             driver='snd_hda_intel')))
# the seed's nvme155 alias: a Samsung PM173X NVMe drive
NVME = Card('Samsung NVMe SSD Controller PM173X', (
    Function('144d', 'a808', 'NVMe SSD Controller PM173X', driver='nvme'),))
# an SR-IOV NIC with 4 VFs enabled (X540: PF 1528, VF 1515)
NIC = Card('Ethernet Controller 10-Gigabit X540-AT2', (
    Function('8086', '1528', 'Ethernet Controller 10-Gigabit X540-AT2',
             dev_type='PF', driver='ixgbe'),
    Function('8086', '1515', 'X540 Ethernet Controller Virtual Function',
             dev_type='VF', driver='ixgbevf')), vfs=4)


def place(pci_info, card: Card, bus: int, numa_node: int | None,
          iommu_group: int) -> None:
    """Put ``card`` in slot ``bus:00`` of a fake libvirt HostPCIDevicesInfo.

    A card's functions share its IOMMU group, as on real hardware; a NIC's
    VFs sit in the next slots with their own groups.
    """
    main = card.main
    if main.dev_type == 'PF':
        pf = card.functions[0]
        pci_info.add_device(
            dev_type='PF', bus=bus, slot=0, function=0,
            iommu_group=iommu_group, numa_node=numa_node,
            vf_ratio=card.vfs, vend_id=pf.vendor_id, prod_id=pf.product_id,
            prod_name=pf.name, driver_name=pf.driver)
        vf = card.functions[1] if len(card.functions) > 1 else None
        for n in range(1, card.vfs + 1):
            pci_info.add_device(
                dev_type='VF', bus=bus, slot=n // 8, function=n % 8,
                iommu_group=iommu_group + n, numa_node=numa_node,
                vf_ratio=card.vfs, parent=(bus, 0, 0), vend_id=vf.vendor_id,
                prod_id=vf.product_id, prod_name=vf.name,
                driver_name=vf.driver)
        return
    for function, fn in enumerate(card.functions):
        pci_info.add_device(
            dev_type='PCI', bus=bus, slot=0, function=function,
            iommu_group=iommu_group, numa_node=numa_node,
            vend_id=fn.vendor_id, prod_id=fn.product_id, prod_name=fn.name,
            driver_name=fn.driver)
