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


"""Property: any export file gives rows or a one-line ExportError; a JSON
list streamed in small chunks gives what json.loads gives."""

import json
import os
import tempfile
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st
import testtools

from gpupassthrough_osc.sources import exports
from tests import fuzzing  # noqa: F401  (the settings profile)

COLUMNS = ['id', 'compute_node_id', 'address', 'vendor_id', 'product_id',
           'dev_type', 'status', 'numa_node', 'deleted', 'instance_uuid',
           'host', 'Compute Node ID', 'Dev Type', 'Vendor ID', 'x']
VALUES = st.one_of(
    st.sampled_from(['1', '0', 'NULL', '10de', '2235', 'type-PF', 'vdpa',
                     'available', '0000:21:00.0', '', 'x\ty', '-1', '1e3']),
    st.text(max_size=6), st.integers(-2, 2), st.none(), st.booleans())


def vertical(rows):
    out = ['MariaDB [nova]> select * from pci_devices\\G']
    for n, row in enumerate(rows, 1):
        out.append(f'{"*" * 27} {n}. row {"*" * 27}')
        out += [f'{k:>15}: {v}' for k, v in row.items()]
    return '\n'.join(out) + '\n'


def tsv(rows):
    header = list(rows[0]) if rows else COLUMNS[:3]
    return '\n'.join(['\t'.join(header)] + [
        '\t'.join(str(r.get(k)) for k in header) for r in rows]) + '\n'


FLAVOR_ROWS = st.lists(st.fixed_dictionaries({}, optional={
    'ID': VALUES, 'Name': VALUES,
    'Properties': st.one_of(
        VALUES, st.dictionaries(st.sampled_from(
            ['pci_passthrough:alias', 'hw:numa_nodes']), VALUES, max_size=2),
        st.sampled_from(["pci_passthrough:alias='gpuA40:1'",
                         "pci_passthrough:alias='a:1', hw:x='1'", "='"]))}),
    max_size=3)
ROWS = st.lists(st.dictionaries(st.sampled_from(COLUMNS), VALUES,
                                max_size=10), max_size=3)
FILES = st.one_of(ROWS.map(json.dumps), ROWS.map(vertical), ROWS.map(tsv),
                  st.text(max_size=80), st.binary(max_size=40))


class TestExportProperties(testtools.TestCase):

    def check(self, reader, content):
        fd, path = tempfile.mkstemp()
        self.addCleanup(os.unlink, path)
        with os.fdopen(fd, 'wb') as f:
            f.write(content if isinstance(content, bytes)
                    else content.encode('utf-8', 'surrogatepass'))
        try:
            reader(path)
        except exports.ExportError as exc:
            self.assertNotIn('\n', str(exc).strip())

    @given(FILES)
    def test_devices(self, content):
        self.check(exports.read_devices, content)

    @given(FILES)
    def test_compute_nodes(self, content):
        self.check(exports.read_nodes, content)

    @given(st.one_of(FILES, FLAVOR_ROWS.map(json.dumps)))
    def test_flavors(self, content):
        self.check(exports.read_flavors, content)

    @given(st.lists(st.dictionaries(st.sampled_from(COLUMNS), VALUES,
                                    max_size=4), max_size=6),
           st.integers(1, 40), st.sampled_from(['', ' ', '\n', ' \n\t']))
    def test_json_streamed_in_chunks(self, rows, chunk, blank):
        # any chunk size, so the values' ends fall anywhere in the buffer;
        # objects over several lines and a one-line sniff, so that the
        # chunks are what is read
        text = '[\n' + blank + (',' + blank).join(
            json.dumps(r, indent=1) for r in rows) + blank + ']' + blank
        fd, path = tempfile.mkstemp()
        self.addCleanup(os.unlink, path)
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        with mock.patch.object(exports, '_JSON_CHUNK', chunk), \
                mock.patch.object(exports, '_SNIFF_LINES', 1):
            streamed = exports.read_rows(path)
        self.assertEqual([{exports._key(k): v for k, v in r.items()}
                          for r in json.loads(text)], streamed)
