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

"""``openstack gpu flavor explain``: host by host, why a flavor fits or not.

The engine is pci/explain.py; this module parses options, finds the
flavor, and shapes rows.
"""

from osc_lib.command import command
from osc_lib import exceptions

from gpupassthrough_osc.commands import common
from gpupassthrough_osc.commands import inventory
from gpupassthrough_osc.pci import explain

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
            f'${inventory.API_DB_ENV}), cloud credentials, or --flavors FILE')
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
        sources = inventory.Sources(self.app, parsed_args)
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
