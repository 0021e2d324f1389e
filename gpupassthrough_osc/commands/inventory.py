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

"""Where the audit's data comes from: options, precedence, and reading.

Device data: nova's databases (``--db-connection``,
``$GPUPASSTHROUGH_DB_CONNECTION``, the clouds.yaml key ``gpu_db_connection``
(which ``$OS_GPU_DB_CONNECTION`` also sets), then nova.conf ``[database]
connection``; with an API database, every cell of ``cell_mappings``) or
offline exports (``--pci-devices``). Flavors: the API database, else the
compute API when credentials are configured, else ``--flavors``, else none.
"""

import argparse
import logging
import os

from osc_lib import exceptions

from gpupassthrough_osc.commands import common
from gpupassthrough_osc.pci import audit
from gpupassthrough_osc.pci import numa
from gpupassthrough_osc.pci import placement as pci_placement
from gpupassthrough_osc.pci import pools as pci_pools
from gpupassthrough_osc.sources import compute as compute_api
from gpupassthrough_osc.sources import dburl
from gpupassthrough_osc.sources import exports
from gpupassthrough_osc.sources import novaconf
from gpupassthrough_osc.sources import novadb
from gpupassthrough_osc.sources import placement as placement_source

LOG = logging.getLogger(__name__)

# Not OS_*: openstacksdk folds every OS_* variable into the cloud config,
# which `openstack --debug` and `openstack configuration show` print.
DB_ENV = 'GPUPASSTHROUGH_DB_CONNECTION'
API_DB_ENV = 'GPUPASSTHROUGH_API_DB_CONNECTION'
DB_CLOUD_KEY = 'gpu_db_connection'
API_DB_CLOUD_KEY = 'gpu_api_db_connection'
# not *_timeout: openstacksdk turns any clouds.yaml key ending in "timeout"
# into its own api_timeout (openstack/config/loader.py)
DB_TIMEOUT_CLOUD_KEY = 'gpu_db_timeout_seconds'


# the argparse type of the URL options: its repr (which --debug logs)
# hides the password
SecretUrl = dburl.SecretUrl


def add_source_options(parser, flavors=True, placement=False):
    common.add_nova_conf_option(parser)
    db = parser.add_argument_group(
        'nova database (read-only; SELECT grants are enough)')
    db.add_argument(
        '--db-connection', metavar='<url>', type=SecretUrl,
        help=(f'Cell database URL as in nova.conf, e.g. '
              f'mysql+pymysql://nova:PASS@db/nova (?unix_socket=... and '
              f'?read_default_file=/root/.my.cnf work). Default: '
              f'${DB_ENV}, clouds.yaml "{DB_CLOUD_KEY}", then [database] '
              f'connection of the first --nova-conf. Prefer the variable '
              f'or a my.cnf file: a command line is visible to other users.'))
    db.add_argument(
        '--api-db-connection', metavar='<url>', type=SecretUrl,
        help=(f'API database URL; its cell_mappings give every cell (cell0 '
              f'skipped) and its flavors table the flavors. Default: '
              f'${API_DB_ENV}, clouds.yaml "{API_DB_CLOUD_KEY}", then '
              f'[api_database] connection of the first --nova-conf.'))
    db.add_argument(
        '--db-timeout', metavar='<seconds>', type=_seconds,
        help=(f'Give up on a database that has not connected and answered '
              f'the MySQL handshake within this many seconds (a VIP whose '
              f'backend is down accepts and never answers). Default: '
              f'clouds.yaml "{DB_TIMEOUT_CLOUD_KEY}", else '
              f'{novadb.CONNECT_TIMEOUT:g}. Each query may then wait '
              f'{novadb.READ_TIMEOUT:g} s for its answer, or this value '
              f'if larger.'))
    db.add_argument(
        '--db-workers', metavar='<count>', type=_workers,
        default=novadb.DEFAULT_WORKERS,
        help=(f'Database connections to read the cells with at once (all '
              f'cells together); with more connections than cells, each '
              f'cell\'s pci_devices is read in that many ranges, one per '
              f'connection, so a large cell uses several of the server\'s '
              f'cores. The result is the same for any count. Default: '
              f'{novadb.DEFAULT_WORKERS} (4, or the CPUs of this machine '
              f'if fewer).'))
    db.add_argument(
        '--no-db', action='store_true',
        help='Do not read any database, even when nova.conf names one '
             '(config-only mode, or exports only)')
    offline = parser.add_argument_group('offline exports (instead of a DB)')
    offline.add_argument(
        '--pci-devices', metavar='<file>', action='append', default=[],
        help=("pci_devices export: mysql -e 'select * from pci_devices\\G', "
              "mysql -B output, or `openstack gpu device list -f json` "
              "(repeat for several cells)"))
    offline.add_argument(
        '--compute-nodes', metavar='<file>',
        help="compute_nodes export (\\G or -B) for host names and, "
             "with its numa_topology column, the NUMA fit")
    if placement:
        offline.add_argument(
            '--placement-providers', metavar='<file>',
            help=('placement export (JSON keyed by compute node uuid; '
                  'see doc/source/cli/device.rst) instead of reading '
                  'placement with the cloud credentials. Read only when a '
                  '--nova-conf sets [pci] report_in_placement.'))
    if flavors:
        offline.add_argument(
            '--flavors', metavar='<file>',
            help='`openstack flavor list --long -f json` output')


def _seconds(value):
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0
    if not 0 < seconds <= 31536000:
        raise argparse.ArgumentTypeError(
            f'{value!r} is not a number of seconds above 0')
    return seconds


def _workers(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if not 0 < count <= 64:
        raise argparse.ArgumentTypeError(
            f'{value!r} is not a number of connections from 1 to 64')
    return count


def _timeouts(app, parsed_args):
    seconds = parsed_args.db_timeout
    if seconds is None:
        value = _cloud_value(app, DB_TIMEOUT_CLOUD_KEY)
        if value is None:
            return novadb.Timeouts()
        try:
            seconds = _seconds(value)
        except argparse.ArgumentTypeError as exc:
            raise exceptions.CommandError(
                f'clouds.yaml {DB_TIMEOUT_CLOUD_KEY}: {exc}')
    return novadb.Timeouts(connect=seconds,
                           read=max(seconds, novadb.READ_TIMEOUT))


def _cloud_value(app, key):
    return app.client_manager.get_configuration().get(key)


def _first(*values):
    return next((v for v in values if v), None)


def _cloud_url(app, key):
    url = _cloud_value(app, key)
    if url and dburl.password(url):
        # OSC prints the cloud config (clouds.yaml keys and OS_* variables)
        # in `openstack configuration show` and with --debug
        LOG.warning('%s (clouds.yaml, or $OS_%s) holds a password, which '
                    '`openstack configuration show` and --debug print in '
                    'clear: use $%s or ?read_default_file=/path/to/my.cnf',
                    key, key.upper(),
                    API_DB_ENV if key == API_DB_CLOUD_KEY else DB_ENV)
    return url


def _db_urls(app, parsed_args, confs):
    cell_url = _first(parsed_args.db_connection, os.environ.get(DB_ENV),
                      _cloud_url(app, DB_CLOUD_KEY),
                      *(c.database_connection for c in confs))
    api_url = _first(parsed_args.api_db_connection,
                     os.environ.get(API_DB_ENV),
                     _cloud_url(app, API_DB_CLOUD_KEY),
                     *(c.api_database_connection for c in confs))
    return cell_url, api_url


def _cell_urls(cell_url, api_url, timeouts):
    """[(name, url)] of the cells to read."""
    if api_url:
        base = cell_url or api_url
        cells = [(name, novadb.format_cell_url(url, base))
                 for name, _uuid, url in novadb.cells(api_url, timeouts)]
        if cells:
            return cells
    if cell_url:
        return [('default', cell_url)]
    return []


def _device_files(paths):
    devices = []
    for path in paths:
        cell = os.path.basename(path) if len(paths) > 1 else ''
        for dev in exports.read_devices(path):
            dev.setdefault('cell', cell)
            devices.append(dev)
    return devices


class Sources:
    """Resolves the options once; reads what each command needs."""

    def __init__(self, app, parsed_args):
        self.app = app
        self.args = parsed_args
        if parsed_args.no_db and (parsed_args.db_connection or
                                  parsed_args.api_db_connection):
            raise exceptions.CommandError(
                '--no-db contradicts --db-connection/--api-db-connection')
        self.confs = common.load_nova_confs(parsed_args.nova_conf)
        self.cell_url, self.api_url = (None, None)
        if not parsed_args.no_db and not parsed_args.pci_devices:
            self.cell_url, self.api_url = _db_urls(app, parsed_args,
                                                   self.confs)
        self.timeouts = _timeouts(app, parsed_args)
        self.notes = []
        if not self.confs:
            self.notes.append(
                f'no nova.conf read ({novaconf.DEFAULT_PATH} is not '
                f'readable): alias checks skipped; give --nova-conf PATH')

    def cells(self):
        return _cell_urls(self.cell_url, self.api_url, self.timeouts)

    def device_data(self, with_leaks=True, with_numa=False):
        """(pools, nodes, leaks) or (None, {}, None) without device data.

        ``with_numa``: read the nodes' NUMA cells from the database too
        (kilobytes per node; exports carry them when they carry them); a
        function of a DevicePool reads them only for the nodes of the
        pools it accepts.
        """
        if self.args.pci_devices:
            devices = _device_files(self.args.pci_devices)
            nodes = exports.nodes_from_devices(devices)
            nodes.update(self._export_nodes(devices))
            self.notes.append('offline export: leaked allocations need the '
                              'instances table and were not checked')
            return pci_pools.aggregate(devices), nodes, None
        cells = self.cells()
        if not cells:
            self.notes.append(
                'no nova database or --pci-devices export: device, '
                'capacity and leak checks skipped (config-only mode)')
            return None, {}, None
        return novadb.read_cells(cells, self.args.db_workers, with_leaks,
                                 self.timeouts, with_numa)

    def _export_nodes(self, devices):
        """The --compute-nodes export, keyed like the devices.

        A compute_nodes export names no cell; when the devices all come
        from one cell (``device list -f json`` says which), its nodes
        belong to that cell.
        """
        if not self.args.compute_nodes:
            return {}
        cells = {dev['cell'] for dev in devices}
        cell = cells.pop() if len(cells) == 1 else ''
        return exports.read_nodes(self.args.compute_nodes, cell)

    def devices(self, filters):
        """Stream device rows (dicts) from the DB cells or the exports."""
        if self.args.pci_devices:
            devices = _device_files(self.args.pci_devices)
            nodes = self._export_nodes(devices)
            for dev in devices:
                node = nodes.get((dev['cell'], int(dev['compute_node_id'])))
                if node and not dev.get('host'):
                    dev['host'] = node.host
                if all(str(dev.get(k) or '').lower() == str(v).lower()
                       for k, v in filters.items()):
                    yield dev
            return
        cells = self.cells()
        if not cells:
            raise exceptions.CommandError(
                'no nova database: give --db-connection, set '
                f'{DB_ENV}, or give --pci-devices FILE')
        wanted_cell = filters.pop('cell', None)
        listed = 0
        for name, url in cells:
            if wanted_cell and wanted_cell != name:
                continue
            try:
                for listed, dev in enumerate(novadb.devices(
                        name, url, filters, self.timeouts), listed + 1):
                    yield dev
            except novadb.DatabaseError as exc:
                # rows of earlier cells are printed already: say so
                before = (f' ({listed} rows of earlier cells listed: the '
                          f'list is incomplete)' if listed else '')
                raise exceptions.CommandError(
                    dburl.mask(exc) + before) from exc

    def flavors(self):
        if self.api_url:
            return novadb.flavors(self.api_url, self.timeouts)
        if getattr(self.args, 'flavors', None):
            return exports.read_flavors(self.args.flavors)
        if self.cloud_configured():
            # A cloud that refuses the credentials is an error
            # (ComputeAuthError); one that cannot be read skips the checks.
            try:
                return self._api_flavors()
            except compute_api.ComputeApiError as exc:
                self.notes.append(f'flavors skipped: {dburl.mask(exc)}')
                return None
        self.notes.append('no API database, cloud credentials or --flavors '
                          'file: flavor checks skipped')
        return None

    def cloud_configured(self):
        auth = _cloud_value(self.app, 'auth') or {}
        return bool(auth.get('auth_url') or auth.get('endpoint'))

    def _api_flavors(self):
        return [audit.Flavor(f.id, f.name, dict(f.extra_specs or {}),
                             f.vcpus, f.ram)
                for f in compute_api.read_flavors(
                    self.app.options,
                    self.app.client_manager.get_configuration())]

    def placement_views(self):
        """pci.placement.NodeView per compute node with devices, or None.

        Read only when a nova.conf sets [pci] report_in_placement and
        either --placement-providers or cloud credentials are given; a
        cloud that refuses the credentials is an error
        (PlacementAuthError), one that cannot be read skips the checks
        with a note.
        """
        path = getattr(self.args, 'placement_providers', None)
        entries = pci_placement.reporting_entries(self.confs)
        if entries is None:
            if path:
                self.notes.append('--placement-providers ignored: no '
                                  'nova.conf given sets [pci] '
                                  'report_in_placement')
            return None
        if not path and not self.cloud_configured():
            self.notes.append(
                '[pci] report_in_placement is on but neither cloud '
                'credentials nor --placement-providers FILE are given: '
                'placement providers not checked against pci_devices')
            return None
        nodes, devices = self._placement_nodes()
        if nodes is None:
            return None
        if path:
            trees = placement_source.read_export(path)
        else:
            try:
                reader = placement_source.connect(
                    self.app.options,
                    self.app.client_manager.get_configuration())
                wanted = {(d['cell'], d['compute_node_id'])
                          for d in devices}
                trees = {n['uuid']: reader.tree(n['uuid']) for n in nodes
                         if (n['cell'], n['id']) in wanted}
            except placement_source.PlacementApiError as exc:
                self.notes.append(f'placement checks skipped: {exc}')
                return None
        views, notes = placement_source.node_views(nodes, devices, trees,
                                                   entries)
        self.notes.extend(notes)
        if not path:
            try:
                for view in views:
                    view.allocations = {
                        uuid: reader.allocations(uuid)
                        for uuid in pci_placement.unallocated_holders(view)}
            except placement_source.PlacementApiError as exc:
                self.notes.append(f'placement allocations not read: {exc}')
        return views

    def _placement_nodes(self):
        """(compute node dicts with uuid, device row dicts) or (None, None).

        From the cells' databases, or from --pci-devices with a
        --compute-nodes export that has a uuid column.
        """
        if self.args.pci_devices:
            rows = (exports.read_rows(self.args.compute_nodes)
                    if self.args.compute_nodes else [])
            devices = _device_files(self.args.pci_devices)
            cells = {d['cell'] for d in devices}
            cell = cells.pop() if len(cells) == 1 else ''
            nodes = [dict(r, cell=cell, id=int(r['id'])) for r in rows
                     if r.get('uuid') and r.get('hypervisor_hostname') and
                     not int(r.get('deleted') or 0)]
            if not nodes:
                self.notes.append(
                    'placement checks need the compute nodes\' uuid and '
                    'hypervisor_hostname: give --compute-nodes with those '
                    'columns')
                return None, None
            return nodes, [dict(d, compute_node_id=int(d['compute_node_id']))
                           for d in devices]
        cells = self.cells()
        if not cells:
            self.notes.append('placement checks need pci_devices: give a '
                              'nova database or --pci-devices')
            return None, None
        nodes = [n for name, url in cells
                 for n in novadb.placement_nodes(name, url)]
        devices = [d for name, url in cells
                   for d in novadb.devices(name, url, {})]
        return nodes, devices

    def inventory(self, placement=False):
        """What the rules read; placement only when asked (the audit)."""
        data = audit.Inventory(confs=self.confs, flavors=self.flavors())
        # NUMA cells matter only to flavors with a guest NUMA topology, on
        # hosts with devices their aliases match
        data.pools, data.nodes, data.leaks = self.device_data(
            with_numa=numa.topology_wanted(data))
        data.providers = self.placement_views() if placement else None
        data.notes = list(self.notes)
        return data
