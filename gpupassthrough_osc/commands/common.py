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

"""Options and error handling shared by the ``openstack gpu`` commands."""

import contextlib
import functools
import gc
import types

from cliff import columns
from osc_lib import exceptions

from gpupassthrough_osc import exceptions as gpu_exceptions
from gpupassthrough_osc import plugin
from gpupassthrough_osc import severity
from gpupassthrough_osc.sources import dburl
from gpupassthrough_osc.sources import novaconf


@contextlib.contextmanager
def command_errors(prefix=''):
    """The one place the package's errors become osc-lib's CommandError.

    OSC prints a CommandError as one line and exits 1; anything that is
    not a :class:`GpuPassthroughError` is a bug and keeps its traceback.
    """
    try:
        yield
    except gpu_exceptions.GpuPassthroughError as exc:
        # masked again here: whatever an adapter quoted, no password
        # reaches the terminal (sources/dburl.py)
        raise exceptions.CommandError(dburl.mask(f'{prefix}{exc}')) \
            from exc


def _streamed(rows):
    with command_errors():
        yield from rows


def maps_errors(take_action):
    """Decorate ``take_action``: its errors go through command_errors.

    A Lister that streams its rows raises while cliff prints them, after
    ``take_action`` returned; those are mapped too.
    """
    @functools.wraps(take_action)
    def wrapper(self, parsed_args):
        # What OSC and its plugins imported lives until exit: out of the
        # collector's sight, its full passes while a big read builds
        # objects and its last pass at exit walk only the command's own
        # (0.25 s of a 1M-row audit, doc/source/performance.rst). While
        # the command reads and judges, the collector pauses too: the
        # pools, nodes and findings it builds hold no reference cycles,
        # and a streamed listing runs after take_action, collector on.
        gc.freeze()
        gc.disable()
        try:
            with command_errors():
                result = take_action(self, parsed_args)
        finally:
            gc.enable()
        if isinstance(result, tuple) and len(result) == 2 and \
                isinstance(result[1], types.GeneratorType):
            return result[0], _streamed(result[1])
        return result
    return wrapper


def add_nova_conf_option(parser, what='to read [pci] options from'):
    parser.add_argument(
        '--nova-conf',
        metavar='<path>',
        action='append',
        default=[],
        dest='nova_conf',
        help=(f'nova.conf {what} (repeat for several nodes: the '
              f'controller\'s and the computes\' copies; a nova.conf.d '
              f'directory beside the file is read too). Default: '
              f'{novaconf.DEFAULT_PATH} when it is readable.'))


class ApiTimeout:
    """Mixin for commands that call the compute API: every call bounded.

    cliff makes the command, then OSC makes the cloud config the session
    and the token request use (``prepare_to_run_command``), then the
    parser: only the constructor still comes early enough.
    """

    def __init__(self, app, app_args, cmd_name=None):
        super().__init__(app, app_args, cmd_name)
        plugin.bound_api_calls(app)


class FailOn:
    """Mixin for Listers that must fail a pipeline after printing.

    cliff's Lister returns 0 once the table is out; the audit and the host
    check return 1 when a row at or above ``--fail-on`` exists.
    """

    _failed = False

    def fail_if(self, parsed_args, severities):
        """Fail when one of ``severities`` is at or above ``--fail-on``."""
        self._failed = severity.fails(severity.worst(severities),
                                      parsed_args.fail_on)

    def run(self, parsed_args):
        self._failed = False
        result = super().run(parsed_args)
        return result or (1 if self._failed else 0)


class TextValues:
    """Mixin for ShowOnes: ``-f value`` and ``-f shell`` print table text.

    cliff's value and shell formatters print ``str()`` of a formatted
    column's machine_readable(), the Python repr of a list or dict; the
    table prints its human_readable() and json and yaml keep the data.
    """

    TEXT_FORMATTERS = ('value', 'shell')

    def produce_output(self, parsed_args, column_names, data):
        if parsed_args.formatter in self.TEXT_FORMATTERS:
            data = [value.human_readable()
                    if isinstance(value, columns.FormattableColumn)
                    else value for value in data]
        return super().produce_output(parsed_args, column_names, data)


def add_fail_on_option(parser):
    parser.add_argument(
        '--fail-on',
        choices=severity.FAIL_ON_CHOICES,
        default=severity.ERROR,
        help=('Exit with status 1 when a finding of this severity or worse '
              'exists (default: error). The table is printed either way.'))
