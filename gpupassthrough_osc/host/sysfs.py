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

"""Read what a compute host's kernel says, under a root path.

Everything is read relative to ``root`` (``/`` on a real host, a fake tree
in tests): sysfs (``/sys/bus/pci/devices``, ``/sys/kernel/iommu_groups``,
``/sys/class/iommu``, ``/sys/module``), ``/proc/cmdline``,
``/proc/cpuinfo``, ``/proc/modules``, ``modules.builtin`` of the running
kernel, the modprobe.d directories, the boot configuration ``host config``
compares with (:data:`BOOT_CONFIG`), ``/etc/os-release`` and pci.ids.
Nothing is written.

The one module of host/ that touches the machine: checks and config only
reason over the :class:`HostFacts` read here.
"""

import dataclasses
import functools
import glob
import os

# The names the kernel uses: a PCI address (0000:21:00.0), an IOMMU group
# number, a module name; a modprobe.d line with the file it is in.
Address = str
IommuGroup = str
ModprobeLine = tuple[str, str]

MODPROBE_DIRS = ('/etc/modprobe.d', '/lib/modprobe.d', '/usr/lib/modprobe.d')
# the files host/config.py writes, by the patterns of their siblings: what
# they already hold decides whether a change is needed
BOOT_CONFIG = ('/etc/modules-load.d/*.conf', '/etc/modules',
               '/etc/dracut.conf.d/*.conf', '/etc/initramfs-tools/modules')
PCI_IDS_PATHS = ('/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids',
                 '/usr/share/pci.ids')

VFIO_DRIVERS = ('vfio-pci', 'pci-stub')

# sysfs driver name -> module name, where they differ.
DRIVER_MODULES = {
    'xhci_hcd': 'xhci_pci',
    'nvidia-gpu': 'i2c_nvidia_gpu',
    'vfio-pci': 'vfio_pci',
    'pci-stub': 'pci_stub',
}


@dataclasses.dataclass(frozen=True)
class PciFunction:
    address: Address
    vendor_id: str
    device_id: str
    pci_class: str          # six hex digits, e.g. 030000
    driver: str | None
    driver_module: str | None
    iommu_group: IommuGroup | None
    sriov_totalvfs: int = 0
    sriov_numvfs: int = 0
    physfn: Address | None = None
    numa_node: int | None = None

    @property
    def ids(self) -> str:
        return f'{self.vendor_id}:{self.device_id}'

    @property
    def base_class(self) -> str:
        return self.pci_class[:4]

    @property
    def is_gpu(self) -> bool:
        # 0300 VGA, 0302 3D controller (the V100S and A40 are 0302)
        return self.base_class in ('0300', '0302')

    @property
    def is_bridge(self) -> bool:
        return self.pci_class.startswith('06')


@dataclasses.dataclass
class HostFacts:
    root: str
    cpu_vendor: str | None
    cmdline: list[str]
    iommu_units: list[str]
    groups: dict[IommuGroup, list[Address]]
    functions: dict[Address, PciFunction]
    loaded_modules: set[str]
    builtin_modules: set[str]
    sys_modules: set[str]
    modprobe_lines: list[ModprobeLine]  # of MODPROBE_DIRS' *.conf
    kernel_release: str | None
    os_ids: list[str]        # ID and ID_LIKE of /etc/os-release
    # path under root -> its lines (not blank, not comments), of the
    # modprobe.d files and BOOT_CONFIG
    config_files: dict[str, list[str]] = dataclasses.field(
        default_factory=dict)

    def module_present(self, name: str) -> bool:
        """Loaded as a module, or built into the kernel."""
        name = name.replace('-', '_')
        return name in (self.loaded_modules | self.builtin_modules |
                        self.sys_modules)

    def is_builtin(self, module: str | None) -> bool:
        return module is not None and module.replace('-', '_') in \
            self.builtin_modules

    def group_of(self, address: Address) -> list[PciFunction]:
        fn = self.functions.get(address)
        if fn is None or fn.iommu_group is None:
            return []
        return [self.functions[a] for a in self.groups.get(fn.iommu_group,
                                                           [])
                if a in self.functions]


def _path(root: str, *parts: str) -> str:
    return os.path.join(root, *(p.lstrip('/') for p in parts))


def _read_file(path: str, default: str | None = None) -> str | None:
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read().strip()
    except OSError:
        return default


def _read(root: str, *parts: str,
          default: str | None = None) -> str | None:
    return _read_file(_path(root, *parts), default)


def _link_name(path: str) -> str | None:
    try:
        return os.path.basename(os.readlink(path))
    except OSError:
        return None


def _int(value: str | None, default: int = 0) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _hex(value: str | None, width: int) -> str:
    value = (value or '').lower()
    if value.startswith('0x'):
        value = value[2:]
    return value.zfill(width)[-width:] if value else '?' * width


def read_function(root: str, address: Address) -> PciFunction:
    base = _path(root, '/sys/bus/pci/devices', address)
    driver = _link_name(os.path.join(base, 'driver'))
    module = _link_name(os.path.join(base, 'driver', 'module'))
    if driver and not module:
        module = DRIVER_MODULES.get(driver, driver.replace('-', '_'))

    def attr(name: str) -> str | None:
        return _read_file(os.path.join(base, name))

    numa = attr('numa_node')
    return PciFunction(
        address=address,
        vendor_id=_hex(attr('vendor'), 4),
        device_id=_hex(attr('device'), 4),
        pci_class=_hex(attr('class'), 6),
        driver=driver,
        driver_module=module,
        iommu_group=_link_name(os.path.join(base, 'iommu_group')),
        sriov_totalvfs=_int(attr('sriov_totalvfs')),
        sriov_numvfs=_int(attr('sriov_numvfs')),
        physfn=_link_name(os.path.join(base, 'physfn')),
        numa_node=None if _int(numa, -1) < 0 else _int(numa))


def _cpu_vendor(root: str) -> str | None:
    text = _read(root, '/proc/cpuinfo', default='') or ''
    for line in text.splitlines():
        if line.startswith('vendor_id'):
            return line.split(':', 1)[1].strip()
    return None


def _modules_builtin(root: str, release: str | None) -> set[str]:
    names = set()
    paths = [_path(root, '/lib/modules', release, 'modules.builtin')] \
        if release else []
    paths += glob.glob(_path(root, '/lib/modules/*/modules.builtin'))[:1]
    for path in paths:
        try:
            with open(path) as f:
                for line in f:
                    name = os.path.basename(line.strip())
                    if name.endswith('.ko'):
                        names.add(name[:-3].replace('-', '_'))
        except OSError:
            continue
        break
    return names


def _config_files(root: str, *patterns: str) -> dict[str, list[str]]:
    """Path under ``root`` -> stripped lines, comments and blanks left out."""
    files = {}
    for pattern in patterns:
        for path in sorted(glob.glob(_path(root, pattern))):
            try:
                with open(path, encoding='utf-8', errors='replace') as f:
                    lines = [line.strip() for line in f if line.strip() and
                             not line.lstrip().startswith('#')]
            except OSError:
                continue
            files['/' + os.path.relpath(path, root)] = lines
    return files


def _os_ids(root: str) -> list[str]:
    ids = []
    text = _read(root, '/etc/os-release', default='') or ''
    for line in text.splitlines():
        key, _, value = line.partition('=')
        if key in ('ID', 'ID_LIKE'):
            ids.extend(value.strip('"\'').split())
    return ids


def _listdir(root: str, *parts: str) -> list[str]:
    try:
        return sorted(os.listdir(_path(root, *parts)))
    except OSError:
        return []


def read_host(root: str = '/') -> HostFacts:
    """Everything the checks need, read once."""
    release = _read(root, '/proc/sys/kernel/osrelease')
    functions = {a: read_function(root, a)
                 for a in _listdir(root, '/sys/bus/pci/devices')}
    groups = {g: _listdir(root, '/sys/kernel/iommu_groups', g, 'devices')
              for g in _listdir(root, '/sys/kernel/iommu_groups')}
    modules = set()
    for line in (_read(root, '/proc/modules', default='') or '').splitlines():
        if line.strip():
            modules.add(line.split()[0])
    modprobe = _config_files(root, *(f'{d}/*.conf' for d in MODPROBE_DIRS))
    return HostFacts(
        root=root,
        cpu_vendor=_cpu_vendor(root),
        cmdline=(_read(root, '/proc/cmdline', default='') or '').split(),
        iommu_units=_listdir(root, '/sys/class/iommu'),
        groups=groups,
        functions=functions,
        loaded_modules=modules,
        builtin_modules=_modules_builtin(root, release),
        sys_modules=set(_listdir(root, '/sys/module')),
        modprobe_lines=[(_path(root, path), line)
                        for path, lines in modprobe.items()
                        for line in lines],
        kernel_release=release,
        os_ids=_os_ids(root),
        config_files={**modprobe, **_config_files(root, *BOOT_CONFIG)})


@functools.lru_cache(maxsize=4)
def read_pci_ids(root: str = '/') -> dict[tuple[str, str], str]:
    """(vendor, device) -> name from the first pci.ids under ``root``.

    For pci.catalog's names of devices the built-in table lacks; {} when
    the system has none. Read once per root.
    """
    for path in PCI_IDS_PATHS:
        full = _path(root, path)
        if os.path.exists(full):
            return _parse_pci_ids(full)
    return {}


def _parse_pci_ids(path: str) -> dict[tuple[str, str], str]:
    names = {}
    vendor = ''
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            if line.startswith('C '):
                break  # device classes follow the vendors
            if not line.strip() or line.startswith('#'):
                continue
            if not line[0].isspace():
                vendor = line[:4].lower()
            elif line.startswith('\t') and not line.startswith('\t\t'):
                names[(vendor, line[1:5].lower())] = line[5:].strip()
    return names
