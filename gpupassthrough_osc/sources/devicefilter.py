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

"""Which device rows ``device list`` shows: one filter for every source.

The semantics live here only: each given field equals the row's value,
compared case-insensitively; a row without the field never matches.
The database reader narrows its SELECT with :meth:`DeviceFilter.where`
and then, like the export reader, keeps exactly the rows
:meth:`DeviceFilter.matches` keeps; ``device list --summary`` selects
pools with :meth:`DeviceFilter.selects_pool`.
"""

import collections.abc
import dataclasses
import typing

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.pci import pools as pci_pools

# a pci_devices row as the readers yield it: column -> value, plus
# 'cell' and 'host'
DeviceRow = dict[str, typing.Any]

FIELDS = ('host', 'status', 'vendor_id', 'product_id', 'dev_type', 'cell')


class NoSuchCell(exceptions.SourceError):
    """``--cell`` names none of the cells the source has."""


def _text(value: object) -> str:
    return str(value or '').lower()


@dataclasses.dataclass(frozen=True)
class DeviceFilter:
    """The fields a device must have; ``None`` (or '') means any."""

    host: str | None = None
    status: str | None = None
    vendor_id: str | None = None
    product_id: str | None = None
    dev_type: str | None = None
    cell: str | None = None

    @classmethod
    def from_options(cls, options: object) -> 'DeviceFilter':
        """The filter a parsed ``device list`` command line asks for."""
        return cls(**{f: getattr(options, f, None) for f in FIELDS})

    def wanted(self) -> dict[str, str]:
        """{field: value} of the fields given."""
        return {f: getattr(self, f) for f in FIELDS if getattr(self, f)}

    def matches(self, row: collections.abc.Mapping[str, object]) -> bool:
        """Whether a device row (or any mapping of the fields) matches."""
        return all(_text(row.get(field)) == _text(value)
                   for field, value in self.wanted().items())

    def selects_cell(self, cell: str) -> bool:
        """Whether rows of ``cell`` can match (cells not asked are skipped)."""
        # the cell alone: matches() would also ask the other fields
        return not self.cell or _text(cell) == _text(self.cell)

    def check_cell(self, cells: collections.abc.Iterable[str | None],
                   none: str = 'the source names no cell') -> None:
        """Raise NoSuchCell when the cell asked is none of ``cells``.

        Without it an unknown cell lists nothing and looks like a cell
        without devices. ``none``: what to say when no cell has a name.
        """
        if not self.cell:
            return
        names = sorted({cell for cell in cells if cell})
        if any(self.selects_cell(cell) for cell in names):
            return
        known = f'cells: {", ".join(names)}' if names else none
        raise NoSuchCell(f'--cell {self.cell}: no such cell ({known})')

    def selects_pool(self, pool: pci_pools.DevicePool,
                     host: str | None) -> bool:
        """Whether a pool of ``host`` matches.

        A pool counts devices of every status, so a filter that names a
        status selects none.
        """
        return self.matches({'host': host, 'vendor_id': pool.vendor_id,
                             'product_id': pool.product_id,
                             'dev_type': pool.dev_type, 'cell': pool.cell})

    def where(self, columns: collections.abc.Mapping[str, str]
              ) -> tuple[list[str], list[str]]:
        """(SQL conditions, their arguments) for the fields in ``columns``.

        ``columns`` maps a field to its SQL expression; fields it lacks
        (the cell, which is a database, not a column) are left to
        :meth:`matches`. A plain ``=``, so that ``--host`` can use the
        index on compute_nodes.host: nova's tables are utf8 with a
        case-insensitive collation (utf8mb3_general_ci), under which
        ``=`` keeps every row :meth:`matches` keeps (and rows that differ
        in trailing blanks or accents, which :meth:`matches` then drops).
        """
        conditions, args = [], []
        for field, value in self.wanted().items():
            if field in columns:
                conditions.append(f'{columns[field]} = %s')
                args.append(str(value))
        return conditions, args
