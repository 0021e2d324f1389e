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
