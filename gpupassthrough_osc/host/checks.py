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

"""The compute-host half of GPU passthrough, one check per function.

Each check takes the :class:`~gpupassthrough_osc.host.sysfs.HostFacts`
snapshot and the GPUs in question and returns :class:`Check` rows. Nothing
here reads the machine.
"""

from collections.abc import Callable, Iterable
import dataclasses

from gpupassthrough_osc.host import sysfs
# names, not the module: every check builds Check(..., OK, ...) rows
from gpupassthrough_osc.severity import ERROR
from gpupassthrough_osc.severity import OK
from gpupassthrough_osc.severity import WARNING

VFIO_MODULES = ('vfio', 'vfio_pci', 'vfio_iommu_type1')


@dataclasses.dataclass(frozen=True)
class Check:
    check: str
    subject: str
    status: str
    seen: str
    fix: str = ''


Gpus = list[sysfs.PciFunction]
# Every check: the host's facts and the GPUs in question -> its rows.
CheckFunc = Callable[[sysfs.HostFacts, Gpus], list[Check]]


def select_gpus(facts: sysfs.HostFacts,
                wanted: Iterable[str] = ()) -> Gpus:
    """GPU functions, optionally only those with the given vendor:device.

    A function named by ``--gpu`` counts even when its class is not a
    display class, so odd cards can still be checked.
    """
    ids = {w.lower() for w in wanted}
    return [fn for fn in facts.functions.values()
            if (fn.ids in ids if ids else fn.is_gpu) and
            not fn.physfn]


def companions(facts: sysfs.HostFacts,
               gpu: sysfs.PciFunction) -> Gpus:
    """Other endpoints of the GPU's IOMMU group (bridges do not count)."""
    return [fn for fn in facts.group_of(gpu.address)
            if fn.address != gpu.address and not fn.is_bridge]


def is_intel(facts: sysfs.HostFacts) -> bool:
    return facts.cpu_vendor == 'GenuineIntel'


def is_amd(facts: sysfs.HostFacts) -> bool:
    return facts.cpu_vendor == 'AuthenticAMD'


def iommu_cmdline(facts: sysfs.HostFacts, gpus: Gpus) -> list[Check]:
    args = facts.cmdline
    subject = '/proc/cmdline'
    if is_intel(facts):
        if 'intel_iommu=on' in args:
            return [Check('iommu-cmdline', subject, OK,
                          'Intel CPU, intel_iommu=on')]
        return [Check('iommu-cmdline', subject, ERROR,
                      'Intel CPU without intel_iommu=on',
                      'add intel_iommu=on to the kernel command line '
                      '(openstack gpu host config)')]
    if is_amd(facts):
        seen = 'AMD CPU: the IOMMU is on by default'
        if 'amd_iommu=on' in args:
            seen += ('; amd_iommu=on is not an accepted value (harmless, '
                     'not needed)')
        return [Check('iommu-cmdline', subject, OK, seen)]
    return [Check('iommu-cmdline', subject, WARNING,
                  f'unknown CPU vendor {facts.cpu_vendor}',
                  'enable the IOMMU as the platform documents')]


def iommu_active(facts: sysfs.HostFacts, gpus: Gpus) -> list[Check]:
    if facts.iommu_units and facts.groups:
        return [Check('iommu-active', '/sys/kernel/iommu_groups', OK,
                      f'{len(facts.iommu_units)} IOMMU unit(s), '
                      f'{len(facts.groups)} group(s)')]
    fix = ('enable VT-d (Intel) or AMD-Vi/IOMMU in the firmware setup' +
           (' and add intel_iommu=on' if is_intel(facts) else '') +
           ', then reboot; libvirt says "no iommu_group found" until then')
    return [Check('iommu-active', '/sys/kernel/iommu_groups', ERROR,
                  'no IOMMU groups: the IOMMU is off', fix)]


def iommu_passthrough(facts: sysfs.HostFacts, gpus: Gpus) -> list[Check]:
    if 'iommu=pt' in facts.cmdline:
        return [Check('iommu-pt', '/proc/cmdline', OK, 'iommu=pt')]
    return [Check('iommu-pt', '/proc/cmdline', WARNING,
                  'iommu=pt not set: host DMA goes through the IOMMU too',
                  'add iommu=pt to the kernel command line')]


def _modprobe_has(facts: sysfs.HostFacts, *words: str) -> list[str]:
    return [path for path, line in facts.modprobe_lines
            if line.split()[:len(words)] == list(words)]


def nouveau(facts: sysfs.HostFacts, gpus: Gpus) -> list[Check]:
    results = []
    if 'nouveau' in facts.loaded_modules:
        results.append(Check(
            'nouveau', 'nouveau', ERROR, 'nouveau is loaded',
            'blacklist it (openstack gpu host config --write), rebuild the '
            'initramfs and reboot'))
    blacklisted = _modprobe_has(facts, 'blacklist', 'nouveau')
    if not blacklisted:
        results.append(Check(
            'nouveau', 'modprobe.d', WARNING if not results else ERROR,
            'nouveau is not blacklisted',
            'blacklist nouveau / options nouveau modeset=0 in '
            '/etc/modprobe.d, then rebuild the initramfs'))
    typo = [p for p, line in facts.modprobe_lines
            if line.startswith('options nouveau') and 'modset=' in line]
    if typo:
        results.append(Check(
            'nouveau', typo[0], WARNING,
            '"options nouveau modset=0": the kernel ignores the misspelt '
            'option', 'write modeset=0'))
    if not results:
        results.append(Check('nouveau', 'nouveau', OK,
                             'not loaded, blacklisted'))
    return results


def vfio_modules(facts: sysfs.HostFacts, gpus: Gpus) -> list[Check]:
    missing = [m for m in VFIO_MODULES if not facts.module_present(m)]
    if missing:
        return [Check('vfio-modules', 'modules', ERROR,
                      f"not loaded: {', '.join(missing)}",
                      'load them at boot: /etc/modules-load.d/vfio.conf '
                      '(openstack gpu host config)')]
    return [Check('vfio-modules', 'modules', OK,
                  ', '.join(VFIO_MODULES) + ' present')]


def _driver_text(facts: sysfs.HostFacts, fn: sysfs.PciFunction) -> str:
    if fn.driver is None:
        return 'no driver'
    built_in = facts.is_builtin(fn.driver_module)
    return (f'{fn.driver}' + (' (built into the kernel: modprobe options '
                              'cannot win)' if built_in else ''))


def gpu_binding(facts: sysfs.HostFacts, gpus: Gpus) -> list[Check]:
    results = []
    for gpu in gpus:
        if gpu.driver in sysfs.VFIO_DRIVERS:
            results.append(Check('gpu-driver', f'{gpu.address} {gpu.ids}',
                                 OK, f'bound to {gpu.driver}'))
        else:
            results.append(Check(
                'gpu-driver', f'{gpu.address} {gpu.ids}', ERROR,
                f'held by {_driver_text(facts, gpu)}',
                f'bind it to vfio-pci: options vfio-pci ids={gpu.ids} '
                f'(openstack gpu host config)'))
    return results


def iommu_group_viable(facts: sysfs.HostFacts, gpus: Gpus) -> list[Check]:
    """Every other endpoint of each GPU's group off host drivers.

    They must be on vfio-pci or pci-stub (or unbound), or QEMU says
    "group N is not viable" and nova exhausts every host.
    """
    results = []
    for gpu in gpus:
        if gpu.iommu_group is None:
            continue
        held = [fn for fn in companions(facts, gpu)
                if fn.driver and fn.driver not in sysfs.VFIO_DRIVERS]
        subject = f'group {gpu.iommu_group} ({gpu.address})'
        if not held:
            count = len(companions(facts, gpu))
            results.append(Check('iommu-group', subject, OK,
                                 f'{count} companion function(s), none on '
                                 f'a host driver'))
            continue
        seen = '; '.join(f'{fn.address} {fn.ids} held by '
                         f'{_driver_text(facts, fn)}' for fn in held)
        builtin = any(facts.is_builtin(fn.driver_module) for fn in held)
        ids = ','.join(sorted({fn.ids for fn in facts.group_of(
            gpu.address) if not fn.is_bridge}))
        fix = (f'vfio-pci.ids={ids} on the kernel command line (a built-in '
               f'driver wins over modprobe.d)' if builtin else
               f'options vfio-pci ids={ids} and softdep lines in '
               f'/etc/modprobe.d/vfio.conf')
        results.append(Check('iommu-group', subject, ERROR,
                             f'group not viable: {seen}',
                             fix + ' (openstack gpu host config)'))
    return results


def nova_dev_type(facts: sysfs.HostFacts, gpus: Gpus) -> list[Check]:
    """The dev_type nova will record for each GPU.

    nova/virt/libvirt/host.py: SR-IOV capable (sriov_totalvfs > 0) means
    type-PF, so the alias then needs "device_type": "type-PF".
    """
    results = []
    for gpu in gpus:
        if gpu.sriov_totalvfs > 0:
            seen = (f'sriov_totalvfs={gpu.sriov_totalvfs}: nova records '
                    f'type-PF; the alias needs "device_type": "type-PF"')
        else:
            seen = 'not SR-IOV capable: nova records type-PCI'
        results.append(Check('nova-dev-type', f'{gpu.address} {gpu.ids}',
                             OK, seen))
        if gpu.sriov_numvfs > 0:
            results.append(Check(
                'sriov-vfs', f'{gpu.address} {gpu.ids}', WARNING,
                f'{gpu.sriov_numvfs} VFs enabled on a GPU passed through '
                f'whole: nova records both and a PF with VFs in use is '
                f'unavailable', 'echo 0 > sriov_numvfs, or pass the VFs '
                'instead (alias device_type type-VF)'))
    return results


def no_gpu(facts: sysfs.HostFacts, gpus: Gpus) -> list[Check]:
    if gpus:
        return []
    return [Check('gpus', 'PCI devices', WARNING,
                  'no GPU found (class 0300/0302, or --gpu ids)',
                  'nothing to pass through on this host')]


CHECKS: tuple[CheckFunc, ...] = (
    iommu_cmdline, iommu_active, iommu_passthrough, nouveau, vfio_modules,
    no_gpu, gpu_binding, iommu_group_viable, nova_dev_type)


def run(facts: sysfs.HostFacts, wanted: Iterable[str] = ()) -> list[Check]:
    gpus = select_gpus(facts, wanted)
    results = []
    for check in CHECKS:
        results.extend(check(facts, gpus))
    return results
