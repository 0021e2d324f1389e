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

"""SDK fakes for command tests: mocks with the real proxy's spec."""

from unittest import mock

from openstack.compute.v2 import _proxy as compute_proxy
from openstack.compute.v2 import flavor as sdk_flavor
from osc_lib.test import base


def make_flavor(**attrs):
    values = {'id': 'f-1', 'name': 'gpu.a40', 'vcpus': 8, 'ram': 16384,
              'disk': 40, 'ephemeral': 0, 'swap': 0, 'is_public': True,
              'description': None, 'extra_specs': {}}
    values.update(attrs)
    return sdk_flavor.Flavor(**values)


class TestCommand(base.TestCommand):

    def setUp(self):
        super().setUp()
        self.compute = mock.Mock(spec=compute_proxy.Proxy)
        endpoint = mock.Mock(max_microversion=(2, 96))
        self.compute.get_endpoint_data.return_value = endpoint
        self.app.client_manager.gpu = mock.Mock(compute=self.compute)
