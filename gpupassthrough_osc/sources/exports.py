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

import collections.abc
import itertools
import json
import os
import re
import typing

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import pools as pci_pools

_ROW_MARK = re.compile(r'^\*+\s*\d+\.\s*row\s*\*+$')
# What the mysql client prints around the rows.
_TRAILER = re.compile(r'^(\d+ rows? in set|MariaDB \[|mysql>|Empty set)')
_VERTICAL_FIELD = re.compile(r'^\s*([A-Za-z_][\w ]*?)\s*:\s?(.*)$')

DEVICE_REQUIRED = ('compute_node_id', 'vendor_id', 'product_id', 'dev_type',
                   'status')


# one row of an export: normalised column name -> value
Row = dict[str, typing.Any]
Rows = collections.abc.Iterator[Row]


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


# the format is told from the first lines, as the mysql client prints
# the row marks of \G output from the first row on
_SNIFF_LINES = 50
_JSON_CHUNK = 1 << 16


def iter_rows(path: str) -> Rows:
    """Rows as dicts with normalised keys, one at a time.

    The file is read as it is consumed, never held whole: a million-row
    export costs the memory of one row (tools/export-memory.py measures
    it). A problem found after some rows is raised when it is reached.
    """
    try:
        f = open(path, encoding='utf-8')
    except OSError as exc:
        raise ExportError(f'{path}: {exc.strerror}')
    with f:
        try:
            yield from _rows(path, f)
        except UnicodeDecodeError:
            raise ExportError(f'{path}: not a text file')
        except OSError as exc:
            raise ExportError(f'{path}: {exc.strerror}')


def read_rows(path: str) -> list[Row]:
    """Every row of an export (see iter_rows), as a list."""
    return list(iter_rows(path))


def _rows(path: str, f: typing.TextIO) -> Rows:
    head = list(itertools.islice(f, _SNIFF_LINES))
    while head and not ''.join(head).strip():
        # only blank lines so far: the first that is not decides
        more = f.readline()
        if not more:
            break
        head.append(more)
    stripped = ''.join(head).lstrip()
    if not stripped:
        raise ExportError(f'{path}: empty file')
    if stripped[0] in '[{':
        return _json_rows(path, ''.join(head), f)
    lines = (line.rstrip('\n') for line in itertools.chain(head, f))
    if any(_ROW_MARK.match(line.strip()) for line in head[:_SNIFF_LINES]):
        return _vertical_rows(path, lines)
    return _tsv_rows(path, lines)


def _json_rows(path: str, text: str, f: typing.TextIO) -> Rows:
    """Objects of a JSON list, decoded one at a time.

    A lone object is a list of one. json.JSONDecoder.raw_decode reads one
    value from a buffer topped up from the file as the values are used.
    """
    text = text.lstrip()
    if text[0] == '{':
        try:
            data = json.loads(text + f.read())
        except ValueError as exc:
            raise ExportError(f'{path}: not valid JSON: {exc}')
        if not isinstance(data, dict):
            raise ExportError(f'{path}: JSON must be a list of objects')
        yield {_key(k): v for k, v in data.items()}
        return
    buf = _JsonBuffer(f, text[1:])
    index = 0
    while True:
        char = buf.next_char()
        if char == ']':
            if buf.rest().strip():
                raise ExportError(f'{path}: not valid JSON: extra data '
                                  f'after the list')
            return
        if index:
            if char != ',':
                raise ExportError(
                    f"{path}: not valid JSON: expected ',' or ']' after "
                    f"object {index}" if char else
                    f'{path}: not valid JSON: the list is not closed')
            buf.pos += 1
            buf.next_char()
        try:
            value = buf.decode()
        except json.JSONDecodeError as exc:
            raise ExportError(f'{path}: not valid JSON: {exc.msg} '
                              f'(object {index + 1})')
        if not isinstance(value, dict):
            raise ExportError(f'{path}: JSON must be a list of objects')
        index += 1
        yield {_key(k): v for k, v in value.items()}


class _JsonBuffer:
    """The unread part of a JSON file: a window, topped up in chunks."""

    def __init__(self, f: typing.TextIO, text: str) -> None:
        self.f, self.text, self.pos = f, text, 0
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        chunk = self.f.read(_JSON_CHUNK)
        self.text, self.pos = self.text[self.pos:] + chunk, 0
        return bool(chunk)

    def next_char(self) -> str:
        """The next character that is not blank ('' at the end)."""
        while True:
            while self.pos < len(self.text) and \
                    self.text[self.pos] in ' \t\r\n':
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._more():
                return ''

    def decode(self) -> typing.Any:
        """The value at pos; reads more while it is cut off."""
        while True:
            try:
                value, self.pos = self.decoder.raw_decode(self.text,
                                                          self.pos)
                return value
            except ValueError:
                if not self._more():
                    raise

    def rest(self) -> str:
        return self.text[self.pos + 1:] + self.f.read()


def _vertical_rows(path: str, lines: collections.abc.Iterator[str]) -> Rows:
    row: Row | None = None
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if _ROW_MARK.match(stripped):
            if row is not None:
                yield row
            row = {}
            continue
        if not stripped or row is None:
            continue  # the mysql prompt, "Database changed", blank lines
        match = _VERTICAL_FIELD.match(line)
        if not match:
            if _TRAILER.match(stripped):
                yield row
                row = None
                continue
            raise ExportError(f'{path}:{number}: not a "column: value" '
                              f'line of \\G output: {stripped[:60]}')
        row[_key(match.group(1))] = _null(match.group(2).rstrip())
    if row is not None:
        yield row


def _tsv_rows(path: str, lines: collections.abc.Iterator[str]) -> Rows:
    # numbered among the lines that are not blank, as before streaming
    lines = (line for line in lines if line.strip())
    header = [_key(h) for h in next(lines).split('\t')]
    if len(header) < 2:
        raise ExportError(
            f'{path}: not a \\G, tab-separated (mysql -B) or JSON export')
    for number, line in enumerate(lines, 2):
        values = line.split('\t')
        if len(values) != len(header):
            raise ExportError(f'{path}:{number}: {len(values)} fields, the '
                              f'header has {len(header)}')
        yield {k: _null(v) for k, v in zip(header, values)}


def _check_device(path: str, index: int, row: Row) -> None:
    """Refuse a row nova could not have written; numa_node made an int.

    numa_node then is an int or None, as nova's INTEGER column reaches the
    database reader: \\G and -B exports carry text.
    """
    missing = [c for c in DEVICE_REQUIRED if row.get(c) in (None, '')]
    if missing:
        raise ExportError(f'{path}: row {index} lacks {", ".join(missing)}')
    if row['dev_type'] not in pci_pools.DEV_TYPES:
        raise ExportError(f"{path}: row {index}: unknown dev_type "
                          f"'{row['dev_type']}'")
    try:
        int(row['compute_node_id'])
        int(row.get('deleted') or 0)
        numa_node = row.get('numa_node')
        row['numa_node'] = (None if numa_node in (None, '')
                            else int(numa_node))
    except (TypeError, ValueError):
        raise ExportError(f'{path}: row {index}: compute_node_id, deleted '
                          f'and numa_node must be whole numbers')


def iter_devices(path: str) -> Rows:
    """Live device rows (``deleted = 0``) of a pci_devices export."""
    for index, row in enumerate(iter_rows(path), 1):
        _check_device(path, index, row)
        if int(row.get('deleted') or 0) == 0:
            yield row


def read_devices(path: str) -> list[Row]:
    return list(iter_devices(path))


class DeviceExports:
    """The live rows of ``--pci-devices`` files, read anew on each pass.

    Never held: the audit makes one pass for the hosts and one for the
    pools, ``device list`` streams one. With several files each row's
    cell is its file's name.
    """

    def __init__(self, paths: collections.abc.Iterable[str]) -> None:
        self.paths = list(paths)

    def __iter__(self) -> Rows:
        for path in self.paths:
            cell = os.path.basename(path) if len(self.paths) > 1 else ''
            for dev in iter_devices(path):
                dev.setdefault('cell', cell)
                yield dev


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


def node_of(device: Row) -> model.Node | None:
    """The host a row of our own ``device list -f json`` export names."""
    if not device.get('host'):
        return None
    return model.Node(device.get('cell') or '',
                      int(device['compute_node_id']), device['host'])


def nodes_from_devices(devices: collections.abc.Iterable[Row]
                       ) -> dict[tuple[str, int], model.Node]:
    """Host names carried by our own ``device list -f json`` export."""
    nodes = (node_of(d) for d in devices)
    return {(n.cell, n.id): n for n in nodes if n}


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
