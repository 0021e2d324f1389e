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

"""``openstack gpu alias``: nova's ``[pci] alias`` definitions."""

from osc_lib.command import command
from osc_lib import exceptions

from gpupassthrough_osc.commands import common
from gpupassthrough_osc.commands import inventory
from gpupassthrough_osc.pci import alias as pci_alias
from gpupassthrough_osc.pci import catalog
from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.sources import confwriter
from gpupassthrough_osc.sources import novaconf


def _numa_policy(numa_policy, numa_policy_set):
    """The policy nova applies, marked when it is nova's default.

    nova/pci/request.py ``_get_alias_from_config`` applies ``legacy`` to
    an alias without numa_policy; an invalid line (None) gets none.
    """
    if numa_policy_set or numa_policy is None:
        return numa_policy
    return f'{numa_policy} (default)'


class ListAlias(command.Lister):
    """List the [pci] alias definitions of nova.conf files.

    One row per ``alias =`` line, with nova's verdict. Nova refuses every
    PCI request of a service whose alias list holds one invalid line, so a
    single "False" in Valid breaks all GPU flavors served by that file.
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        common.add_nova_conf_option(parser)
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        confs = novaconf.load_all(parsed_args.nova_conf)
        if not confs:
            raise exceptions.CommandError(
                'no nova.conf to read: give --nova-conf PATH')
        columns = ('Source', 'Name', 'Vendor ID', 'Product ID',
                   'Device Type', 'NUMA Policy', 'Valid', 'Reason',
                   'Definition')
        rows = []
        for conf in confs:
            config = pci_alias.parse_config(
                conf.alias, source=conf.path,
                pci_in_placement=conf.pci_in_placement)
            for entry in config.entries:
                rows.append((conf.path, entry.name, entry.vendor_id,
                             entry.product_id, entry.dev_type,
                             _numa_policy(
                                 entry.numa_policy, entry.numa_policy_set),
                             entry.valid, entry.reason,
                             entry.raw))
        return columns, rows


class CreateAlias(command.Lister):
    """Make [pci] alias lines that match what nova really recorded.

    With --device-type auto (the default) the device_type comes from nova's
    pci_devices rows: "type-PF" for SR-IOV capable GPUs such as the A40,
    which nova otherwise never hands out. Prints the line for nova.conf on
    the nova-api hosts and every compute; --write puts it into a nova.conf
    (atomically, after a timestamped backup, comments kept). Restart
    nova-api, nova-scheduler and nova-compute afterwards: nova reads
    aliases only at start.
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='<name>', nargs='?',
                            help='Alias name, as flavors will write it '
                                 '(pci_passthrough:alias=<name>:1)')
        parser.add_argument('--vendor-id', metavar='<vendor-id>',
                            help='PCI vendor id, 4 hex digits (10de)')
        parser.add_argument('--product-id', metavar='<product-id>',
                            help='PCI product id, 4 hex digits (2235)')
        parser.add_argument('--device-type', default='auto',
                            choices=('auto',) + pci_alias.DEVICE_TYPES,
                            help='device_type of the alias; auto (default) '
                                 'takes what nova recorded')
        parser.add_argument('--numa-policy',
                            choices=pci_alias.NUMA_POLICIES,
                            help='numa_policy of the alias (nova default: '
                                 'legacy)')
        parser.add_argument('--all', action='store_true',
                            help='One alias per GPU model nova recorded, '
                                 'named from the built-in catalog')
        parser.add_argument('--write', metavar='<nova.conf>',
                            help='Edit this nova.conf in place')
        parser.add_argument('--replace', action='store_true',
                            help='With --write: replace a different '
                                 'definition of the same alias name')
        inventory.add_source_options(parser, flavors=False)
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        wanted = self._wanted(parsed_args)
        rows = []
        for name, entries in wanted.items():
            values = [pci_alias.render(name, vendor_id, product_id,
                                       dev_type, parsed_args.numa_policy)
                      for vendor_id, product_id, dev_type in entries]
            action = 'printed'
            if parsed_args.write:
                action = self._write(parsed_args, name, values)
            numa_policy = _numa_policy(
                parsed_args.numa_policy or pci_alias.DEFAULT_NUMA_POLICY,
                bool(parsed_args.numa_policy))
            rows.extend((name, v, p, t, numa_policy, f'alias = {value}',
                         action)
                        for (v, p, t), value in zip(entries, values))
        columns = ('Name', 'Vendor ID', 'Product ID', 'Device Type',
                   'NUMA Policy', 'nova.conf [pci]', 'Action')
        return columns, rows

    @staticmethod
    def _write(parsed_args, name, values):
        changed, backup = confwriter.write_alias(
            parsed_args.write, name, values, parsed_args.replace)
        if not changed:
            return f'unchanged in {parsed_args.write}'
        if backup:
            return f'written to {parsed_args.write} (backup {backup})'
        return f'written to {parsed_args.write}'

    def _wanted(self, parsed_args):
        """{alias name: [(vendor_id, product_id, device_type)]}."""
        if parsed_args.all:
            if parsed_args.name or parsed_args.vendor_id or \
                    parsed_args.product_id:
                raise exceptions.CommandError(
                    '--all names the aliases itself: give no name or ids')
            return self._all_gpus(parsed_args)
        if not (parsed_args.name and parsed_args.vendor_id and
                parsed_args.product_id):
            raise exceptions.CommandError(
                'give NAME --vendor-id V --product-id P, or --all')
        vendor_id = parsed_args.vendor_id.lower()
        product_id = parsed_args.product_id.lower()
        dev_type = parsed_args.device_type
        if dev_type == 'auto':
            dev_type = pci_pools.recorded_device_type(
                self._pools(parsed_args), vendor_id, product_id)
        return {parsed_args.name: [(vendor_id, product_id, dev_type)]}

    def _pools(self, parsed_args):
        pools, _nodes, _leaks = inventory.sources(
            self.app, parsed_args).device_data(with_leaks=False)
        if pools is None:
            raise exceptions.CommandError(
                'the device_type must come from nova\'s records: give '
                '--db-connection, a nova.conf with [database] connection, '
                'or --pci-devices FILE; or pass --device-type')
        return pools

    def _all_gpus(self, parsed_args):
        pools = self._pools(parsed_args)
        wanted = {}
        for vendor_id, product_id in sorted({
                (p.vendor_id, p.product_id) for p in pools
                if p.dev_type != pci_pools.VF and catalog.is_known_gpu(
                    p.vendor_id, p.product_id)}):
            dev_type = pci_pools.recorded_device_type(
                [p for p in pools if p.dev_type != pci_pools.VF],
                vendor_id, product_id)
            name = catalog.alias_name(vendor_id, product_id)
            entries = wanted.setdefault(name, [])
            if entries and entries[0][2] != dev_type:
                raise exceptions.CommandError(
                    f'models named {name} are recorded as {entries[0][2]} '
                    f'and {dev_type}: nova needs one device_type per alias '
                    f'name; create them one by one with distinct names')
            entries.append((vendor_id, product_id, dev_type))
        if not wanted:
            raise exceptions.CommandError(
                'no GPU of the built-in catalog is recorded in pci_devices')
        return wanted
