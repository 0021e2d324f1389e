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

"""SDK fakes for command tests, failing the way the real SDK fails.

The compute proxy is autospecced from openstacksdk's, so a call with the
wrong signature fails here as it would against the SDK. Raw calls
(``post``) of the real proxy do not raise on an HTTP error: they return the
4xx/5xx ``requests.Response`` (keystoneauth ``raise_exc=False``) and the
caller must check it, so the fakes return real responses too.
"""

import json
from unittest import mock

import requests

from openstack.compute.v2 import _proxy as compute_proxy
from openstack.compute.v2 import flavor as sdk_flavor
from osc_lib.test import base


def make_flavor(**attrs):
    values = {'id': 'f-1', 'name': 'gpu.a40', 'vcpus': 8, 'ram': 16384,
              'disk': 40, 'ephemeral': 0, 'swap': 0, 'is_public': True,
              'description': None, 'extra_specs': {}}
    values.update(attrs)
    return sdk_flavor.Flavor(**values)


def response(status: int, body: dict,
             url: str = 'http://nova.example:8774/v2.1/flavors/f-1/'
                        'os-extra_specs') -> requests.Response:
    """A real HTTP response, as a raw proxy call returns it."""
    result = requests.Response()
    result.status_code = status
    result.headers['content-type'] = 'application/json'
    result._content = json.dumps(body).encode()
    result.url = url
    result.request = requests.Request('POST', url).prepare()
    return result


def nova_fault(status: int, message: str, **kwargs) -> requests.Response:
    """nova's error body for STATUS (nova/api/openstack/wsgi.py Fault)."""
    name = {400: 'badRequest', 403: 'forbidden', 404: 'itemNotFound',
            409: 'conflictingRequest'}.get(status, 'computeFault')
    return response(status, {name: {'code': status, 'message': message}},
                    **kwargs)


class TestCommand(base.TestCommand):

    def setUp(self):
        super().setUp()
        self.compute = mock.create_autospec(compute_proxy.Proxy,
                                            instance=True)
        endpoint = mock.Mock(max_microversion=(2, 96))
        self.compute.get_endpoint_data.return_value = endpoint
        self.app.client_manager.gpu = mock.Mock(compute=self.compute)
