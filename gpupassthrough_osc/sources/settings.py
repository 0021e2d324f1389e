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

"""Where the database URLs and timeouts come from, in precedence order.

Cell database: ``--db-connection``, ``$GPUPASSTHROUGH_DB_CONNECTION``,
the clouds.yaml key ``gpu_db_connection`` (which
``$OS_GPU_DB_CONNECTION`` also sets), then nova.conf ``[database]
connection``; the API database likewise. The command line options
themselves are declared in ``commands/inventory.py``.
"""

import argparse
import dataclasses
import logging
import os
import typing

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.sources import dburl
from gpupassthrough_osc.sources import novaconf
from gpupassthrough_osc.sources import novadb

LOG = logging.getLogger(__name__)

# Not OS_*: openstacksdk folds every OS_* variable into the cloud config,
# which `openstack --debug` and `openstack configuration show` print.
DB_ENV = 'GPUPASSTHROUGH_DB_CONNECTION'
API_DB_ENV = 'GPUPASSTHROUGH_API_DB_CONNECTION'
DB_CLOUD_KEY = 'gpu_db_connection'
API_DB_CLOUD_KEY = 'gpu_api_db_connection'
# not *_timeout: openstacksdk turns any clouds.yaml key ending in "timeout"
# into its own api_timeout (openstack/config/loader.py)
DB_TIMEOUT_CLOUD_KEY = 'gpu_db_timeout_seconds'
MAX_SECONDS = 365 * 24 * 3600


class SettingError(exceptions.SourceError):
    """A clouds.yaml value, or options together, that cannot be used."""


def seconds(value: object) -> float | None:
    """``value`` as seconds above 0 and at most a year, else None."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_SECONDS else None


def not_seconds(value: object) -> str:
    """What is wrong with a value :func:`seconds` refuses."""
    return (f'{value!r} is not a number of seconds above 0 and at most '
            f'{MAX_SECONDS} (a year)')


@dataclasses.dataclass(frozen=True)
class Cloud:
    """The OSC shell's cloud, for the adapters that call its APIs.

    ``options``: the shell's parsed global options (``--os-cloud`` ...);
    ``config``: ``ClientManager.get_configuration()``, the clouds.yaml
    keys and ``OS_*`` variables.
    """

    options: typing.Any
    config: dict[str, typing.Any]

    def value(self, key: str) -> typing.Any:
        return self.config.get(key)

    def configured(self) -> bool:
        """Whether credentials are configured (not whether they work)."""
        auth = self.value('auth') or {}
        return bool(auth.get('auth_url') or auth.get('endpoint'))


def timeouts(db_timeout: float | None, cloud: Cloud) -> novadb.Timeouts:
    """``--db-timeout``, else clouds.yaml's, else the defaults."""
    limit = db_timeout
    if limit is None:
        value = cloud.value(DB_TIMEOUT_CLOUD_KEY)
        if value is None:
            return novadb.Timeouts()
        limit = seconds(value)
        if limit is None:
            raise SettingError(
                f'clouds.yaml {DB_TIMEOUT_CLOUD_KEY}: {not_seconds(value)}')
    return novadb.Timeouts(connect=limit,
                           read=max(limit, novadb.READ_TIMEOUT))


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def _cloud_url(cloud: Cloud, key: str) -> str | None:
    url = cloud.value(key)
    if url and dburl.password(url):
        # OSC prints the cloud config (clouds.yaml keys and OS_* variables)
        # in `openstack configuration show` and with --debug
        LOG.warning('%s (clouds.yaml, or $OS_%s) holds a password, which '
                    '`openstack configuration show` and --debug print in '
                    'clear: use $%s or ?read_default_file=/path/to/my.cnf',
                    key, key.upper(),
                    API_DB_ENV if key == API_DB_CLOUD_KEY else DB_ENV)
    return url


def db_urls(args: argparse.Namespace, cloud: Cloud,
            confs: list[novaconf.NovaConf]) -> tuple[str | None, str | None]:
    """(cell database URL, API database URL), each None when not given."""
    cell_url = _first(args.db_connection, os.environ.get(DB_ENV),
                      _cloud_url(cloud, DB_CLOUD_KEY),
                      *(c.database_connection for c in confs))
    api_url = _first(args.api_db_connection,
                     os.environ.get(API_DB_ENV),
                     _cloud_url(cloud, API_DB_CLOUD_KEY),
                     *(c.api_database_connection for c in confs))
    return cell_url, api_url
