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

"""What a compute host needs written, derived from its facts.

Produces :class:`Change` items: files with the lines they must hold,
kernel arguments, and commands to run afterwards. Each change knows
whether the host already has it, so a prepared host yields nothing to do.
"""

import dataclasses
import fnmatch

from gpupassthrough_osc.host import checks
from gpupassthrough_osc.host import sysfs

MODPROBE_VFIO = '/etc/modprobe.d/vfio.conf'
MODPROBE_NOUVEAU = '/etc/modprobe.d/blacklist-nouveau.conf'
MODULES_LOAD = '/etc/modules-load.d/vfio.conf'
DRACUT_CONF = '/etc/dracut.conf.d/vfio.conf'
INITRAMFS_MODULES = '/etc/initramfs-tools/modules'
DEFAULT_GRUB = '/etc/default/grub'
KERNEL = 'kernel command line'
RUN = 'run'


@dataclasses.dataclass
class Change:
    target: str            # a file path, KERNEL or RUN
    lines: list[str]       # what the target must contain
    needed: bool
    why: str = ''


VFIO_IDS = 'options vfio-pci ids='


def _normal(line: str) -> str:
    """A line in comparable form: blanks collapsed, vfio-pci ids sorted."""
    text = ' '.join(line.split())
    if text.startswith(VFIO_IDS) and ' ' not in text[len(VFIO_IDS):]:
        return VFIO_IDS + ','.join(sorted(text[len(VFIO_IDS):].split(',')))
    return text


def updated_text(text: str, lines: list[str]) -> str:
    """``text`` with ``lines`` added, other lines kept as they are.

    An older ``options vfio-pci ids=`` line is dropped when a new one is
    added: modprobe would apply both, the last one winning.
    """
    new = {_normal(x) for x in lines}
    drop_ids = any(x.startswith(VFIO_IDS) for x in lines)
    kept = [x for x in text.splitlines(keepends=True)
            if not (drop_ids and x.strip().startswith(VFIO_IDS) and
                    _normal(x) not in new)]
    present = {_normal(x) for x in kept}
    body = ''.join(kept)
    if body and not body.endswith('\n'):
        body += '\n'
    return body + ''.join(f'{x}\n' for x in lines
                          if _normal(x) not in present)


def distro(facts: sysfs.HostFacts, wanted: str = 'auto') -> str:
    if wanted != 'auto':
        return wanted
    ids = set(facts.os_ids)
    if ids & {'rhel', 'centos', 'fedora', 'rocky', 'almalinux'}:
        return 'rhel'
    return 'debian'


def passthrough_ids(facts: sysfs.HostFacts, gpus: checks.Gpus) -> list[str]:
    """vendor:device of every endpoint in every GPU's IOMMU group."""
    ids = set()
    for gpu in gpus:
        ids.add(gpu.ids)
        ids.update(fn.ids for fn in checks.companions(facts, gpu))
    return sorted(ids)


def _builtin_holders(facts: sysfs.HostFacts, gpus: checks.Gpus) -> list[str]:
    return sorted({fn.driver for gpu in gpus
                   for fn in [gpu, *checks.companions(facts, gpu)]
                   if fn.driver and fn.driver not in sysfs.VFIO_DRIVERS and
                   facts.is_builtin(fn.driver_module)})


def method(facts: sysfs.HostFacts, gpus: checks.Gpus,
           wanted: str = 'auto') -> str:
    """How to bind the functions to vfio-pci.

    cmdline when a built-in driver holds one (modprobe.d cannot beat a
    built-in driver), else modprobe.
    """
    if wanted != 'auto':
        return wanted
    return 'cmdline' if _builtin_holders(facts, gpus) else 'modprobe'


def _has(facts: sysfs.HostFacts, lines: list[str], *patterns: str) -> bool:
    """Do the files matching ``patterns`` hold every one of ``lines``?

    The files host/sysfs.py read (``facts.config_files``), by their path
    under the root.
    """
    present = {_normal(x) for path, file_lines in facts.config_files.items()
               if any(fnmatch.fnmatchcase(path, p) for p in patterns)
               for x in file_lines}
    return all(_normal(x) in present for x in lines)


def kernel_args(facts: sysfs.HostFacts, gpus: checks.Gpus, how: str,
                family: str) -> list[str]:
    args = []
    if checks.is_intel(facts):
        args.append('intel_iommu=on')
    args.append('iommu=pt')
    if how == 'cmdline' and gpus:
        args.append('vfio-pci.ids=' + ','.join(passthrough_ids(facts, gpus)))
        if family == 'rhel':
            args.append('rd.driver.pre=vfio-pci')
    return args


def plan(facts: sysfs.HostFacts, gpus: checks.Gpus, family: str = 'auto',
         how: str = 'auto') -> list[Change]:
    family = distro(facts, family)
    how = method(facts, gpus, how)
    changes = []

    args = kernel_args(facts, gpus, how, family)
    missing = [a for a in args if a not in facts.cmdline]
    why = (f"missing: {' '.join(missing)}" if missing else
           'already in /proc/cmdline')
    if how == 'cmdline' and gpus:
        # the original procedure's fix works too where vfio-pci is not in
        # the initramfs: pci-stub is always built in
        why += ('; vfio-pci.ids= because a built-in driver holds a function '
                '(pci-stub.ids= with the same ids also works)')
    changes.append(Change(KERNEL, args, bool(missing), why))

    ids = passthrough_ids(facts, gpus)
    if ids:
        vfio = [f"options vfio-pci ids={','.join(ids)}"]
        vfio += [f'softdep {d} pre: vfio-pci'
                 for d in _modular_holders(facts, gpus)]
        changes.append(Change(MODPROBE_VFIO, vfio, not _has(
            facts, vfio, '/etc/modprobe.d/*.conf'),
            'bind every function of the GPUs\' IOMMU groups to vfio-pci'))
    nouveau = ['blacklist nouveau', 'options nouveau modeset=0']
    changes.append(Change(MODPROBE_NOUVEAU, nouveau, not _has(
        facts, nouveau, '/etc/modprobe.d/*.conf'),
        'keep nouveau off the GPUs'))
    modules = list(checks.VFIO_MODULES)
    changes.append(Change(MODULES_LOAD, modules, not _has(
        facts, modules, '/etc/modules-load.d/*.conf', '/etc/modules'),
        'load vfio at boot'))
    if family == 'rhel':
        dracut = ['add_drivers+=" vfio vfio_iommu_type1 vfio_pci "']
        changes.append(Change(DRACUT_CONF, dracut, not _has(
            facts, dracut, '/etc/dracut.conf.d/*.conf'),
            'vfio-pci in the initramfs, before the GPU drivers'))
    else:
        changes.append(Change(INITRAMFS_MODULES, modules, not _has(
            facts, modules, INITRAMFS_MODULES),
            'vfio-pci in the initramfs'))
    if any(c.needed for c in changes):
        changes.append(Change(RUN, _commands(family, args, missing),
                              True, 'after writing the files'))
    return changes


def _modular_holders(facts: sysfs.HostFacts, gpus: checks.Gpus) -> list[str]:
    """Modules that hold a function now and need a softdep on vfio-pci.

    A softdep cannot help a built-in driver; those need the command line.
    """
    return sorted({fn.driver_module for gpu in gpus
                   for fn in [gpu, *checks.companions(facts, gpu)]
                   if fn.driver and fn.driver not in sysfs.VFIO_DRIVERS and
                   fn.driver_module and
                   not facts.is_builtin(fn.driver_module)})


def _commands(family: str, args: list[str],
              missing: list[str]) -> list[str]:
    commands = []
    if family == 'rhel':
        if missing:
            commands.append(f"grubby --update-kernel=ALL --args="
                            f"\"{' '.join(missing)}\"")
        commands.append('dracut -f --regenerate-all')
    else:
        if missing:
            commands.append('update-grub')
        commands.append('update-initramfs -u -k all')
    commands.append('reboot')
    return commands


def grub_default_update(text: str, args: list[str]) -> str:
    """/etc/default/grub with ``args`` added to GRUB_CMDLINE_LINUX_DEFAULT.

    Debian family only (RHEL uses grubby). Other lines stay as they are.
    """
    lines = text.splitlines(keepends=True)
    key = 'GRUB_CMDLINE_LINUX_DEFAULT='
    for index, line in enumerate(lines):
        if line.startswith(key):
            value = line[len(key):].strip().strip('"\'')
            present = value.split()
            value = ' '.join(present + [a for a in args if a not in present])
            lines[index] = f'{key}"{value}"\n'
            return ''.join(lines)
    if lines and not lines[-1].endswith('\n'):
        lines[-1] += '\n'
    return ''.join(lines) + f'{key}"{" ".join(args)}"\n'


def hostdev_xml(address: sysfs.Address) -> str:
    """The libvirt <hostdev> element for ``virsh attach-device``.

    The original procedure's manual test (its ``solt`` is ``slot``).
    """
    domain, bus, rest = address.split(':')
    slot, function = rest.split('.')
    return (
        "<hostdev mode='subsystem' type='pci' managed='yes'>\n"
        "  <driver name='vfio'/>\n"
        "  <source>\n"
        f"    <address domain='0x{domain}' bus='0x{bus}' "
        f"slot='0x{slot}' function='0x{function}'/>\n"
        "  </source>\n"
        "</hostdev>\n")
