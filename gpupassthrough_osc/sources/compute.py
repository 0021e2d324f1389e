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

import contextlib
import typing

from gpupassthrough_osc import exceptions

# The first microversion at which nova validates extra specs itself.
EXTRA_SPEC_VALIDATION_MICROVERSION = (2, 86)


def max_microversion(compute: typing.Any) -> str | None:
    """The highest compute microversion the endpoint offers, or None."""
    data = compute.get_endpoint_data()
    version = getattr(data, 'max_microversion', None) if data else None
    if not version:
        return None
    return '%d.%d' % tuple(version[:2])


def nova_validates_extra_specs(microversion: str | None) -> bool:
    if not microversion:
        return False
    major, minor = (int(x) for x in microversion.split('.'))
    return (major, minor) >= EXTRA_SPEC_VALIDATION_MICROVERSION


def set_extra_specs(compute: typing.Any, flavor_id: str,
                    specs: dict[str, str],
                    microversion: str | None) -> dict[str, str]:
    """POST extra specs; at >= 2.86 nova validates them and may refuse."""
    from openstack import exceptions

    response = compute.post(
        f'/flavors/{flavor_id}/os-extra_specs',
        json={'extra_specs': specs},
        microversion=microversion)
    exceptions.raise_from_response(response)
    return response.json().get('extra_specs', specs)


def find_flavor(compute: typing.Any, name_or_id: str) -> typing.Any:
    return compute.find_flavor(name_or_id, ignore_missing=False)


def flavors_with_specs(compute: typing.Any) -> typing.Iterable[typing.Any]:
    """Every flavor, with its extra specs (included from 2.61 on)."""
    return compute.flavors(details=True, is_public=None)


class ComputeAuthError(exceptions.SourceError):
    """The cloud refused the credentials, or they are incomplete."""


class ComputeApiError(exceptions.SourceError):
    """The compute API could not be reached or answered with an error."""


def connect(options: typing.Any,
            config: dict[str, typing.Any]) -> typing.Any:
    """An authenticated connection, for a command that runs without auth.

    The audit declares ``auth_required = False`` (nova's API database
    usually gives the flavors), so OSC has not authenticated. This
    resolves the cloud from the same clouds.yaml, ``OS_*`` variables and
    ``--os-*`` options (``options``: the OSC shell's parsed global
    options) the way osc-lib does for a command that requires auth
    (``OSC_Config.get_one(validate=True)``, password prompt included),
    with the auth type and interface OSC settled on by default
    (``config``: ``ClientManager.get_configuration()``), then connects
    with openstacksdk: public API only, no ClientManager internals.
    """
    import openstack
    from osc_lib.cli import client_config
    from osc_lib import shell

    from gpupassthrough_osc import plugin

    defaults = {k: config[k] for k in ('auth_type', 'interface')
                if config.get(k)}
    # every identity and compute call bounded, as for the commands OSC
    # authenticates itself (plugin.bound_api_calls); clouds.yaml wins
    defaults['api_timeout'] = config.get('api_timeout') or \
        plugin.api_timeout()
    region = client_config.OSC_Config(
        pw_func=shell.prompt_for_password,
        override_defaults=defaults).get_one(
            cloud=options.cloud, argparse=options, validate=True)
    return openstack.connection.Connection(config=region)


def _compute(connection: typing.Any) -> typing.Any:
    """The connection's compute proxy, or a one-line ComputeApiError.

    openstacksdk hands out a generic proxy when the cloud's config gives
    no compute service (an ``endpoint`` or ``admin_token`` cloud that
    names one URL for everything); it has no compute calls at all.
    """
    from openstack.compute.v2 import _proxy

    compute = connection.compute
    if not isinstance(compute, _proxy.Proxy):
        raise ComputeApiError(
            'compute API: the cloud configuration gives no compute '
            'endpoint (set compute_endpoint_override or use the catalog)')
    return compute


@contextlib.contextmanager
def _api_errors() -> typing.Iterator[None]:
    """The cloud's failures as ComputeAuthError or ComputeApiError."""
    from keystoneauth1 import exceptions as ksa_exceptions
    from openstack import exceptions as sdk_exceptions

    try:
        yield
    except (ksa_exceptions.AuthorizationFailure, ksa_exceptions.Unauthorized,
            ksa_exceptions.Forbidden, ksa_exceptions.OptionError,
            ksa_exceptions.MissingAuthPlugin,
            sdk_exceptions.ConfigException) as exc:
        raise ComputeAuthError(
            f'compute API: authentication failed: {exc}') from exc
    except sdk_exceptions.HttpException as exc:
        if exc.status_code in (401, 403):
            raise ComputeAuthError(
                f'compute API: authentication failed: {exc}') from exc
        raise ComputeApiError(f'compute API: {exc}') from exc
    except (ksa_exceptions.ClientException,
            sdk_exceptions.SDKException) as exc:
        raise ComputeApiError(f'compute API: {exc}') from exc


def read_flavors(options: typing.Any,
                 config: dict[str, typing.Any]) -> list[typing.Any]:
    """Every flavor with its extra specs, through :func:`connect`.

    Raises ComputeAuthError when authentication fails, ComputeApiError
    for any other failure of the cloud.
    """
    with _api_errors():
        return list(flavors_with_specs(_compute(connect(options, config))))


# the flavor is shown with its extra specs from 2.47 on
SERVER_SHOW_MICROVERSION = '2.47'


def server_show(options: typing.Any, config: dict[str, typing.Any],
                ref: str) -> dict[str, typing.Any]:
    """A server's body as the compute API returns it (name or ID).

    The same fields ``openstack server show -f json`` prints: status,
    fault, host and the flavor with its extra specs. Errors as
    :func:`read_flavors`.
    """
    with _api_errors():
        compute = _compute(connect(options, config))
        server = compute.find_server(ref, ignore_missing=False,
                                     all_projects=True)
        response = compute.get(f'/servers/{server.id}',
                               microversion=SERVER_SHOW_MICROVERSION)
        if response.status_code != 200:
            raise ComputeApiError(
                f'compute API: GET /servers/{server.id}: HTTP '
                f'{response.status_code}')
        return response.json()['server']
