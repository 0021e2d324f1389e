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

"""Property: any numa_topology blob or hw: extra spec gives a verdict or a
one-line error of the package, never a traceback."""

import json

from hypothesis import given
from hypothesis import strategies as st
import testtools

from gpupassthrough_osc.pci import numa
from tests import fuzzing  # noqa: F401  (the settings profile)
from tests import paths

EXAMPLE = paths.example('compute_nodes.txt')


def _valid_blob():
    with open(EXAMPLE) as f:
        header, row = f.read().splitlines()[:2]
    return json.loads(dict(zip(header.split('\t'),
                               row.split('\t')))['numa_topology'])


VALID = _valid_blob()
JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 9),
              st.text(max_size=4), st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=12), inner,
                                            max_size=3)),
    max_leaves=8)
KEYS = ['id', 'cpuset', 'pcpuset', 'memory', 'memory_usage', 'cpu_usage',
        'pinned_cpus', 'siblings', 'mempages', 'socket', 'cells',
        'nova_object.data', 'size_kb', 'total', 'used', 'reserved']


def _mutate(value, path, replacement):
    """``value`` with the item at ``path`` replaced (or deleted: None)."""
    if not path:
        return replacement
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and value:
        key = sorted(value)[head % len(value)]
        copy = dict(value)
        if not rest and replacement is _DELETE:
            del copy[key]
        else:
            copy[key] = _mutate(value[key], rest, replacement)
        return copy
    if isinstance(value, list) and value:
        copy = list(value)
        copy[head % len(value)] = _mutate(value[head % len(value)], rest,
                                          replacement)
        return copy
    return replacement


_DELETE = object()
SPEC_KEYS = ['hw:numa_nodes', 'hw:cpu_policy', 'hw:mem_page_size',
             'hw:numa_cpus.0', 'hw:numa_cpus.1', 'hw:numa_mem.0',
             'hw:numa_mem.1', 'hw:pmem', 'resources:PCPU', 'resources:VCPU',
             'hw:cpu_thread_policy', 'hw:cpu_realtime',
             'hw:pci_numa_affinity_policy', 'hw:emulator_threads_policy']
SPEC_VALUES = st.one_of(
    st.sampled_from(['1', '2', '0', '-1', 'dedicated', 'shared', 'mixed',
                     'small', 'large', 'any', '2048', '1GB', '0-1', '0,^1',
                     '1024', 'x', '', 'required', 'socket', 'isolate',
                     '^0', '0-3']), st.text(max_size=5))


class TestNumaFuzz(testtools.TestCase):

    def _parse(self, blob):
        try:
            numa.parse_host_topology(blob, 'compute1')
        except numa.NumaError as exc:
            self.assertEqual(1, len(str(exc).splitlines()), str(exc))
            self.assertIn('compute1', str(exc))

    @given(JSONISH)
    def test_any_json_value(self, value):
        self._parse(json.dumps(value))

    @given(st.lists(st.integers(0, 50), min_size=1, max_size=7),
           st.one_of(JSONISH, st.just(_DELETE)))
    def test_a_real_blob_with_one_part_broken(self, path, replacement):
        self._parse(json.dumps(_mutate(VALID, path, replacement),
                               default=lambda _o: None))

    @given(st.text(max_size=40))
    def test_any_text(self, text):
        self._parse(text)

    @given(st.dictionaries(st.sampled_from(SPEC_KEYS), SPEC_VALUES,
                           max_size=4),
           st.integers(0, 8), st.integers(0, 8192))
    def test_any_flavor_specs(self, specs, vcpus, memory_mb):
        try:
            numa.guest_topology(specs, vcpus, memory_mb)
        except numa.NumaError as exc:
            self.assertEqual(1, len(str(exc).splitlines()), str(exc))
