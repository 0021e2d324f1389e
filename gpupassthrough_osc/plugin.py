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

"""OpenStackClient hooks for the ``openstack gpu`` commands.

OSC imports this module on every ``openstack`` invocation, whatever the
command, so it must stay import-light: nothing here may pull in pymysql,
oslo.config, jsonschema or openstacksdk at module level.
"""

import os

API_NAME = 'gpu'
API_VERSION_OPTION = 'os_gpu_api_version'
DEFAULT_API_VERSION = '1'
API_VERSIONS = {'1': 'gpupassthrough_osc.plugin.GpuClient'}

# OSC leaves openstacksdk's api_timeout unset (None) unless clouds.yaml
# sets it, so a compute or identity endpoint that accepts and never answers
# would hold every call, the token request included, forever.
API_TIMEOUT = 30.0
API_TIMEOUT_ENV = 'GPUPASSTHROUGH_API_TIMEOUT'


def api_timeout() -> float:
    """Seconds per API call when clouds.yaml sets no ``api_timeout``."""
    try:
        seconds = float(os.environ.get(API_TIMEOUT_ENV) or API_TIMEOUT)
    except ValueError:
        return API_TIMEOUT
    return seconds if seconds > 0 else API_TIMEOUT


def bound_api_calls(app) -> None:
    """Give clouds.yaml's ``api_timeout`` a default: :func:`api_timeout`.

    Call it before OSC's ``prepare_to_run_command``, which makes the cloud
    config the session and the token request use from these defaults.
    """
    defaults = getattr(getattr(app, 'cloud_config', None), 'defaults', None)
    if isinstance(defaults, dict) and defaults.get('api_timeout') is None:
        defaults['api_timeout'] = api_timeout()


class GpuClient:
    """What the commands get as ``client_manager.gpu``.

    The plugin has no service of its own: it talks to nova's compute API
    through the openstacksdk connection OSC already authenticated.
    """

    def __init__(self, instance):
        self._instance = instance

    @property
    def compute(self):
        return self._instance.sdk_connection.compute


def make_client(instance):
    return GpuClient(instance)


def build_option_parser(parser):
    parser.add_argument(
        '--os-gpu-api-version',
        metavar='<gpu-api-version>',
        default=os.environ.get('OS_GPU_API_VERSION', DEFAULT_API_VERSION),
        help=f'gpupassthrough-osc command set version, '
             f'default={DEFAULT_API_VERSION} (Env: OS_GPU_API_VERSION)')
    return parser
