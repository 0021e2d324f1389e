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

"""request_specs.spec blobs made by nova 34 itself, as its API makes them.

nova/compute/api.py ``_validate_and_build_base_options`` and
``_provision_instances``: the guest NUMA topology from
``hardware.numa_get_constraints(flavor, image_meta)``, the PCI requests
from ``pci_request.get_pci_requests_from_flavor`` (with the [pci] alias
config and ``hardware.get_pci_numa_policy_constraint``), the forced host
from ``scheduler_utils.build_filter_properties``, then
``RequestSpec.from_components(...)`` and the column value of
``RequestSpec._get_update_primitives()``, which ``create()`` writes.

Run as a script in the functional-nova env to (re)write the fixtures the
unit tests read::

    PYTHONHASHSEED=0 python -m tests.functional_nova.requestspecs \
        tests/fixtures/request_specs

(nova lists ``nova_object.changes`` in set order; the seed keeps diffs
small. The pci request_id is drawn anew by nova on every run.)
"""

import os
import sys

from oslo_serialization import jsonutils

from tests.functional_nova import test_agreement

A40 = '{"name": "gpuA40", "vendor_id": "10de", "product_id": "2235"}'
A40_PF_REQUIRED = ('{"name": "gpuA40", "vendor_id": "10de", "product_id": '
                   '"2235", "device_type": "type-PF", "numa_policy": '
                   '"required"}')
NVME = '{"name": "nvme155", "vendor_id": "144d", "product_id": "a808"}'

# name -> how the server was asked for; uuids fixed so fixtures are stable
CASES = {
    'a40-pf-pair': dict(
        uuid='6f0c6ad4-0a40-4a40-8a40-000000000001',
        aliases=[A40_PF_REQUIRED],
        extra_specs={'pci_passthrough:alias': 'gpuA40:2'}),
    'dedicated-two-numa': dict(
        uuid='6f0c6ad4-0a40-4a40-8a40-000000000002',
        aliases=[A40], vcpus=16, ram=65536,
        extra_specs={'pci_passthrough:alias': 'gpuA40:2',
                     'hw:cpu_policy': 'dedicated', 'hw:numa_nodes': '2',
                     'hw:pci_numa_affinity_policy': 'socket'}),
    'mixed-hugepages-image': dict(
        uuid='6f0c6ad4-0a40-4a40-8a40-000000000003',
        aliases=[A40, NVME],
        extra_specs={'pci_passthrough:alias': 'gpuA40:1, nvme155:1',
                     'hw:cpu_policy': 'mixed',
                     'hw:cpu_dedicated_mask': '^0-1',
                     'hw:mem_page_size': 'any'},
        image={'hw_numa_nodes': 1, 'hw_mem_page_size': 'large',
               'hw_pci_numa_affinity_policy': 'preferred'}),
    'asymmetric-numa': dict(
        uuid='6f0c6ad4-0a40-4a40-8a40-000000000004',
        aliases=[A40], vcpus=6, ram=6144,
        extra_specs={'pci_passthrough:alias': 'gpuA40:1',
                     'hw:numa_nodes': '2', 'hw:numa_cpus.0': '0',
                     'hw:numa_cpus.1': '1-5', 'hw:numa_mem.0': '1024',
                     'hw:numa_mem.1': '5120'}),
    'forced-host-no-pci': dict(
        uuid='6f0c6ad4-0a40-4a40-8a40-000000000005',
        aliases=[], extra_specs={},
        forced_host='gpu-a40-01', forced_node='gpu-a40-01.example.org',
        availability_zone='nova'),
}


def nova():
    """nova's modules, its configuration and objects initialised once."""
    from nova import context
    from nova.scheduler import utils as scheduler_utils
    from nova.virt import hardware

    n = test_agreement.nova()
    return dict(n, context=context, pci_request=n['request'],
                hardware=hardware, scheduler_utils=scheduler_utils)


def build(uuid, aliases=(), extra_specs=None, vcpus=8, ram=32768,
          image=None, forced_host=None, forced_node=None,
          availability_zone=None, name='gpu.flavor', flavorid='f-1'):
    """The RequestSpec nova's compute API makes for this boot."""
    n = nova()
    objects = n['objects']
    n['conf'].set_override('alias', list(aliases), 'pci')
    n['pci_request'].get_alias_from_config.cache_clear()
    flavor = objects.Flavor(
        id=1, name=name, flavorid=flavorid, vcpus=vcpus, memory_mb=ram,
        root_gb=40, ephemeral_gb=0, swap=0, rxtx_factor=1.0, vcpu_weight=0,
        disabled=False, is_public=True, extra_specs=dict(extra_specs or {}),
        description=None)
    boot_meta = {'properties': dict(image or {})}
    image_meta = objects.ImageMeta.from_dict(boot_meta)
    numa_topology = n['hardware'].numa_get_constraints(flavor, image_meta)
    policy = n['hardware'].get_pci_numa_policy_constraint(flavor, image_meta)
    pci_requests = n['pci_request'].get_pci_requests_from_flavor(
        flavor, affinity_policy=policy)
    filter_properties = n['scheduler_utils'].build_filter_properties(
        {}, forced_host, forced_node, flavor)
    ctxt = n['context'].RequestContext(user_id='u', project_id='p')
    spec = objects.RequestSpec.from_components(
        ctxt, uuid, boot_meta, flavor, numa_topology, pci_requests,
        filter_properties, None, availability_zone,
        security_groups=objects.SecurityGroupList(objects=[]))
    spec.is_bfv = False
    return spec


def stored(spec):
    """The ``spec`` column nova writes for this RequestSpec."""
    return spec._get_update_primitives()['spec']


def with_retry(spec, attempts, hosts, destination=None):
    """The spec as the conductor passes it on a reschedule.

    With the per-request fields nova never stores.
    """
    objects = nova()['objects']
    spec = spec.obj_clone()
    spec.retry = objects.SchedulerRetries(
        num_attempts=attempts,
        hosts=objects.ComputeNodeList(objects=[
            objects.ComputeNode(host=h, hypervisor_hostname=f'{h}.node')
            for h in hosts]))
    spec.ignore_hosts = list(hosts)
    if destination:
        spec.requested_destination = objects.Destination(
            host=destination, node=f'{destination}.node')
    return jsonutils.dumps(spec.obj_to_primitive())


def legacy_numa(spec):
    """The blob an older nova wrote: InstanceNUMACell 1.4.

    Pinned CPUs in cpuset (InstanceNUMACell.obj_make_compatible).
    """
    objects = nova()['objects']
    spec = objects.RequestSpec.obj_from_primitive(jsonutils.loads(
        stored(spec)))
    return jsonutils.dumps(spec.obj_to_primitive(
        version_manifest={'InstanceNUMATopology': '1.3',
                          'InstanceNUMACell': '1.4'}))


def fixtures():
    """name -> blob, for tests/fixtures/request_specs."""
    blobs = {name: stored(build(**case)) for name, case in CASES.items()}
    dedicated = build(**CASES['dedicated-two-numa'])
    blobs['legacy-numa-cell-1.4'] = legacy_numa(dedicated)
    blobs['rpc-retry-destination'] = with_retry(
        build(**CASES['a40-pf-pair']), 3, ['gpu-a40-01', 'gpu-a40-02'],
        destination='gpu-a40-03')
    return blobs


def main(directory):
    for name, blob in sorted(fixtures().items()):
        with open(os.path.join(directory, f'{name}.json'), 'w') as f:
            f.write(blob + '\n')


if __name__ == '__main__':
    main(sys.argv[1])
