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

"""The readers a command uses, chosen once from its parsed options.

Device data: nova's databases (``--db-connection`` and the other places
``settings.py`` names; with an API database, every cell of
``cell_mappings``) or offline exports (``--pci-devices``). Flavors: the
API database, else ``--flavors``, else the compute API when credentials
are configured, else none. Placement: ``--placement-providers``, else
the placement API when credentials are configured. :class:`Sources`
decides which reader serves each once, here; the commands ask it for
data and never learn which option supplied it.
"""

import argparse
import collections.abc

from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import numa
from gpupassthrough_osc.pci import placement as pci_placement
from gpupassthrough_osc.sources import cellread
from gpupassthrough_osc.sources import compute as compute_api
from gpupassthrough_osc.sources import devices
from gpupassthrough_osc.sources import flavors
from gpupassthrough_osc.sources import novaconf
from gpupassthrough_osc.sources import novadb
from gpupassthrough_osc.sources import placement
from gpupassthrough_osc.sources import providers
from gpupassthrough_osc.sources import servers
from gpupassthrough_osc.sources import settings


def _flavor_reader(args: argparse.Namespace, api_url: str | None,
                   timeouts: novadb.Timeouts, cloud: settings.Cloud,
                   notes: list[str]) -> flavors.FlavorReader:
    if api_url:
        return flavors.DatabaseFlavors(api_url, timeouts)
    path = getattr(args, 'flavors', None)
    if path:
        return flavors.ExportFlavors(path)
    if cloud.configured():
        return flavors.ComputeApiFlavors(cloud, notes)
    return flavors.NoFlavors(notes)


def _provider_reader(path: str | None, cloud: settings.Cloud,
                     notes: list[str]) -> providers.ProviderReader | None:
    if path:
        return providers.ExportProviders(path)
    if cloud.configured():
        return providers.ApiProviders(cloud, notes)
    return None


class Sources:
    """Resolves the options once; reads what each command needs.

    ``args``: a command line parsed with ``commands/inventory.py``
    ``add_source_options``; ``cloud``: the shell's cloud.
    ``notes``: what was skipped and why, in the order it was found.
    """

    def __init__(self, args: argparse.Namespace,
                 cloud: settings.Cloud) -> None:
        if args.no_db and (args.db_connection or args.api_db_connection):
            raise settings.SettingError(
                '--no-db contradicts --db-connection/--api-db-connection')
        self.cloud = cloud
        self.confs = novaconf.load_all(args.nova_conf)
        cell_url, self.api_url = None, None
        if not args.no_db and not args.pci_devices:
            cell_url, self.api_url = settings.db_urls(args, cloud,
                                                      self.confs)
        self.timeouts = settings.timeouts(args.db_timeout, cloud)
        self.notes: list[str] = []
        if not self.confs:
            self.notes.append(
                f'no nova.conf read ({novaconf.DEFAULT_PATH} is not '
                f'readable): alias checks skipped; give --nova-conf PATH')
        self.database = devices.DatabaseDevices(
            cell_url, self.api_url, self.timeouts, self.notes,
            workers=getattr(args, 'db_workers', None) or
            cellread.DEFAULT_WORKERS)
        self.devices_from: devices.DeviceReader = self.database
        if args.pci_devices:
            self.devices_from = devices.ExportDevices(
                args.pci_devices, args.compute_nodes, self.notes)
        self.flavors_from = _flavor_reader(args, self.api_url,
                                           self.timeouts, cloud, self.notes)
        self.placement_path = getattr(args, 'placement_providers', None)
        self.providers_from = _provider_reader(self.placement_path, cloud,
                                               self.notes)

    def device_data(self, with_leaks: bool = True,
                    with_numa: bool | cellread.PoolFilter = False
                    ) -> devices.DeviceData:
        """(pools, nodes, leaks) or (None, {}, None) without device data.

        ``with_numa``: read the nodes' NUMA cells from the database too
        (kilobytes per node; exports carry them when they carry them).
        """
        return self.devices_from.device_data(with_leaks, with_numa)

    def check_cell(self, device_filter: devices.DeviceFilter) -> None:
        """Raise NoSuchCell when ``--cell`` names no cell of the source."""
        self.devices_from.check_cell(device_filter)

    def devices(self, device_filter: devices.DeviceFilter
                ) -> collections.abc.Iterator[devices.DeviceRow]:
        """Stream the device rows (dicts) the filter matches."""
        return self.devices_from.devices(device_filter)

    def flavors(self) -> flavors.Flavors | None:
        return self.flavors_from.flavors()

    def placement_views(self) -> list[model.NodeView] | None:
        """pci.placement.NodeView per compute node with devices, or None.

        Read only when a nova.conf sets [pci] report_in_placement and
        either --placement-providers or cloud credentials are given; a
        cloud that refuses the credentials is an error
        (PlacementAuthError), one that cannot be read skips the checks
        with a note.
        """
        entries = pci_placement.reporting_entries(self.confs)
        if entries is None:
            if self.placement_path:
                self.notes.append('--placement-providers ignored: no '
                                  'nova.conf given sets [pci] '
                                  'report_in_placement')
            return None
        if self.providers_from is None:
            self.notes.append(
                '[pci] report_in_placement is on but neither cloud '
                'credentials nor --placement-providers FILE are given: '
                'placement providers not checked against pci_devices')
            return None
        nodes, rows = self.devices_from.placement_nodes()
        if nodes is None or rows is None:
            return None
        trees = self.providers_from.trees(nodes, rows)
        if trees is None:
            return None
        views, notes = placement.node_views(nodes, rows, trees, entries)
        self.notes.extend(notes)
        self.providers_from.add_allocations(views)
        return views

    def inventory(self, placement: bool = False) -> model.Inventory:
        """What the rules read; placement only when asked (the audit)."""
        data = model.Inventory(confs=list(self.confs),
                               flavors=self.flavors())
        # NUMA cells matter only to flavors with a guest NUMA topology, on
        # hosts with devices their aliases match; the aliases are parsed
        # once, for this and for the rules
        data.pools, data.nodes, data.leaks = self.device_data(
            with_numa=numa.topology_wanted(data))
        data.providers = self.placement_views() if placement else None
        data.notes = list(self.notes)
        return data

    def server(self, ref: str, show_path: str | None = None
               ) -> servers.Server:
        """The server named or with the UUID ``ref``.

        From ``show_path`` (``openstack server show -f json`` output),
        else the databases, else the compute API (state, fault and flavor,
        but neither the devices nor the stored request).
        """
        if show_path:
            server = servers.server_from_show_json(show_path)
            if ref not in (server.uuid, server.name):
                raise servers.ServerError(
                    f'{show_path} shows server {server.name} '
                    f'({server.uuid}), not {ref!r}')
            return server
        cells = self.database.cells()
        if cells:
            return servers.find_server(cells, self.api_url, ref)
        if self.cloud.configured():
            body = compute_api.server_show(self.cloud.options,
                                           self.cloud.config, ref)
            return servers.server_from_show(body, 'compute API')
        raise servers.ServerError(
            'no nova database or cloud to find the server in: give '
            f'--db-connection/--api-db-connection (or ${settings.DB_ENV}), '
            'cloud credentials (--os-cloud), or --server-show FILE '
            '(`openstack server show SERVER -f json` output)')
