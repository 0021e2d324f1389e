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

"""Where placement's provider trees are read from: an export or the API.

``sources/inventory.py`` picks one (``--placement-providers``, else the
shell's cloud credentials) and hands it the compute nodes and devices the
device reader found; ``sources/placement.py`` does the reading.
"""

import typing

from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import placement as pci_placement
from gpupassthrough_osc.sources import devices
from gpupassthrough_osc.sources import placement
from gpupassthrough_osc.sources import settings

Trees = placement.Trees


class ProviderReader(typing.Protocol):

    def trees(self, nodes: list[devices.NodeRow],
              rows: list[devices.DeviceRow]) -> Trees | None:
        """The trees of the nodes with devices, or None (with a note)."""

    def add_allocations(self, views: list[model.NodeView]) -> None:
        """Read the allocations the placement checks ask about."""


class ExportProviders:
    """An osc-placement export (``--placement-providers``)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def trees(self, nodes: list[devices.NodeRow],
              rows: list[devices.DeviceRow]) -> Trees | None:
        return placement.read_export(self.path)

    def add_allocations(self, views: list[model.NodeView]) -> None:
        """An export holds no allocations: those checks stay unread."""


class ApiProviders:
    """Placement's REST API with the shell's cloud credentials.

    A cloud that refuses the credentials is an error
    (PlacementAuthError); one that cannot be read skips the checks with
    a note.
    """

    def __init__(self, cloud: settings.Cloud, notes: list[str]) -> None:
        self.cloud = cloud
        self.notes = notes
        self.reader: placement.Reader | None = None

    def trees(self, nodes: list[devices.NodeRow],
              rows: list[devices.DeviceRow]) -> Trees | None:
        try:
            self.reader = reader = placement.connect(self.cloud.options,
                                                     self.cloud.config)
            wanted = {(d['cell'], d['compute_node_id']) for d in rows}
            return {n['uuid']: reader.tree(n['uuid']) for n in nodes
                    if (n['cell'], n['id']) in wanted}
        except placement.PlacementApiError as exc:
            self.notes.append(f'placement checks skipped: {exc}')
            return None

    def add_allocations(self, views: list[model.NodeView]) -> None:
        reader = self.reader
        if reader is None:
            return
        try:
            for view in views:
                view.allocations = {
                    uuid: reader.allocations(uuid)
                    for uuid in pci_placement.unallocated_holders(view)}
        except placement.PlacementApiError as exc:
            self.notes.append(f'placement allocations not read: {exc}')
