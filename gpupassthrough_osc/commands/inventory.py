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

"""The options that say where the audit's data comes from.

Which reader serves them is decided in ``sources/readers.py``; their
precedence (option, environment, clouds.yaml, nova.conf) in
``sources/settings.py``. This module only declares the options and hands
the parsed ones, with the shell's cloud, to the sources.
"""

import argparse

from gpupassthrough_osc.commands import common
from gpupassthrough_osc.sources import cellread
from gpupassthrough_osc.sources import dburl
from gpupassthrough_osc.sources import novadb
from gpupassthrough_osc.sources import readers
from gpupassthrough_osc.sources import settings

# --db-workers: more connections than this would load a production
# database server for no gain (one query per core is the most it uses)
MAX_WORKERS = 64

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
              f'mysql+pymysql://nova:PASS@db/nova (?unix_socket=..., '
              f'?read_default_file=/root/.my.cnf and TLS as nova reads it, '
              f'?ssl_ca=/path/ca.pem, work). Default: '
              f'${settings.DB_ENV}, clouds.yaml "{settings.DB_CLOUD_KEY}", '
              f'then [database] connection of the first --nova-conf. '
              f'Prefer the variable or a my.cnf file: a command line is '
              f'visible to other users.'))
    db.add_argument(
        '--api-db-connection', metavar='<url>', type=SecretUrl,
        help=(f'API database URL; its cell_mappings give every cell (cell0 '
              f'skipped) and its flavors table the flavors. Default: '
              f'${settings.API_DB_ENV}, clouds.yaml '
              f'"{settings.API_DB_CLOUD_KEY}", then [api_database] '
              f'connection of the first --nova-conf.'))
    db.add_argument(
        '--db-timeout', metavar='<seconds>', type=_seconds,
        help=(f'Give up on a database that has not connected and answered '
              f'the MySQL handshake within this many seconds (a VIP whose '
              f'backend is down accepts and never answers). Default: '
              f'clouds.yaml "{settings.DB_TIMEOUT_CLOUD_KEY}", else '
              f'{novadb.CONNECT_TIMEOUT:g}. Each query may then wait '
              f'{novadb.READ_TIMEOUT:g} s for its answer, or this value '
              f'if larger.'))
    db.add_argument(
        '--db-workers', metavar='<count>', type=_workers,
        default=cellread.DEFAULT_WORKERS,
        help=(f'Database connections to read the cells with at once (all '
              f'cells together); with more connections than cells, each '
              f'cell\'s pci_devices is read in that many ranges, one per '
              f'connection, so a large cell uses several of the server\'s '
              f'cores. The result is the same for any count. 1 to '
              f'{MAX_WORKERS}; default: 4, or the CPUs of the machine '
              f'running the command if fewer. Not used with '
              f'--pci-devices or --no-db.'))
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


def _seconds(value: str) -> float:
    seconds = settings.seconds(value)
    if seconds is None:
        raise argparse.ArgumentTypeError(settings.not_seconds(value))
    return seconds


def _workers(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if not 0 < count <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(
            f'{value!r} is not a number of connections from 1 to '
            f'{MAX_WORKERS}')
    return count


def sources(app, parsed_args: argparse.Namespace) -> readers.Sources:
    """The readers the parsed options ask for, with the shell's cloud."""
    return readers.Sources(parsed_args, settings.Cloud(
        # an app made outside the OSC shell (a test's) has no options
        getattr(app, 'options', None),
        app.client_manager.get_configuration()))
