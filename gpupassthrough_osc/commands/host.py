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

"""``openstack gpu host``: the compute-host side, checked and generated.

These commands run on a compute node with no cloud credentials and read
the machine under ``--root`` (``/`` by default).
"""

import os
import re

from osc_lib.command import command
from osc_lib import exceptions

from gpupassthrough_osc.commands import common
from gpupassthrough_osc.host import checks
from gpupassthrough_osc.host import config
from gpupassthrough_osc.host import sysfs
from gpupassthrough_osc.pci import catalog
from gpupassthrough_osc.sources import confwriter

# domain:bus:slot.function, as libvirt's <address> attributes take it
PCI_ADDRESS = re.compile(r'[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]')


# what a host's root has, whatever its hardware and configuration
HOST_MARKERS = ('proc/cmdline', 'sys/bus/pci/devices')


def _add_root(parser):
    parser.add_argument(
        '--root', metavar='<path>', default='/',
        help='Read the host under this directory (default /); for a copy '
             'of /sys, /proc and /etc taken from another host')


def _add_gpu(parser):
    parser.add_argument(
        '--gpu', metavar='<vendor:device>', action='append', default=[],
        help='Only this GPU (e.g. 10de:2235; repeat for several). Default: '
             'every display controller (class 0300/0302)')


def _facts(parsed_args):
    if not os.path.isdir(parsed_args.root):
        raise exceptions.CommandError(f'--root {parsed_args.root}: not a '
                                      f'directory')
    # every check reads these: without them each verdict would be a
    # confident "off" or "not loaded" about a tree that is no host
    missing = [path for path in HOST_MARKERS
               if not os.path.exists(os.path.join(parsed_args.root, path))]
    if missing:
        raise exceptions.CommandError(
            f'--root {parsed_args.root}: not a copy of a host\'s /proc and '
            f'/sys (no {", ".join(missing)})')
    for gpu in parsed_args.__dict__.get('gpu', []):
        vendor, _, device = gpu.partition(':')
        if len(vendor) != 4 or len(device) != 4:
            raise exceptions.CommandError(
                f'--gpu {gpu}: expected VENDOR:DEVICE, e.g. 10de:2235')
    return sysfs.read_host(parsed_args.root)


def _role(fn, gpu_groups):
    if fn.is_gpu:
        return 'GPU'
    if fn.is_bridge:
        return 'bridge'
    if fn.iommu_group in gpu_groups:
        return 'companion'
    return ''


class IommuGroups(command.Lister):
    """List IOMMU groups with the driver of every function.

    The original procedure's shell loop as a table. By default only the
    groups that hold a GPU: every GPU and companion (audio, USB, UCSI) in
    such a group must be on vfio-pci or pci-stub.
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_root(parser)
        parser.add_argument('--all', action='store_true',
                            help='Every IOMMU group, not just GPU groups')
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        facts = _facts(parsed_args)
        columns = ('Group', 'Address', 'Class', 'Vendor:Device', 'Name',
                   'Driver', 'Role')
        if not facts.groups:
            self.app.stderr.write(
                'no IOMMU groups: the IOMMU is off (enable VT-d/AMD-Vi in '
                'the firmware; intel_iommu=on on Intel)\n')
            return columns, []
        gpu_groups = {fn.iommu_group for fn in facts.functions.values()
                      if fn.is_gpu}
        rows = []
        for group in sorted(facts.groups, key=lambda g: int(g)
                            if g.isdigit() else 0):
            if not parsed_args.all and group not in gpu_groups:
                continue
            for address in facts.groups[group]:
                fn = facts.functions.get(address)
                if fn is None:
                    continue
                rows.append((int(group) if group.isdigit() else group,
                             address, fn.pci_class[:4], fn.ids,
                             catalog.model_name(
                                 fn.vendor_id, fn.device_id,
                                 sysfs.read_pci_ids(facts.root)),
                             fn.driver, _role(fn, gpu_groups)))
        return columns, rows


class CheckHost(common.FailOn, command.Lister):
    """Check this compute host for GPU passthrough.

    IOMMU on the command line and really active, iommu=pt, nouveau not
    loaded and blacklisted, the vfio modules, every GPU and every other
    function of its IOMMU group on vfio-pci or pci-stub (naming the driver
    that holds one, and whether it is built in), and the dev_type nova will
    record for each GPU. Exits 1 when a check at or above --fail-on fails.
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_root(parser)
        _add_gpu(parser)
        common.add_fail_on_option(parser)
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        results = checks.run(_facts(parsed_args), parsed_args.gpu)
        self.fail_if(parsed_args, (r.status for r in results))
        return (('Check', 'Subject', 'Status', 'Seen', 'Fix'),
                [(r.check, r.subject, r.status, r.seen, r.fix)
                 for r in results])


class HostConfig(command.Lister):
    """Print (or write) exactly the configuration this host needs.

    Kernel arguments, /etc/modprobe.d/vfio.conf with the ids of every
    function in each GPU's IOMMU group, the nouveau blacklist,
    /etc/modules-load.d/vfio.conf, the initramfs configuration, and the
    commands to run afterwards. When a built-in driver holds a companion
    function, the ids go on the kernel command line (vfio-pci.ids=), where
    modprobe.d cannot. On a prepared host there is nothing to do.
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_root(parser)
        _add_gpu(parser)
        parser.add_argument('--distro', choices=('auto', 'rhel', 'debian'),
                            default='auto',
                            help='Distribution family (default: from '
                                 '/etc/os-release)')
        parser.add_argument('--method', choices=('auto', 'cmdline',
                                                 'modprobe'),
                            default='auto',
                            help='How to bind to vfio-pci: kernel command '
                                 'line or modprobe.d (default: cmdline '
                                 'when a built-in driver holds a function)')
        parser.add_argument('--write', action='store_true',
                            help='Write the files under --root (backups '
                                 'kept, atomic); commands are printed, '
                                 'never run')
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        facts = _facts(parsed_args)
        gpus = checks.select_gpus(facts, parsed_args.gpu)
        columns = ('Target', 'Action', 'Content', 'Why')
        if not gpus:
            self.app.stderr.write('no GPU found (class 0300/0302, or --gpu '
                                  'ids): nothing to configure\n')
            return columns, []
        changes = config.plan(facts, gpus, parsed_args.distro,
                              parsed_args.method)
        family = config.distro(facts, parsed_args.distro)
        rows = []
        for change in changes:
            action = 'needed' if change.needed else 'nothing to do'
            if parsed_args.write and change.needed:
                action = self._write(facts.root, change, family)
            rows.append((change.target, action, '\n'.join(change.lines),
                         change.why))
        return columns, rows

    def _write(self, root, change, family):
        if change.target == config.RUN:
            return 'run these now'
        if change.target == config.KERNEL:
            if family == 'rhel':
                return 'run grubby (see run)'
            return _update(root, config.DEFAULT_GRUB,
                           lambda text: config.grub_default_update(
                               text, change.lines))
        return _update(root, change.target,
                       lambda text: config.updated_text(text, change.lines))


def _update(root, path, edit):
    """Edit a file under root: backup kept, atomic replace."""
    full = os.path.join(root, path.lstrip('/'))
    # read, edit and replace under one lock (a second writer refused);
    # ConfWriteError reaches the user through common.maps_errors
    backup = confwriter.edit_file(full, edit)
    return f'written (backup {backup})' if backup else 'written'


class HostdevXml(command.Command):
    """Print the libvirt <hostdev> element for a PCI address.

    For the manual test of the original procedure: attach the device to a
    running guest with `virsh attach-device DOMAIN hostdev.xml`.
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('address', metavar='<address>',
                            help='PCI address, e.g. 0000:21:00.0 or '
                                 '21:00.0')
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        address = parsed_args.address.lower()
        if address.count(':') == 1:
            address = '0000:' + address
        if not PCI_ADDRESS.fullmatch(address):
            raise exceptions.CommandError(
                f'{parsed_args.address}: not a PCI address like '
                f'0000:21:00.0')
        self.app.stdout.write(config.hostdev_xml(address))
