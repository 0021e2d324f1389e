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

"""``openstack gpu flavor|server explain``: host by host, why not.

The engine is pci/explain.py; this module parses options, finds the
flavor or the server, and shapes rows.
"""

from osc_lib.cli import format_columns
from osc_lib.command import command
from osc_lib import exceptions

from gpupassthrough_osc.commands import common
from gpupassthrough_osc.commands import inventory
from gpupassthrough_osc.pci import explain
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import scheduler
from gpupassthrough_osc.sources import settings

COLUMNS = ('Cell', 'Host', 'Matching', 'Free', 'Verdict', 'Step', 'Reason')
TOTAL = '(all hosts)'


def add_host_options(parser):
    parser.add_argument(
        '--host', metavar='<host>',
        help='Only this compute host (host or hypervisor_hostname)')
    parser.add_argument(
        '--all-hosts', action='store_true',
        help='Also list hosts with no device the flavor\'s aliases name '
             '(by default they are only counted in the last row)')


def find_flavor(flavors, ref):
    """The flavor named or with the ID ``ref``, or a one-line error."""
    if flavors is None:
        raise exceptions.CommandError(
            'no flavors to look in: give --api-db-connection (or '
            f'${settings.API_DB_ENV}), cloud credentials, or --flavors FILE')
    by_id = [f for f in flavors if f.id == ref]
    by_name = [f for f in flavors if f.name == ref]
    found = by_id or by_name
    if not found:
        raise exceptions.CommandError(f'no flavor with name or ID {ref!r}')
    if len(found) > 1:
        raise exceptions.CommandError(
            f"more than one flavor is named {ref!r} "
            f"({', '.join(f.id for f in found)}): give the ID")
    return found[0]


def rows(result):
    """The table: one row per host, then the totals."""
    out = [(r.cell, r.host, r.matching, r.free, r.verdict, r.step,
            r.reason) for r in result.hosts]
    counts = result.counts()
    reason = (f'{result.unlisted} more host(s) have no device the aliases '
              f'name (--all-hosts lists them)' if result.unlisted else '')
    step = result.blocked.split(': ', 1)[0]
    if result.refusals:
        step = ', '.join(code for code, _message in result.refusals)
        reason = '; '.join([*(m for _c, m in result.refusals), reason])
    out.append(('', TOTAL, sum(r.matching for r in result.hosts),
                sum(r.free for r in result.hosts),
                ', '.join(f'{n} {v}' for v, n in counts.items()),
                step, reason.strip('; ')))
    return out


class ExplainFlavor(common.FailOn, command.Lister):
    """Say host by host whether a flavor can boot, and if not, why.

    One row per compute host that holds a device the flavor's aliases
    name: how many such devices it has and how many are free, the verdict
    (fits now, fits once devices are freed, never fits) and the first step
    of nova's path that refuses it, in nova's words and with the numbers it
    saw: alias translation, the scheduler's PF/VF/vdpa filtering, all
    requests on one host, free devices. The last row gives the totals and
    what refuses the flavor whichever host a boot lands on (a scheduler
    that never checks PCI devices).
    Reads the same sources as `openstack gpu device audit`. Exits 0 when at
    least one host can take the flavor now, 1 otherwise.
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('flavor', metavar='<flavor>',
                            help='Flavor to explain (name or ID)')
        add_host_options(parser)
        inventory.add_source_options(parser)
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        sources = inventory.sources(self.app, parsed_args)
        data = sources.inventory()
        flavor = find_flavor(data.flavors, parsed_args.flavor)
        result = explain.explain_flavor(data, flavor, parsed_args.host,
                                        parsed_args.all_hosts)
        if parsed_args.host and not result.hosts:
            raise exceptions.CommandError(
                f'no live compute host {parsed_args.host!r} in the data '
                f'read')
        for note in data.notes:
            self.app.stderr.write(f'NOTE: {note}\n')
        self._failed = not result.boots_now
        return COLUMNS, rows(result)


SERVER_FIELDS = ('ID', 'Name', 'Cell', 'Host', 'State', 'Fault',
                 'Fault Details', 'Flavor', 'PCI Requests', 'Guest NUMA',
                 'Forced Hosts', 'Ignored Hosts', 'Devices', 'Hosts',
                 'Cause', 'Notes')


def _pci_requests(spec):
    if not spec or spec.pci_requests is None:
        return None
    return [f"{r.alias_name or '(port)'}:{r.count} {list(r.spec or ())}"
            f"{' numa_policy=' + r.numa_policy if r.numa_policy else ''}"
            for r in spec.pci_requests]


def _guest_numa(spec):
    if not spec or spec.numa_cells is None:
        return None
    return [f'cell {c.id}: cpus {sorted(c.cpuset or ())} pinned '
            f'{sorted(c.pcpuset or ())} {c.memory} MiB '
            f'({c.cpu_policy or "shared"})' for c in spec.numa_cells]


def _last_line(details):
    """The exception line of nova's fault details (a traceback)."""
    lines = (details or '').strip().splitlines()
    return lines[-1] if lines else None


class ExplainServer(common.TextValues, command.ShowOne):
    """Say why a server did not boot, host by host, and which cause it was.

    Finds the server (name or UUID, any cell, cell0 included: nova puts
    boots no host could take there) and shows its state, its fault
    (instance_faults), its request spec (request_specs in the API
    database: flavor, PCI requests, guest NUMA cells, forced and ignored
    hosts), the devices it holds when it booted, then the same
    host-by-host verdicts as `openstack gpu flavor explain` for its flavor
    as of now, and one line saying which of those causes matches nova's
    fault. Read-only database access is enough; offline, give
    `openstack server show SERVER -f json` output with --server-show.
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('server', metavar='<server>',
                            help='Server to explain (name or UUID)')
        parser.add_argument(
            '--server-show', metavar='<file>',
            help='`openstack server show SERVER -f json` output, instead '
                 'of reading the server from the database')
        add_host_options(parser)
        inventory.add_source_options(parser)
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        sources = inventory.sources(self.app, parsed_args)
        server = sources.server(parsed_args.server,
                                parsed_args.server_show)
        spec = server.request_spec
        notes = list(server.notes)
        hosts, cause = None, None
        flavor = None
        if spec and spec.flavor and spec.flavor.extra_specs is None:
            flavor = _listed_flavor(sources, spec.flavor, notes)
        elif spec and spec.flavor:
            flavor = model.Flavor(spec.flavor.flavorid or '',
                                  spec.flavor.name or '(unnamed)',
                                  dict(spec.flavor.extra_specs or {}),
                                  spec.flavor.vcpus, spec.flavor.memory_mb)
        if flavor:
            # the NUMA cells too when nova gave the guest a topology
            pools, nodes, _leaks = sources.device_data(
                with_leaks=False, with_numa=spec.numa_cells is not None or
                scheduler.has_guest_numa_topology(flavor.specs))
            data = model.Inventory(confs=sources.confs, pools=pools,
                                   nodes=nodes, notes=list(sources.notes))
            notes += data.notes
            result = explain.explain_flavor(data, flavor, parsed_args.host,
                                            parsed_args.all_hosts)
            hosts = [dict(zip(COLUMNS, row)) for row in rows(result)]
            fault = server.fault.message if server.fault else None
            cause = explain.matching_cause(result, fault)
        elif not (spec and spec.flavor):
            notes.append('no request spec with a flavor: hosts not '
                         'explained')
        if server.devices:
            cause = 'booted on {} with {}'.format(server.host, ', '.join(
                f'{d.address} ({d.vendor_id}:{d.product_id} {d.dev_type})'
                for d in server.devices))
        fault = server.fault
        return SERVER_FIELDS, (
            server.uuid, server.name, server.cell, server.host,
            server.status or server.vm_state,
            fault.message if fault else None,
            _last_line(fault.details) if fault else None,
            spec.flavor.name if spec and spec.flavor else None,
            format_columns.ListColumn(_pci_requests(spec)),
            format_columns.ListColumn(_guest_numa(spec)),
            format_columns.ListColumn(spec.force_hosts if spec else None),
            format_columns.ListColumn(spec.ignore_hosts if spec else None),
            format_columns.ListColumn(
                [f'{d.address} {d.vendor_id}:{d.product_id} {d.dev_type} '
                 f'{d.status}' for d in server.devices]
                if server.devices is not None else None),
            format_columns.ListDictColumn(hosts), cause,
            format_columns.ListColumn(notes))


def _listed_flavor(sources, named, notes):
    """The flavor ``server show`` names without its extra specs.

    Below compute API microversion 2.47 it gives only "NAME (ID)": the
    PCI request is in the flavor's extra specs, so they come from the
    flavors the sources read (the API database, --flavors, the compute
    API), or the hosts are not explained at all rather than judged for a
    flavor that seems to ask for nothing.
    """
    flavors = sources.flavors()
    for ref in filter(None, (named.flavorid, named.name)):
        try:
            return find_flavor(flavors, ref)
        except exceptions.CommandError:
            continue
    notes.append(f'hosts not explained: the extra specs of flavor '
                 f'{named.name or named.flavorid} are unknown; give '
                 f'--flavors FILE, the API database or cloud credentials')
    return None
