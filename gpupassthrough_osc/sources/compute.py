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

"""Nova's compute API through openstacksdk, at the microversion we need.

openstacksdk caps flavor calls at microversion 2.61 and OSC sends that too;
nova validates flavor extra specs only from 2.86 on
(nova/api/openstack/compute/flavors_extraspecs.py). So extra specs are
written here at the highest microversion the cloud offers, and callers keep
their own client-side check for clouds older than 2.86.
"""

# The first microversion at which nova validates extra specs itself.
EXTRA_SPEC_VALIDATION_MICROVERSION = (2, 86)


def max_microversion(compute):
    """The highest compute microversion the endpoint offers, or None."""
    data = compute.get_endpoint_data()
    version = getattr(data, 'max_microversion', None) if data else None
    if not version:
        return None
    return '%d.%d' % tuple(version[:2])


def nova_validates_extra_specs(microversion):
    if not microversion:
        return False
    major, minor = (int(x) for x in microversion.split('.'))
    return (major, minor) >= EXTRA_SPEC_VALIDATION_MICROVERSION


def set_extra_specs(compute, flavor_id, specs, microversion):
    """POST extra specs; at >= 2.86 nova validates them and may refuse."""
    from openstack import exceptions

    response = compute.post(
        f'/flavors/{flavor_id}/os-extra_specs',
        json={'extra_specs': specs},
        microversion=microversion)
    exceptions.raise_from_response(response)
    return response.json().get('extra_specs', specs)


def find_flavor(compute, name_or_id):
    return compute.find_flavor(name_or_id, ignore_missing=False)


def flavors_with_specs(compute):
    """Every flavor, with its extra specs (included from 2.61 on)."""
    return compute.flavors(details=True, is_public=None)
