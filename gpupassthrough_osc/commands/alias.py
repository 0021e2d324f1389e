"""``openstack gpu alias``: nova's ``[pci] alias`` definitions."""

from osc_lib.command import command
from osc_lib import exceptions

from gpupassthrough_osc.commands import common
from gpupassthrough_osc.pci import alias as pci_alias


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

    def take_action(self, parsed_args):
        confs = common.load_nova_confs(parsed_args.nova_conf)
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
                             entry.numa_policy, entry.valid, entry.reason,
                             entry.raw))
        return columns, rows
