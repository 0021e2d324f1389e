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

"""Where the flavors are read from: one reader, chosen once.

In order of preference: the API database, a ``--flavors`` export, the
compute API with the shell's cloud credentials; else none (the flavor
checks are skipped with a note). ``sources/inventory.py`` makes the
choice; a new source of flavors is one more class with ``flavors()``.
"""

import typing

from gpupassthrough_osc.pci import model
from gpupassthrough_osc.sources import compute as compute_api
from gpupassthrough_osc.sources import dburl
from gpupassthrough_osc.sources import exports
from gpupassthrough_osc.sources import novadb
from gpupassthrough_osc.sources import settings

Flavors = list[model.Flavor]


class FlavorReader(typing.Protocol):

    def flavors(self) -> Flavors | None:
        """Every flavor with its extra specs, or None when unavailable."""


class DatabaseFlavors:
    """The API database's flavors and flavor_extra_specs tables."""

    def __init__(self, api_url: str, timeouts: novadb.Timeouts) -> None:
        self.api_url = api_url
        self.timeouts = timeouts

    def flavors(self) -> Flavors | None:
        return novadb.flavors(self.api_url, self.timeouts)


class ExportFlavors:
    """``openstack flavor list --long -f json`` output."""

    def __init__(self, path: str) -> None:
        self.path = path

    def flavors(self) -> Flavors | None:
        return exports.read_flavors(self.path)


class ComputeApiFlavors:
    """The compute API, with the shell's cloud credentials.

    A cloud that refuses the credentials is an error (ComputeAuthError);
    one that cannot be read skips the checks with a note.
    """

    def __init__(self, cloud: settings.Cloud, notes: list[str]) -> None:
        self.cloud = cloud
        self.notes = notes

    def flavors(self) -> Flavors | None:
        try:
            return [model.Flavor(f.id, f.name, dict(f.extra_specs or {}),
                                 f.vcpus, f.ram)
                    for f in compute_api.read_flavors(self.cloud.options,
                                                      self.cloud.config)]
        except compute_api.ComputeApiError as exc:
            self.notes.append(f'flavors skipped: {dburl.mask(exc)}')
            return None


class NoFlavors:
    """No source of flavors is configured."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes

    def flavors(self) -> Flavors | None:
        self.notes.append('no API database, cloud credentials or --flavors '
                          'file: flavor checks skipped')
        return None
