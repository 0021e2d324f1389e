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

"""``openstack gpu device``: nova's PCI inventory and the audit."""

import logging
import time

from osc_lib.command import command
from osc_lib import exceptions

from gpupassthrough_osc.commands import common
from gpupassthrough_osc.commands import inventory
from gpupassthrough_osc.host import sysfs
from gpupassthrough_osc.pci import audit
from gpupassthrough_osc.pci import catalog
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.sources import devicefilter

LOG = logging.getLogger(__name__)
# the line benchmarks/bench.py reads to split the audit's time
TIMING = 'audit timing: read %.3f s, rules %.3f s'


class AuditDevice(common.ApiTimeout, common.FailOn, command.Lister):
    """Find every reason nova will refuse a GPU flavor, and the fix.

    Reads [pci] alias and device_spec from nova.conf, the devices nova
    recorded (its databases, every cell, or an export), and the flavors;
    then applies nova's own rules: alias validation, the scheduler's PF/VF
    filtering, one-host satisfiability of each flavor, leaked allocations.
    Exits 1 when a finding at or above --fail-on exists (after printing).
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        inventory.add_source_options(parser, placement=True)
        common.add_fail_on_option(parser)
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        sources = inventory.sources(self.app, parsed_args)
        started = time.monotonic()
        data = sources.inventory(placement=True)
        read = time.monotonic()
        findings = audit.run(data)
        LOG.debug(TIMING, read - started, time.monotonic() - read)
        self.fail_if(parsed_args, (f.severity for f in findings))
        columns = ('Severity', 'Code', 'Subject', 'Message', 'Fix')
        return columns, [(f.severity, f.code, f.subject, f.message, f.fix)
                         for f in findings]


class ListDevice(command.Lister):
    """List the PCI devices nova recorded, with host and model names.

    Live rows of pci_devices in every cell (or an export), streamed. With
    --summary: per host and model, how many devices nova has, how many are
    free and how many are allocated or claimed.
    """

    auth_required = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        inventory.add_source_options(parser, flavors=False)
        parser.add_argument('--host', metavar='<host>',
                            help='Only devices of this compute host')
        parser.add_argument('--status', metavar='<status>',
                            help='Only this status (available, allocated, '
                                 'claimed, unavailable, ...); not with '
                                 '--summary, which counts every status')
        parser.add_argument('--vendor-id', metavar='<vendor-id>',
                            help='Only this PCI vendor id, e.g. 10de')
        parser.add_argument('--product-id', metavar='<product-id>',
                            help='Only this PCI product id, e.g. 2235')
        parser.add_argument('--dev-type', metavar='<dev-type>',
                            choices=pci_pools.DEV_TYPES,
                            help='Only this nova dev_type')
        parser.add_argument('--cell', metavar='<cell>',
                            help='Only this cell (name from cell_mappings, '
                                 'or the Cell column of an export); a '
                                 'cell the source does not have is an '
                                 'error that names the cells it has')
        parser.add_argument('--summary', action='store_true',
                            help='Counts per host and model: total, free, '
                                 'used')
        return parser

    @common.maps_errors
    def take_action(self, parsed_args):
        if parsed_args.summary and parsed_args.status:
            # the summary's Free and Used columns are the status split
            raise exceptions.CommandError(
                '--status does not apply to --summary, which counts every '
                'status (Free, Used): drop one of them')
        sources = inventory.sources(self.app, parsed_args)
        device_filter = devicefilter.DeviceFilter.from_options(parsed_args)
        if parsed_args.summary:
            return self._summary(sources, device_filter)
        columns = ('Cell', 'Host', 'Address', 'Vendor ID', 'Product ID',
                   'Model', 'Dev Type', 'Status', 'NUMA Node',
                   'Instance UUID', 'Parent Address', 'Compute Node ID')
        return columns, (self._row(d)
                         for d in sources.devices(device_filter))

    @staticmethod
    def _row(dev):
        return (dev.get('cell'), dev.get('host'), dev.get('address'),
                dev['vendor_id'], dev['product_id'],
                catalog.model_name(dev['vendor_id'], dev['product_id'],
                                   sysfs.read_pci_ids()),
                dev['dev_type'], dev['status'], dev.get('numa_node'),
                dev.get('instance_uuid'), dev.get('parent_addr'),
                int(dev['compute_node_id']))

    @staticmethod
    def _summary(sources, device_filter):
        pools, nodes, _leaks = sources.device_data(with_leaks=False)
        # after the read, which knows the cells (no second query or pass)
        sources.check_cell(device_filter)
        data = model.Inventory(confs=[], pools=pools or [], nodes=nodes)
        totals = {}
        for pool in pools or []:
            node = nodes.get(pool.node_key)
            if not device_filter.selects_pool(
                    pool, node.host if node else None):
                continue
            host = data.host(*pool.node_key)
            key = (host, pool.vendor_id, pool.product_id)
            row = totals.setdefault(key, [0, 0, 0, set()])
            row[0] += pool.total
            row[1] += pool.available
            row[2] += pool.used
            row[3].add(pool.dev_type)
        columns = ('Host', 'Vendor ID', 'Product ID', 'Model', 'Dev Types',
                   'Total', 'Free', 'Used')
        rows = [(host, v, p, catalog.model_name(v, p, sysfs.read_pci_ids()),
                 ','.join(sorted(types)), total, free, used)
                for (host, v, p), (total, free, used, types)
                in sorted(totals.items(), key=lambda kv: str(kv[0]))]
        return columns, rows
