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

"""Builders the rule tests share: nova.conf, aliases, pools, nodes, flavors.

and the NUMA topology blobs nova stores in ``compute_nodes.numa_topology``.
One definition for the audit, scheduler, NUMA, placement and explain tests.
"""

import json

import testtools

from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import pools
from gpupassthrough_osc.sources import novaconf


def conf(*aliases, path='nova.conf', device_spec=(), deprecated=(),
         report_in_placement=False):
    return novaconf.NovaConf(
        path=path, alias=[json.dumps(a) for a in aliases],
        device_spec=list(device_spec),
        report_in_placement=report_in_placement,
        deprecated=list(deprecated))


def alias(name, vendor_id='10de', product_id='2235', **kw):
    return dict(name=name, vendor_id=vendor_id, product_id=product_id, **kw)


def pool(node, product_id, dev_type, total=1, available=None, used=0,
         vendor_id='10de', cell='cell1'):
    available = total - used if available is None else available
    return pools.DevicePool(cell, node, vendor_id, product_id, dev_type, 0,
                            total=total, usable=total, available=available,
                            used=used)


def nodes(*names, deleted=()):
    return {('cell1', i): model.Node('cell1', i, name, deleted=i in deleted)
            for i, name in enumerate(names, 1)}


def flavor(value, name='gpu'):
    return model.Flavor('id-' + name, name, {'pci_passthrough:alias': value})


A40_PF_POOL = pool(1, '2235', 'type-PF')


class RuleTestCase(testtools.TestCase):

    rule = None

    def findings(self, **kw):
        kw.setdefault('nodes', nodes('gpu1', 'gpu2'))
        return type(self).rule(model.Inventory(**kw))

    def codes(self, **kw):
        return [f.code for f in self.findings(**kw)]


# compute_nodes.numa_topology as nova serializes it (nova/objects/numa.py)
def envelope(name, data, version='1.0'):
    return {'nova_object.name': name, 'nova_object.namespace': 'nova',
            'nova_object.version': version, 'nova_object.data': data,
            'nova_object.changes': sorted(data)}


def cell(id, cpus, pcpus=None, memory=65536, pinned=(), socket=None,
         memory_usage=0, cpu_usage=0, pages=None):
    pcpus = list(cpus) if pcpus is None else list(pcpus)
    data = {'id': id, 'cpuset': list(cpus), 'pcpuset': pcpus,
            'memory': memory, 'memory_usage': memory_usage,
            'cpu_usage': cpu_usage, 'pinned_cpus': list(pinned),
            'siblings': [[c] for c in sorted(set(cpus) | set(pcpus))],
            'mempages': [envelope('NUMAPagesTopology', {
                'size_kb': size, 'total': total, 'used': used,
                'reserved': 0}, '1.1')
                for size, total, used in (pages or [(4, memory * 256, 0)])],
            'network_metadata': envelope('NetworkMetadata', {
                'physnets': [], 'tunneled': False}),
            'socket': socket}
    return envelope('NUMACell', data, '1.5')


def blob(*cells):
    return json.dumps(envelope('NUMATopology', {'cells': list(cells)},
                               '1.2'))
