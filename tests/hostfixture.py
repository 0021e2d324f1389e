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

"""Build fake compute hosts: sysfs, proc and etc trees under a directory.

The layout follows the kernel's: device directories with vendor, device,
class files; ``driver`` and ``iommu_group`` symlinks; group directories
with a link per member. Nothing here is a copied dump: each host is
described by what the tests need.
"""

import os

INTEL = 'GenuineIntel'
AMD = 'AuthenticAMD'
RELEASE = '6.1.0-28-amd64'


class FakeHost:

    def __init__(self, root, cpu=AMD, cmdline='', modules=(), builtin=(),
                 iommu=True, os_id='debian'):
        self.root = root
        self._write('/proc/cpuinfo', f'processor\t: 0\nvendor_id\t: {cpu}\n')
        self._write('/proc/cmdline', f'BOOT_IMAGE=/vmlinuz-{RELEASE} '
                                     f'root=/dev/sda1 ro {cmdline}\n')
        self._write('/proc/sys/kernel/osrelease', RELEASE + '\n')
        self._write('/proc/modules', ''.join(
            f'{m} 16384 0 - Live 0x0000000000000000\n' for m in modules))
        self._write(f'/lib/modules/{RELEASE}/modules.builtin', ''.join(
            f'kernel/drivers/{m}.ko\n' for m in builtin))
        self._write('/etc/os-release', f'ID={os_id}\n')
        os.makedirs(self._path('/sys/bus/pci/devices'), exist_ok=True)
        os.makedirs(self._path('/sys/kernel/iommu_groups'), exist_ok=True)
        os.makedirs(self._path('/sys/class/iommu'), exist_ok=True)
        if iommu:
            unit = 'dmar0' if cpu == INTEL else 'ivhd0'
            os.makedirs(self._path('/sys/class/iommu', unit))

    def _path(self, *parts):
        return os.path.join(self.root, *(p.lstrip('/') for p in parts))

    def _write(self, path, text):
        full = self._path(path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as f:
            f.write(text)

    def etc(self, path, text):
        self._write(path, text)
        return self

    def add(self, address, ids, pci_class, driver=None, module=None,
            group=None, totalvfs=None, numvfs=0, numa_node=0):
        vendor, device = ids.split(':')
        base = f'/sys/devices/pci0000:00/{address}'
        self._write(f'{base}/vendor', f'0x{vendor}\n')
        self._write(f'{base}/device', f'0x{device}\n')
        self._write(f'{base}/class', f'0x{pci_class}\n')
        self._write(f'{base}/numa_node', f'{numa_node}\n')
        self._write(f'{base}/driver_override', '(null)\n')
        if totalvfs is not None:
            self._write(f'{base}/sriov_totalvfs', f'{totalvfs}\n')
            self._write(f'{base}/sriov_numvfs', f'{numvfs}\n')
        os.symlink(self._path(base),
                   self._path('/sys/bus/pci/devices', address))
        if driver:
            drv = self._path('/sys/bus/pci/drivers', driver)
            os.makedirs(drv, exist_ok=True)
            if module and not os.path.exists(os.path.join(drv, 'module')):
                mod = self._path('/sys/module', module)
                os.makedirs(mod, exist_ok=True)
                os.symlink(mod, os.path.join(drv, 'module'))
            os.symlink(drv, self._path(base, 'driver'))
        if group is not None:
            gdir = self._path('/sys/kernel/iommu_groups', str(group))
            os.makedirs(os.path.join(gdir, 'devices'), exist_ok=True)
            os.symlink(gdir, self._path(base, 'iommu_group'))
            os.symlink(self._path(base),
                       os.path.join(gdir, 'devices', address))
        return self


def a40_amd_clean(root):
    """AMD host, A40 (SR-IOV capable) alone in its group on vfio-pci."""
    host = FakeHost(root, cpu=AMD, cmdline='iommu=pt',
                    modules=('vfio_pci', 'vfio_iommu_type1', 'vfio',
                             'kvm_amd'))
    host.add('0000:20:01.1', '1022:1483', '060400', driver='pcieport',
             group=12)
    host.add('0000:21:00.0', '10de:2235', '030200', driver='vfio-pci',
             module='vfio_pci', group=13, totalvfs=16)
    host.etc('/etc/modprobe.d/blacklist-nouveau.conf',
             'blacklist nouveau\noptions nouveau modeset=0\n')
    host.etc('/etc/modprobe.d/vfio.conf', 'options vfio-pci ids=10de:2235\n')
    host.etc('/etc/modules-load.d/vfio.conf',
             '# vfio at boot\nvfio\nvfio_pci\nvfio_iommu_type1\n')
    host.etc('/etc/initramfs-tools/modules',
             'vfio\nvfio_pci\nvfio_iommu_type1\n')
    return host


def rtx6000_intel_typec(root):
    """The original procedure's failure, the Type-C trap.

    Intel host, Quadro RTX 6000 with four functions in one group, the USB
    controller held by a built-in xhci_hcd.
    """
    host = FakeHost(root, cpu=INTEL, cmdline='intel_iommu=on iommu=pt',
                    modules=('vfio_pci', 'vfio_iommu_type1', 'vfio'),
                    builtin=('usb/host/xhci-pci', 'usb/host/xhci-hcd'),
                    os_id='centos')
    host.add('0000:3b:00.0', '10de:1e30', '030000', driver='vfio-pci',
             module='vfio_pci', group=40)
    host.add('0000:3b:00.1', '10de:10f7', '040300', driver='vfio-pci',
             module='vfio_pci', group=40)
    host.add('0000:3b:00.2', '10de:1ad6', '0c0330', driver='xhci_hcd',
             group=40)
    host.add('0000:3b:00.3', '10de:1ad7', '0c8000', driver='vfio-pci',
             module='vfio_pci', group=40)
    host.etc('/etc/modprobe.d/blacklist.conf',
             'blacklist nouveau\noptions nouveau modset=0\n')
    host.etc('/etc/modprobe.d/vfio.conf',
             'options vfio-pci ids=10de:1e30,10de:10f7,10de:1ad7\n')
    return host


def rtx3090_audio(root):
    """A 3090 on vfio-pci whose audio function is still on snd_hda_intel."""
    host = FakeHost(root, cpu=AMD, cmdline='iommu=pt',
                    modules=('vfio_pci', 'vfio_iommu_type1', 'vfio',
                             'snd_hda_intel'))
    host.add('0000:41:00.0', '10de:2204', '030000', driver='vfio-pci',
             module='vfio_pci', group=30)
    host.add('0000:41:00.1', '10de:1aef', '040300', driver='snd_hda_intel',
             module='snd_hda_intel', group=30)
    host.etc('/etc/modprobe.d/blacklist-nouveau.conf',
             'blacklist nouveau\noptions nouveau modeset=0\n')
    return host


def v100s_iommu_off(root):
    """Intel host with a V100S, IOMMU off: no groups at all."""
    host = FakeHost(root, cpu=INTEL, cmdline='quiet', iommu=False,
                    modules=('nouveau',))
    host.add('0000:5e:00.0', '10de:1df6', '030200', driver='nouveau',
             module='nouveau')
    return host
