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

"""Our rules against nova's own code, case by case.

nova 34.0.0 is importable in this environment, so instead of trusting our
reading of nova we ask nova. This module holds the shared way in
(:func:`nova`, :func:`nova_alias_conf`) and the extra-spec grammar and
device_spec cases; the ``*_agreement.py`` modules beside it hold the rest
(``test_alias_agreement``: the [pci] alias parser,
``test_translation_agreement``: flavor values into PCI requests,
``test_pool_agreement``: the scheduler's pool filters). Generated cases
use the seeds of ``seeds.py``.
"""

import contextlib
import json
import random
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st
import testtools

from gpupassthrough_osc.pci import audit as our_audit
from gpupassthrough_osc.pci import model
from gpupassthrough_osc.pci import request as our_request
from tests import fuzzing  # noqa: F401  (the settings profile)

CASES = 600

_NOVA = {}


def nova():
    """nova's modules, with its configuration initialised once."""
    if not _NOVA:
        from nova.api.validation.extra_specs import validators
        from nova import conf
        from nova import exception
        from nova import objects
        from nova.pci import request
        from nova.pci import stats

        conf.CONF([], project='nova', default_config_files=[])
        objects.register_all()
        _NOVA.update(conf=conf.CONF, exception=exception, objects=objects,
                     request=request, stats=stats, validators=validators)
    return _NOVA


def _validate_checked_once(instance, schema):
    """``jsonschema.validate``, checking nova's constant schema once.

    validate() checks the schema against its metaschema on every call,
    ~3 ms of every line nova parses; the verdict and the error
    (best_match) are validate()'s own, so the differential cases can be
    many without nova's side dominating the run.
    """
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    if id(schema) not in _CHECKED_SCHEMAS:
        cls.check_schema(schema)
        _CHECKED_SCHEMAS[id(schema)] = schema
    error = jsonschema.exceptions.best_match(cls(schema).iter_errors(
        instance))
    if error is not None:
        raise error


_CHECKED_SCHEMAS = {}


@contextlib.contextmanager
def nova_alias_conf(lines, pci_in_placement, on_line=None):
    """nova's [pci] alias and pci_in_placement set to these values.

    ``on_line(text)`` sees each line nova's parser loads, in its order.
    """
    from oslo_serialization import jsonutils

    n = nova()
    n['conf'].set_override('alias', lines, 'pci')
    n['conf'].set_override('pci_in_placement', pci_in_placement,
                           'filter_scheduler')
    n['request'].get_alias_from_config.cache_clear()
    loads = jsonutils.loads

    def watched_loads(text, *args, **kwargs):
        if on_line is not None:
            on_line(text)
        return loads(text, *args, **kwargs)

    try:
        with mock.patch('jsonschema.validate', _validate_checked_once), \
                mock.patch.object(jsonutils, 'loads', watched_loads):
            yield n['request']
    finally:
        # the overrides leak into every later reader of nova's options
        # (test_scheduler_agreement's fresh ConfigOpts sees them too)
        n['conf'].clear_override('alias', 'pci')
        n['conf'].clear_override('pci_in_placement', 'filter_scheduler')


def nova_accepts(n, value):
    """nova's extra-spec validator's verdict on a pci_passthrough:alias."""
    try:
        n['validators'].validate('pci_passthrough:alias', value)
    except n['exception'].ValidationError:
        return False
    return True


class TestExtraSpecGrammar(testtools.TestCase):

    def test_same_verdicts(self):
        n = nova()
        rng = random.Random(2)
        alphabet = ['a', 'b', ':', ',', ' ', '1', '0', '-', '\t']
        values = ['gpuA40:1', 'nvme155:1,gpu3080:1', 'a:1 , b:2', 'a :1']
        values += [''.join(rng.choice(alphabet)
                           for _ in range(rng.randint(0, 9)))
                   for _ in range(CASES * 3)]
        for value in values:
            self.assertEqual(nova_accepts(n, value),
                             our_request.nova_accepts(value), repr(value))


class TestExtraSpecGrammarProperty(testtools.TestCase):

    @given(st.text(alphabet='ab:,10- \t', max_size=12))
    def test_generated_values_get_novas_verdict(self, value):
        self.assertEqual(nova_accepts(nova(), value),
                         our_request.nova_accepts(value), repr(value))


DEVICE_SPEC_VALUES = st.one_of(
    st.sampled_from(['10de', '2235', '*', '0000:21:00.0', '0000:21:*.*',
                     'physnet1', 'true', '', 'x']),
    st.integers(-1, 2), st.none(), st.booleans())
DEVICE_SPEC_OBJECTS = st.dictionaries(
    st.sampled_from(['vendor_id', 'product_id', 'address', 'devname',
                     'physical_network', 'trusted']),
    DEVICE_SPEC_VALUES, max_size=3)
DEVICE_SPEC_LINE = st.one_of(
    DEVICE_SPEC_OBJECTS.map(json.dumps),
    st.lists(st.one_of(DEVICE_SPEC_OBJECTS, DEVICE_SPEC_VALUES),
             max_size=2).map(json.dumps),
    DEVICE_SPEC_VALUES.map(json.dumps), st.text(max_size=6))


class TestDeviceSpecProperty(testtools.TestCase):
    """DEVICE_SPEC_INVALID only where nova-compute refuses the value.

    Ours checks the structure nova checks first (JSON, an object or a list
    of objects); nova refuses more (addresses, keys), so the property is
    one way: whenever we say invalid, nova's Whitelist refuses too.
    """

    @given(DEVICE_SPEC_LINE)
    def test_our_invalid_is_novas_invalid(self, value):
        from nova.pci import whitelist

        nova()
        conf = mock.Mock(path='nova.conf', device_spec=[value],
                         device_spec_lines=[])
        ours = our_audit.device_spec_invalid(model.Inventory(
            confs=[conf]))
        try:
            whitelist.Whitelist([value])
            nova_refuses = False
        except Exception:  # any of nova's PciConfigInvalidSpec family
            nova_refuses = True
        if ours:
            self.assertTrue(nova_refuses, value)
