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
