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

"""``openstack gpu flavor``: flavors that request passthrough PCI devices."""

import logging

from osc_lib.cli import format_columns
from osc_lib.cli import parseractions
from osc_lib.command import command
from osc_lib import exceptions

from gpupassthrough_osc.commands import common
from gpupassthrough_osc.pci import alias as pci_alias
from gpupassthrough_osc.pci import request as pci_request
from gpupassthrough_osc.sources import compute as compute_api
from gpupassthrough_osc.sources import novaconf

LOG = logging.getLogger(__name__)

SHOW_COLUMNS = (
    ('ID', 'id'), ('Name', 'name'), ('VCPUs', 'vcpus'), ('RAM', 'ram'),
    ('Disk', 'disk'), ('Ephemeral', 'ephemeral'), ('Swap', 'swap'),
    ('Is Public', 'is_public'), ('Description', 'description'),
)


def _add_alias_option(parser, required):
    parser.add_argument(
        '--alias',
        metavar='<name>:<count>',
        action='append',
        default=[],
        required=required,
        help=('PCI alias and device count, e.g. gpuA40:1 (repeat for '
              'several devices, or give a comma list such as '
              '"nvme155:1,gpu3080:1"). Checked with nova\'s own grammar; '
              'every device of one flavor must fit on one host.'))


def _add_alias_check_options(parser):
    common.add_nova_conf_option(
        parser, what='whose [pci] alias definitions the aliases must exist in')
    parser.add_argument(
        '--no-alias-check',
        action='store_true',
        help=('Do not refuse aliases missing from the nova.conf files. '
              'Nova itself stores such a flavor and then fails every boot '
              'with "PCI alias X is not defined".'))


def _add_numa_option(parser):
    parser.add_argument(
        '--numa-affinity-policy',
        choices=pci_alias.NUMA_POLICIES,
        help=(f'Set {pci_request.NUMA_AFFINITY_SPEC}, which overrides the '
              f'numa_policy of the aliases for this flavor.'))


def build_alias_value(parsed_args):
    """The extra spec value from --alias options."""
    with common.command_errors('invalid --alias: '):
        return pci_request.build(parsed_args.alias)


def check_aliases_defined(value, parsed_args):
    """Refuse aliases that nova.conf does not define.

    Nova checks the alias names only when it builds PCI requests at boot
    (nova/pci/request.py ``_translate_alias_to_requests``), never when a
    flavor is created, so this is the last chance to catch a typo.
    """
    if parsed_args.no_alias_check:
        return
    confs = novaconf.load_all(parsed_args.nova_conf)
    if not confs:
        LOG.info('no readable nova.conf: aliases not checked')
        return
    for conf in confs:
        config = pci_alias.parse_config(
            conf.alias, source=conf.path,
            pci_in_placement=conf.pci_in_placement)
        if config.error:
            raise exceptions.CommandError(
                f'{conf.path}: [pci] alias is invalid, nova refuses every '
                f'PCI request: Invalid PCI alias definition: {config.error}')
        for request in pci_request.translate(value):
            if request.name not in config.aliases():
                raise exceptions.CommandError(
                    f"alias '{request.name}' is not defined in [pci] alias "
                    f"of {conf.path}: nova would accept the flavor and fail "
                    f"every boot with 'PCI alias {request.name} is not "
                    f"defined' (define it, or pass --no-alias-check)")


def flavor_specs(flavor):
    return dict(getattr(flavor, 'extra_specs', None) or {})


def show_flavor(flavor, specs):
    """Columns and data for one flavor, with its PCI request parsed."""
    value = specs.get(pci_request.EXTRA_SPEC)
    requests, problem = ([], 'no pci_passthrough:alias') if value is None \
        else pci_request.parse_stored(value)
    columns = [c for c, _ in SHOW_COLUMNS] + [
        'PCI Alias', 'PCI Requests', 'PCI NUMA Affinity Policy', 'Problem',
        'Properties']
    data = [getattr(flavor, attr, None) for _, attr in SHOW_COLUMNS] + [
        value,
        format_columns.DictColumn({r.name: r.count for r in requests}),
        specs.get(pci_request.NUMA_AFFINITY_SPEC),
        problem,
        format_columns.DictColumn(specs),
    ]
    return columns, data


class _WriteSpecs:
    """Writes PCI extra specs at the best microversion the cloud offers."""

    def set_specs(self, compute, flavor_id, specs):
        microversion = compute_api.max_microversion(compute)
        if not compute_api.nova_validates_extra_specs(microversion):
            LOG.info('compute API microversion %s < 2.86: nova will not '
                     'validate the extra specs; checked client-side only',
                     microversion)
        return compute_api.set_extra_specs(
            compute, flavor_id, specs, microversion)


class CreateFlavor(common.ApiTimeout, command.ShowOne, _WriteSpecs):
    """Create a flavor that requests passthrough PCI devices.

    The flavor and its pci_passthrough:alias extra spec are created as one
    step: if nova refuses the extra specs or the project access, the new
    flavor is deleted again and the original error is reported.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='<flavor-name>',
                            help='New flavor name')
        parser.add_argument('--id', metavar='<id>',
                            help='Flavor ID (default: nova generates one)')
        _add_alias_option(parser, required=True)
        parser.add_argument('--vcpus', type=int, required=True,
                            metavar='<vcpus>', help='Number of vCPUs')
        parser.add_argument('--ram', type=int, required=True,
                            metavar='<size-mb>', help='Memory size in MiB')
        parser.add_argument('--disk', type=int, required=True,
                            metavar='<size-gb>', help='Root disk size in GiB')
        parser.add_argument('--ephemeral', type=int, default=0,
                            metavar='<size-gb>',
                            help='Ephemeral disk size in GiB (default 0)')
        parser.add_argument('--swap', type=int, default=0,
                            metavar='<size-mb>',
                            help='Swap size in MiB (default 0)')
        public = parser.add_mutually_exclusive_group()
        public.add_argument('--public', dest='public', action='store_true',
                            default=True,
                            help='Flavor usable by every project (default)')
        public.add_argument('--private', dest='public',
                            action='store_false',
                            help='Flavor usable only by projects given '
                                 'access (see --project)')
        parser.add_argument('--project', metavar='<project>',
                            help='Give this project (name or ID) access to '
                                 'the private flavor (needs --private)')
        parser.add_argument('--property', metavar='<key=value>',
                            action=parseractions.KeyValueAction,
                            dest='properties', default={},
                            help='Another extra spec to set (repeat for '
                                 'several); pci_passthrough:alias is set '
                                 'from --alias')
        parser.add_argument('--description', metavar='<description>',
                            help='Flavor description (microversion 2.55+)')
        _add_numa_option(parser)
        _add_alias_check_options(parser)
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        if parsed_args.project and parsed_args.public:
            raise exceptions.CommandError(
                '--project only applies to a --private flavor')
        if pci_request.EXTRA_SPEC in parsed_args.properties:
            raise exceptions.CommandError(
                f'set {pci_request.EXTRA_SPEC} with --alias, not --property')
        value = build_alias_value(parsed_args)
        check_aliases_defined(value, parsed_args)
        specs = dict(parsed_args.properties)
        specs[pci_request.EXTRA_SPEC] = value
        if parsed_args.numa_affinity_policy:
            specs[pci_request.NUMA_AFFINITY_SPEC] = \
                parsed_args.numa_affinity_policy

        compute = self.app.client_manager.gpu.compute
        project_id = None
        if parsed_args.project:
            project_id = self._project_id(parsed_args.project)
        attrs = {'name': parsed_args.name, 'vcpus': parsed_args.vcpus,
                 'ram': parsed_args.ram, 'disk': parsed_args.disk,
                 'ephemeral': parsed_args.ephemeral,
                 'swap': parsed_args.swap, 'is_public': parsed_args.public}
        if parsed_args.id:
            attrs['id'] = parsed_args.id
        if parsed_args.description:
            attrs['description'] = parsed_args.description
        flavor = compute.create_flavor(**attrs)
        try:
            specs = self.set_specs(compute, flavor.id, specs)
            if project_id:
                compute.flavor_add_tenant_access(flavor.id, project_id)
        except Exception as exc:
            self._roll_back(compute, flavor, exc)
        return show_flavor(flavor, specs)

    def _project_id(self, project):
        from openstackclient.identity import common as identity_common

        identity = self.app.client_manager.sdk_connection.identity
        return identity_common.find_project_id_sdk(identity, project)

    @staticmethod
    def _roll_back(compute, flavor, exc):
        try:
            compute.delete_flavor(flavor.id, ignore_missing=True)
        except Exception as delete_exc:
            raise exceptions.CommandError(
                f'flavor {flavor.name} ({flavor.id}) was created but '
                f'setting it up failed: {exc}; deleting it failed too, '
                f'delete it by hand: {delete_exc}') from exc
        raise exceptions.CommandError(
            f'flavor {flavor.name} not created: {exc} (the half-made '
            f'flavor {flavor.id} was deleted)') from exc


class ListFlavor(common.ApiTimeout, command.Lister):
    """List flavors that request passthrough PCI devices.

    One row per alias a flavor requests. A flavor whose stored value nova
    would refuse is listed with the reason in the Problem column.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--alias', metavar='<name>',
                            help='Only flavors that request this alias')
        parser.add_argument('--long', action='store_true',
                            help='Also list size, visibility, NUMA policy '
                                 'and the raw extra spec value')
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        compute = self.app.client_manager.gpu.compute
        columns = ['ID', 'Name', 'Alias', 'Count', 'Problem']
        if parsed_args.long:
            columns += ['VCPUs', 'RAM', 'Disk', 'Is Public',
                        'PCI NUMA Affinity Policy', 'Value']
        rows = []
        for flavor in compute_api.flavors_with_specs(compute):
            specs = flavor_specs(flavor)
            value = specs.get(pci_request.EXTRA_SPEC)
            if value is None:
                continue
            requests, problem = pci_request.parse_stored(value)
            if parsed_args.alias and parsed_args.alias not in {
                    r.name for r in requests}:
                continue
            for request in requests or [None]:
                row = [flavor.id, flavor.name,
                       request.name if request else None,
                       request.count if request else None, problem]
                if parsed_args.long:
                    row += [flavor.vcpus, flavor.ram, flavor.disk,
                            flavor.is_public,
                            specs.get(pci_request.NUMA_AFFINITY_SPEC), value]
                rows.append(row)
        return columns, rows


class ShowFlavor(common.ApiTimeout, command.ShowOne):
    """Show a flavor with its PCI passthrough request parsed."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('flavor', metavar='<flavor>',
                            help='Flavor to show (name or ID)')
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        compute = self.app.client_manager.gpu.compute
        flavor = compute_api.find_flavor(compute, parsed_args.flavor)
        specs = flavor_specs(flavor) or compute.fetch_flavor_extra_specs(
            flavor).extra_specs or {}
        return show_flavor(flavor, dict(specs))


class SetFlavor(common.ApiTimeout, command.Command, _WriteSpecs):
    """Replace the PCI passthrough request of a flavor."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('flavor', metavar='<flavor>',
                            help='Flavor to change (name or ID)')
        _add_alias_option(parser, required=False)
        _add_numa_option(parser)
        _add_alias_check_options(parser)
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        if not parsed_args.alias and not parsed_args.numa_affinity_policy:
            raise exceptions.CommandError(
                'nothing to set: give --alias and/or --numa-affinity-policy')
        specs = {}
        if parsed_args.alias:
            specs[pci_request.EXTRA_SPEC] = build_alias_value(parsed_args)
            check_aliases_defined(specs[pci_request.EXTRA_SPEC], parsed_args)
        if parsed_args.numa_affinity_policy:
            specs[pci_request.NUMA_AFFINITY_SPEC] = \
                parsed_args.numa_affinity_policy
        compute = self.app.client_manager.gpu.compute
        flavor = compute_api.find_flavor(compute, parsed_args.flavor)
        self.set_specs(compute, flavor.id, specs)


class UnsetFlavor(common.ApiTimeout, command.Command):
    """Remove the PCI passthrough request from a flavor."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('flavor', metavar='<flavor>',
                            help='Flavor to change (name or ID)')
        parser.add_argument('--alias', action='store_true',
                            help=f'Remove {pci_request.EXTRA_SPEC}')
        parser.add_argument('--numa-affinity-policy', action='store_true',
                            help=f'Remove {pci_request.NUMA_AFFINITY_SPEC}')
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        keys = []
        if parsed_args.alias:
            keys.append(pci_request.EXTRA_SPEC)
        if parsed_args.numa_affinity_policy:
            keys.append(pci_request.NUMA_AFFINITY_SPEC)
        if not keys:
            raise exceptions.CommandError(
                'nothing to unset: give --alias and/or '
                '--numa-affinity-policy')
        compute = self.app.client_manager.gpu.compute
        flavor = compute_api.find_flavor(compute, parsed_args.flavor)
        for key in keys:
            compute.delete_flavor_extra_specs_property(
                flavor.id, key, ignore_missing=True)
