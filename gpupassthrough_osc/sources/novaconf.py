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

"""nova.conf read with oslo.config, the way nova's services read it.

Only the options this tool needs are registered, with nova's own names,
deprecated names and defaults (nova/conf/pci.py, nova/conf/scheduler.py,
nova/conf/database.py), so repeated ``alias =`` keys, ``nova.conf.d``
directories and the old spellings behave as they do in nova.
"""

import collections.abc
import dataclasses
import logging
import os
import typing

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.pci import scheduler
from gpupassthrough_osc.sources import conflines
from gpupassthrough_osc.sources import dburl

DEFAULT_PATH = '/etc/nova/nova.conf'

# Old option names nova still reads, and what replaced them.
DEPRECATED_NAMES = {
    ('pci', 'passthrough_whitelist'): '[pci] device_spec',
    ('DEFAULT', 'pci_passthrough_whitelist'): '[pci] device_spec',
    ('DEFAULT', 'pci_alias'): '[pci] alias',
}


class NovaConfError(exceptions.SourceError):
    """A nova.conf that cannot be read or parsed."""


@dataclasses.dataclass
class NovaConf:
    """The options of one nova.conf (plus its .d directory) we look at."""

    path: str
    alias: list[str]
    device_spec: list[str]
    report_in_placement: bool = False
    pci_in_placement: bool = False
    # repr=False: a repr must never carry a password (sources/dburl.py)
    database_connection: str | None = dataclasses.field(
        default=None, repr=False)
    api_database_connection: str | None = dataclasses.field(
        default=None, repr=False)
    # (section, old option, new name) for options set under an old name.
    deprecated: list[tuple[str, str, str]] = dataclasses.field(
        default_factory=list)
    enabled_filters: list[str] = dataclasses.field(
        default_factory=lambda: list(scheduler.DEFAULT_ENABLED_FILTERS))
    available_filters: list[str] = dataclasses.field(
        default_factory=lambda: list(scheduler.DEFAULT_AVAILABLE_FILTERS))
    max_attempts: int = scheduler.DEFAULT_MAX_ATTEMPTS
    # What this file sets that only a controller needs, e.g.
    # '[filter_scheduler] enabled_filters' (see pci.scheduler).
    controller_markers: list[str] = dataclasses.field(default_factory=list)
    # (file, line) of each alias / device_spec value; None where unknown
    alias_lines: list[conflines.Location] = dataclasses.field(
        default_factory=list)
    device_spec_lines: list[conflines.Location] = dataclasses.field(
        default_factory=list)


def _register(conf: typing.Any) -> None:
    from oslo_config import cfg

    conf.register_opts([
        cfg.MultiStrOpt('alias', default=[],
                        deprecated_name='pci_alias',
                        deprecated_group='DEFAULT'),
        cfg.MultiStrOpt('device_spec', default=[], deprecated_opts=[
            cfg.DeprecatedOpt('passthrough_whitelist', group='pci'),
            cfg.DeprecatedOpt('pci_passthrough_whitelist',
                              group='DEFAULT')]),
        cfg.BoolOpt('report_in_placement', default=False),
    ], group='pci')
    conf.register_opts([
        cfg.BoolOpt('pci_in_placement',
                    default=scheduler.DEFAULT_PCI_IN_PLACEMENT),
        cfg.ListOpt('enabled_filters',
                    default=list(scheduler.DEFAULT_ENABLED_FILTERS)),
        cfg.MultiStrOpt('available_filters',
                        default=list(scheduler.DEFAULT_AVAILABLE_FILTERS)),
    ], group='filter_scheduler')
    conf.register_opts(
        [cfg.IntOpt('max_attempts', default=scheduler.DEFAULT_MAX_ATTEMPTS,
                    min=1)],
        group='scheduler')
    for group in ('database', 'api_database'):
        conf.register_opts(
            [cfg.StrOpt('connection', secret=True)], group=group)


def _config_files(path: str) -> list[str]:
    """nova.conf, then the ``*.conf`` files of ``nova.conf.d`` beside it.

    Nova's packaging passes that directory as ``--config-dir``; its files
    are read in sorted order after the main file.
    """
    files = [path]
    conf_dir = path + '.d'
    if os.path.isdir(conf_dir):
        files += sorted(
            os.path.join(conf_dir, name) for name in os.listdir(conf_dir)
            if name.endswith('.conf'))
    return files


def _set_options(texts: dict[str, list[str]]) -> set[tuple[str, str]]:
    """{(section, option)} written in the files, whatever their values.

    oslo.config's own parser, so sections and keys are split exactly as
    in nova, over the lines ``load`` read once; its parse() would open
    the file again.
    """
    from oslo_config import cfg
    from oslo_config import iniparser

    found: set[tuple[str, str]] = set()
    for filename, lines in texts.items():
        sections: dict[str, dict[str, typing.Any]] = {}
        iniparser.BaseParser.parse(cfg.ConfigParser(filename, sections),
                                   lines)
        found.update((section, option)
                     for section, options in sections.items()
                     for option in options)
    return found


def _deprecated_in(written: set[tuple[str, str]]
                   ) -> list[tuple[str, str, str]]:
    return [(section, option, new)
            for (section, option), new in DEPRECATED_NAMES.items()
            if (section, option) in written]


def _controller_markers(written: set[tuple[str, str]]) -> list[str]:
    """Options only a controller's nova.conf sets (see pci.scheduler)."""
    return sorted(f'[{section}] {option}' for section, option in written
                  if section in ('filter_scheduler', 'scheduler') or
                  (section, option) == ('api_database', 'connection'))


def load(path: str) -> NovaConf:
    """Read one nova.conf. Raises :class:`NovaConfError` with one line."""
    from oslo_config import cfg

    if not os.path.exists(path):
        raise NovaConfError(f'{path}: no such file')
    if not os.access(path, os.R_OK):
        raise NovaConfError(f'{path}: not readable (permission denied)')
    files = _config_files(path)
    conf = cfg.ConfigOpts()
    _register(conf)
    try:
        conf(args=[], project='nova', default_config_files=files,
             default_config_dirs=[], use_env=False)
        # oslo.config has read the files for the values; the options
        # written and the values' lines come from one more read, shared
        texts = conflines.read(files)
        written = _set_options(texts)
        alias, device_spec = list(conf.pci.alias), list(conf.pci.device_spec)
        alias_lines, device_spec_lines = conflines.locations(
            files, alias, device_spec, texts)
        return NovaConf(
            path=path,
            alias=alias,
            device_spec=device_spec,
            alias_lines=alias_lines,
            device_spec_lines=device_spec_lines,
            report_in_placement=conf.pci.report_in_placement,
            pci_in_placement=conf.filter_scheduler.pci_in_placement,
            database_connection=conf.database.connection,
            api_database_connection=conf.api_database.connection,
            deprecated=_deprecated_in(written),
            enabled_filters=list(conf.filter_scheduler.enabled_filters),
            available_filters=list(conf.filter_scheduler.available_filters),
            max_attempts=conf.scheduler.max_attempts,
            controller_markers=_controller_markers(written),
        )
    except cfg.ConfigFileParseError as exc:
        raise NovaConfError(f'{path}: cannot parse: {exc.msg}')
    except UnicodeDecodeError:
        # a ValueError too, but no value is at fault: the file is binary
        raise NovaConfError(f'{path}: not a text file')
    except (cfg.ConfigFileValueError, ValueError) as exc:
        raise NovaConfError(f'{path}: bad value: {exc}')
    except cfg.Error as exc:
        raise NovaConfError(f'{path}: {exc}')
    finally:
        conf.reset()


def default_paths(paths: collections.abc.Sequence[str]) -> list[str]:
    """The ``--nova-conf`` list, or nova's default file when readable."""
    if paths:
        return list(paths)
    if os.access(DEFAULT_PATH, os.R_OK):
        return [DEFAULT_PATH]
    return []


def load_all(paths: collections.abc.Sequence[str]) -> list[NovaConf]:
    """The parsed nova.conf files (``--nova-conf``, else nova's default).

    Raises :class:`NovaConfError` with one line and no password.
    """
    # oslo.config logs its own warning for deprecated option names; we
    # report those as findings instead of as log noise.
    logging.getLogger('oslo_config.cfg').setLevel(logging.ERROR)
    try:
        return [load(path) for path in default_paths(paths)]
    except NovaConfError as exc:
        # oslo.config quotes a line it cannot parse, a [database]
        # connection too; --debug prints the chain, so it ends here
        raise NovaConfError(dburl.mask(exc)) from None
