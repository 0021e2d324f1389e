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

"""Offline exports an operator can send to support.

Reads, by sniffing the content:

* ``mysql -e 'select * from pci_devices\\G'`` vertical output (the form the
  original procedure shows);
* ``mysql -B -e 'select ...'`` tab-separated output with a header line;
* JSON: a list of objects, such as ``openstack gpu device list -f json`` or
  ``openstack flavor list --long -f json``.

Column names are matched case-insensitively with blanks as underscores, so
"Vendor ID" and vendor_id are the same column.
"""

import json
import re
import typing

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import pools as pci_pools

_ROW_MARK = re.compile(r'^\*+\s*\d+\.\s*row\s*\*+$')
# What the mysql client prints around the rows.
_TRAILER = re.compile(r'^(\d+ rows? in set|MariaDB \[|mysql>|Empty set)')
_VERTICAL_FIELD = re.compile(r'^\s*([A-Za-z_][\w ]*?)\s*:\s?(.*)$')

# one row of an export: normalised column name -> value
Row = dict[str, typing.Any]

DEVICE_REQUIRED = ('compute_node_id', 'vendor_id', 'product_id', 'dev_type',
                   'status')


class ExportError(exceptions.SourceError):
    """An export file that cannot be read; the message names file and line."""


def _key(name: str) -> str:
    return name.strip().lower().replace(' ', '_').replace('-', '_')


def _null(value: object) -> str | None:
    if value is None:
        return None
    value = str(value)
    return None if value in ('NULL', '\\N') else value


def read_text(path: str) -> str:
    """The file's text; a one-line ExportError when it cannot be read."""
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except OSError as exc:
        raise ExportError(f'{path}: {exc.strerror}')
    except UnicodeDecodeError:
        raise ExportError(f'{path}: not a text file')


def read_rows(path: str) -> list[Row]:
    """Rows as dicts with normalised keys, whatever the export format."""
    text = read_text(path)
    stripped = text.lstrip()
    if not stripped:
        raise ExportError(f'{path}: empty file')
    if stripped[0] in '[{':
        return _json_rows(path, text)
    if any(_ROW_MARK.match(line.strip()) for line in text.splitlines()[:50]):
        return _vertical_rows(path, text)
    return _tsv_rows(path, text)


def _json_rows(path: str, text: str) -> list[Row]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ExportError(f'{path}: not valid JSON: {exc}')
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(r, dict)
                                             for r in data):
        raise ExportError(f'{path}: JSON must be a list of objects')
    return [{_key(k): v for k, v in row.items()} for row in data]


def _vertical_rows(path: str, text: str) -> list[Row]:
    rows: list[Row] = []
    row: Row | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if _ROW_MARK.match(stripped):
            row = {}
            rows.append(row)
            continue
        if not stripped or row is None:
            continue  # the mysql prompt, "Database changed", blank lines
        match = _VERTICAL_FIELD.match(line)
        if not match:
            if _TRAILER.match(stripped):
                row = None
                continue
            raise ExportError(f'{path}:{number}: not a "column: value" '
                              f'line of \\G output: {stripped[:60]}')
        row[_key(match.group(1))] = _null(match.group(2).rstrip())
    return rows


def _tsv_rows(path: str, text: str) -> list[Row]:
    lines = [line for line in text.splitlines() if line.strip()]
    header = [_key(h) for h in lines[0].split('\t')]
    if len(header) < 2:
        raise ExportError(
            f'{path}: not a \\G, tab-separated (mysql -B) or JSON export')
    rows = []
    for number, line in enumerate(lines[1:], 2):
        values = line.split('\t')
        if len(values) != len(header):
            raise ExportError(f'{path}:{number}: {len(values)} fields, the '
                              f'header has {len(header)}')
        rows.append({k: _null(v) for k, v in zip(header, values)})
    return rows


def _check_device(path: str, index: int, row: Row) -> None:
    missing = [c for c in DEVICE_REQUIRED if row.get(c) in (None, '')]
    if missing:
        raise ExportError(f'{path}: row {index} lacks {", ".join(missing)}')
    if row['dev_type'] not in pci_pools.DEV_TYPES:
        raise ExportError(f"{path}: row {index}: unknown dev_type "
                          f"'{row['dev_type']}'")
    try:
        int(row['compute_node_id'])
        int(row.get('deleted') or 0)
        if row.get('numa_node') not in (None, ''):
            int(row['numa_node'])
    except (TypeError, ValueError):
        raise ExportError(f'{path}: row {index}: compute_node_id, deleted '
                          f'and numa_node must be whole numbers')


def read_devices(path: str) -> list[Row]:
    """Live device rows (``deleted = 0``) of a pci_devices export."""
    devices = []
    for index, row in enumerate(read_rows(path), 1):
        _check_device(path, index, row)
        if int(row.get('deleted') or 0) == 0:
            devices.append(row)
    return devices


def read_nodes(path: str,
               cell: str = '') -> dict[tuple[str, int], model.Node]:
    """compute_nodes export -> {(cell, id): Node}."""
    nodes = {}
    for index, row in enumerate(read_rows(path), 1):
        try:
            node_id = int(row['id'])
        except (KeyError, TypeError, ValueError):
            raise ExportError(f'{path}: row {index} has no numeric id')
        try:
            deleted = bool(int(row.get('deleted') or 0))
        except (TypeError, ValueError):
            raise ExportError(f'{path}: row {index}: deleted is not a '
                              f'number')
        # an export without the numa_topology column is not an error:
        # the audit says where NUMA could not be checked
        nodes[(cell, node_id)] = model.Node(
            cell, node_id, row.get('host'), row.get('hypervisor_hostname'),
            deleted, numa_topology=row.get('numa_topology'),
            numa_read='numa_topology' in row)
    return nodes


def nodes_from_devices(devices: typing.Iterable[Row]
                       ) -> dict[tuple[str, int], model.Node]:
    """Host names carried by our own ``device list -f json`` export."""
    return {(d.get('cell') or '', int(d['compute_node_id'])): model.Node(
        d.get('cell') or '', int(d['compute_node_id']), d['host'])
        for d in devices if d.get('host')}


def read_flavors(path: str) -> list[model.Flavor]:
    """``openstack flavor list --long -f json`` (or show) -> [Flavor]."""
    flavors = []
    for index, row in enumerate(read_rows(path), 1):
        specs = row.get('properties')
        if specs is None:
            specs = row.get('extra_specs') or {}
        if isinstance(specs, str):
            specs = _parse_properties(path, index, specs)
        if not isinstance(specs, dict) or 'name' not in row:
            raise ExportError(f'{path}: row {index} is not a flavor with '
                              f'Name and Properties')
        flavors.append(model.Flavor(
            str(row.get('id', '')), row['name'],
            {str(k): str(v) for k, v in specs.items()},
            _whole(path, index, row, 'vcpus'),
            _whole(path, index, row, 'ram')))
    return flavors


def _whole(path: str, index: int, row: Row, key: str) -> int | None:
    """A whole number column, or None when the export lacks it."""
    if row.get(key) in (None, ''):
        return None
    try:
        return int(row[key])
    except (TypeError, ValueError):
        raise ExportError(f'{path}: row {index}: {key} is not a whole '
                          f'number: {row[key]!r}')


def _parse_properties(path: str, index: int,
                      text: str) -> dict[str, str]:
    """OSC's table form: ``k1='v1', k2='v2'``."""
    specs = {}
    for match in re.finditer(r"([^\s=,]+)='([^']*)'", text):
        specs[match.group(1)] = match.group(2)
    if text.strip() and not specs:
        raise ExportError(f'{path}: row {index}: cannot read properties '
                          f'{text[:60]!r}')
    return specs
