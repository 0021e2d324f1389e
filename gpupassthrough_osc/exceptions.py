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

"""The errors this package raises on purpose, under one base.

Every layer raises its own small type: the domain (``pci/``, ``host/``)
for input nova would refuse, the adapters (``sources/``) for a source
that cannot be read or written. Only the commands turn them into
osc-lib's ``CommandError``, in one place: ``commands/common.py``
(``command_errors``). Anything else that escapes is a bug and keeps its
traceback.
"""


class GpuPassthroughError(Exception):
    """Base of the package's errors; its text is the one-line message."""


class SourceError(GpuPassthroughError):
    """A nova.conf, database, export or file that cannot be read or written.

    The adapters' own types (``NovaConfError``, ``DatabaseError``,
    ``ExportError``, ``ConfWriteError``) derive from it.
    """


class InvalidAlias(GpuPassthroughError):
    """An ``[pci] alias`` value nova would refuse (``pci/alias.py``)."""


class DeviceTypeError(GpuPassthroughError):
    """Nova's records give no single alias device_type for PCI ids.

    Raised by ``pci/pools.py`` ``recorded_device_type``.
    """


def rows(count: int) -> str:
    """'1 row', '2 rows': how many rows a cut read got, in a message.

    Whether they were printed depends on the output format (csv and value
    stream, table and json print nothing on an error), so messages say
    read, not listed.
    """
    return f'{count} row' if count == 1 else f'{count} rows'
