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

"""``[pci] alias`` definitions, parsed and validated exactly as nova does.

Mirrors ``get_alias_from_config`` in nova/pci/request.py (nova 34.0.0):
every ``alias =`` line is one JSON object, checked against nova's JSON
schema; entries sharing a name are alternatives that must agree on
``numa_policy`` and ``device_type``; since nova 32.0.0 each entry needs
``vendor_id`` and ``product_id`` (or, with ``[filter_scheduler]
pci_in_placement``, a ``resource_class``).

Nova stops at the first bad line and then refuses *every* PCI request
("Invalid PCI alias definition: <reason>"). We keep going so that each line
gets its own verdict, and report the first failure as nova's.
"""

from collections.abc import Callable
from collections.abc import Iterable
import dataclasses
import functools
import json
import re
import typing

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.pci import pools as pci_pools

# nova/pci/request.py _ALIAS_SCHEMA; the enums come from
# nova/objects/fields.py (vdpa is deliberately absent from device_type).
DEVICE_TYPES = ('type-PCI', 'type-PF', 'type-VF')
NUMA_POLICIES = ('required', 'legacy', 'preferred', 'socket')
# nova/pci/utils.py PCI_VENDOR_PATTERN, verbatim (its messages quote it)
_HEX4 = r'^([\da-fA-F]{4})$'

ALIAS_SCHEMA = {
    'type': 'object',
    'additionalProperties': False,
    'properties': {
        'name': {'type': 'string', 'minLength': 1, 'maxLength': 256},
        'capability_type': {'type': 'string', 'enum': ['pci']},
        'product_id': {'type': 'string', 'pattern': _HEX4},
        'vendor_id': {'type': 'string', 'pattern': _HEX4},
        'device_type': {'type': 'string', 'enum': list(DEVICE_TYPES)},
        'numa_policy': {'type': 'string', 'enum': list(NUMA_POLICIES)},
        'resource_class': {'type': 'string'},
        'traits': {'type': 'string'},
        'live_migratable': {'type': 'string'},
    },
    'required': ['name'],
}

DEFAULT_NUMA_POLICY = 'legacy'

# name -> (numa_policy, [spec, ...]): nova's get_alias_from_config result
# (nova/pci/request.py ``Alias``)
Alias = tuple[str | None, list[pci_pools.Spec]]
Aliases = dict[str, Alias]
_NAME_IN_TEXT = re.compile(r'"name"\s*:\s*"([^"\\]{1,256})"')


@dataclasses.dataclass
class AliasEntry:
    """One ``alias =`` line and nova's verdict on it."""

    raw: str
    source: str = ''
    name: str | None = None
    numa_policy: str | None = None
    # whether the line sets numa_policy (if not, numa_policy holds nova's
    # default): for the commands to show, nova never compares it
    numa_policy_set: bool = False
    # The request spec nova builds: alias keys with device_type renamed to
    # dev_type, name and numa_policy removed.
    spec: pci_pools.Spec | None = None
    reason: str | None = None
    # Which of nova's checks failed: 'parse' (JSON, schema and same-name
    # rules, checked line by line), then, only once every line parsed,
    # 'multispec' and 'ids' (nova's _validate_aliases).
    stage: str | None = None

    @property
    def valid(self) -> bool:
        return self.reason is None

    @property
    def dev_type(self) -> typing.Any:
        return (self.spec or {}).get('dev_type')

    @property
    def vendor_id(self) -> typing.Any:
        return (self.spec or {}).get('vendor_id')

    @property
    def product_id(self) -> typing.Any:
        return (self.spec or {}).get('product_id')


@dataclasses.dataclass
class AliasConfig:
    """All ``[pci] alias`` lines of one nova.conf, with nova's result."""

    entries: list[AliasEntry]
    source: str = ''
    pci_in_placement: bool = False

    @property
    def error(self) -> str | None:
        """The ``Invalid PCI alias definition`` reason nova raises, if any.

        Nova reports the first failing line; any failure disables all
        aliases of the service. The checks after the loop name every
        offending alias at once.
        """
        for entry in self.entries:
            if entry.stage == 'parse':
                return entry.reason
        # nova's _validate_multispec walks its alias dict, which holds the
        # names in the order they first appear, not the order they repeat;
        # entries past the 'parse' stage all have a name
        repeated = {e.name for e in self.entries
                    if e.stage == 'multispec' and e.name is not None}
        multispec = [name for name in dict.fromkeys(
            e.name for e in self.entries if e.name is not None)
            if name in repeated]
        if multispec:
            return _multispec_reason(','.join(multispec))
        names = sorted({e.name for e in self.entries
                        if e.stage == 'ids' and e.name is not None})
        if names:
            return _missing_ids_reason(','.join(names), self.pci_in_placement)
        return None

    def aliases(self) -> Aliases:
        """Name -> (numa_policy, [spec, ...]) of the valid entries.

        The same mapping nova's ``get_alias_from_config`` returns.
        """
        result: Aliases = {}
        for entry in self.entries:
            if entry.valid and entry.name is not None and \
                    entry.spec is not None:
                policy, specs = result.setdefault(
                    entry.name, (entry.numa_policy, []))
                specs.append(entry.spec)
        return result


@functools.cache
def _validator() -> tuple[typing.Any, Callable[..., typing.Any]]:
    """nova's jsonschema.validate(), less what it redoes on every call.

    validate() checks the schema against its metaschema and builds a
    validator each time: ~2.3 ms a line, nova's own cost. The same
    validator class, built once, and the same best_match() give the same
    verdicts and messages.
    """
    import jsonschema  # heavy: import on use, never at plugin load

    cls = jsonschema.validators.validator_for(ALIAS_SCHEMA)
    cls.check_schema(ALIAS_SCHEMA)
    return cls(ALIAS_SCHEMA), jsonschema.exceptions.best_match


# The only keywords _plainly_valid() reads; tests/unit/test_alias.py fails
# when ALIAS_SCHEMA grows another one.
FAST_PATH_KEYWORDS = frozenset(
    {'type', 'enum', 'pattern', 'minLength', 'maxLength'})


def _plainly_valid(data: object) -> bool:
    """Whether ``data`` meets ALIAS_SCHEMA by the schema's own values.

    Only ever says yes for what jsonschema accepts (an object with
    ``name``, known keys, string values within each enum, pattern and
    length); anything else goes to jsonschema for nova's verdict and
    message. Makes a valid line ~20x cheaper than iter_errors().
    """
    if type(data) is not dict or 'name' not in data:
        return False
    properties = typing.cast(dict[str, dict[str, typing.Any]],
                             ALIAS_SCHEMA['properties'])
    for key, value in data.items():
        rule = properties.get(key)
        if rule is None or type(value) is not str:
            return False
        if 'enum' in rule and value not in rule['enum']:
            return False
        if 'pattern' in rule and not re.search(rule['pattern'], value):
            return False
        if not rule.get('minLength', 0) <= len(value) <= rule.get(
                'maxLength', len(value)):
            return False
    return True


def _load_entry(raw: str) -> typing.Any:
    """JSON and schema check of one line, as nova does before naming it."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise _Invalid(f'not valid JSON: {exc}')
    if _plainly_valid(data):
        return data
    validator, best_match = _validator()
    error = best_match(validator.iter_errors(data))
    if error is not None:
        # nova reports exc.message, e.g. "'type-XX' is not one of [...]"
        hint = ''
        if isinstance(data, list):
            hint = " (a JSON list is refused: write one 'alias =' line " \
                   "per object)"
        raise _Invalid(error.message + hint)
    return data


class _Invalid(Exception):
    pass


def _to_spec(data: dict[str, str]) -> tuple[str, str, pci_pools.Spec]:
    """The request spec nova derives from a schema-valid alias object."""
    spec: pci_pools.Spec = dict(data)
    name = spec.pop('name').strip()
    numa_policy = spec.pop('numa_policy', None) or DEFAULT_NUMA_POLICY
    dev_type = spec.pop('device_type', None)
    if dev_type:
        spec['dev_type'] = dev_type
    live_migratable = spec.pop('live_migratable', None)
    if live_migratable is not None:
        spec['live_migratable'] = _strict_bool(live_migratable)
    return name, numa_policy, spec


def _strict_bool(value: str) -> str:
    # oslo.utils strutils.bool_from_string(strict=True) as nova calls it.
    lowered = value.strip().lower()
    if lowered in ('1', 't', 'true', 'on', 'y', 'yes'):
        return 'true'
    if lowered in ('0', 'f', 'false', 'off', 'n', 'no'):
        return 'false'
    raise _Invalid(
        f"Unrecognized value '{value}', acceptable values are: '0', '1', "
        f"'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'")


def _same_name_conflict(first: AliasEntry, entry: AliasEntry) -> str | None:
    """Nova's same-name rules, in nova's order.

    If either entry lacks device_type nova's dict lookup raises
    ``KeyError('dev_type')`` and the message is literally ``'dev_type'``.
    """
    if first.numa_policy != entry.numa_policy:
        return f"NUMA policy mismatch for alias '{entry.name}'"
    first_spec, spec = first.spec or {}, entry.spec or {}
    if 'dev_type' not in first_spec or 'dev_type' not in spec:
        return ("'dev_type' (entries sharing the name "
                f"'{entry.name}' must all set device_type)")
    if first_spec['dev_type'] != spec['dev_type']:
        return f"Device type mismatch for alias '{entry.name}'"
    return None


def _has_required_ids(spec: pci_pools.Spec, pci_in_placement: bool) -> bool:
    """nova's _validate_required_ids (nova >= 32.0.0)."""
    if 'vendor_id' in spec and 'product_id' in spec:
        return True
    return pci_in_placement and 'resource_class' in spec


def _multispec_reason(names: str) -> str:
    # nova/pci/request.py _validate_multispec, word for word
    return (f'The PCI alias(es) {names} have multiple specs but '
            f'[filter_scheduler]pci_in_placement is True. The PCI in '
            f'Placement feature only supports one spec per alias. You can '
            f'assign the same resource_class to multiple [pci]device_spec '
            f'matchers to allow using different devices for the same alias.')


def _missing_ids_reason(names: str, pci_in_placement: bool) -> str:
    if pci_in_placement:
        return (f'The PCI alias(es) {names} does not have vendor_id '
                f'and product_id fields set or resource_class field set.')
    return (f'The PCI alias(es) {names} does not have vendor_id and '
            f'product_id fields set.')


def parse_config(lines: Iterable[str], source: str = '',
                 pci_in_placement: bool = False) -> AliasConfig:
    """Validate the ``[pci] alias`` values of one service's configuration.

    ``lines`` are the option's values in the order oslo.config returns
    them. Returns an :class:`AliasConfig` whose entries each carry nova's
    reason when invalid.
    """
    entries = []
    first_of_name: dict[str, AliasEntry] = {}
    for raw in lines:
        entry = AliasEntry(raw=raw, source=source)
        entries.append(entry)
        try:
            data = _load_entry(raw)
            name, entry.numa_policy, spec = _to_spec(data)
            entry.numa_policy_set = bool(data.get('numa_policy'))
        except _Invalid as exc:
            entry.reason, entry.stage = str(exc), 'parse'
            continue
        entry.name, entry.spec = name, spec
        first = first_of_name.get(name)
        if first is None:
            first_of_name[name] = entry
        else:
            entry.reason = _same_name_conflict(first, entry)
            if entry.reason:
                entry.stage = 'parse'
                continue
            if pci_in_placement:
                entry.reason = _multispec_reason(name)
                entry.stage = 'multispec'
                continue
        if not _has_required_ids(spec, pci_in_placement):
            entry.reason = _missing_ids_reason(name, pci_in_placement)
            entry.stage = 'ids'
    return AliasConfig(entries=entries, source=source,
                       pci_in_placement=pci_in_placement)


def name_in(raw: str) -> str | None:
    """The ``"name"`` a line nova cannot parse seems to give, for reports."""
    match = _NAME_IN_TEXT.search(raw)
    return match.group(1) if match else None


def render(name: str, vendor_id: str, product_id: str,
           device_type: str | None = None,
           numa_policy: str | None = None) -> str:
    """One ``[pci] alias`` JSON value, keys in the order operators expect."""
    data = {'name': name, 'vendor_id': vendor_id.lower(),
            'product_id': product_id.lower()}
    if device_type:
        data['device_type'] = device_type
    if numa_policy:
        data['numa_policy'] = numa_policy
    entry = parse_config([json.dumps(data)]).entries[0]
    if entry.reason:
        raise exceptions.InvalidAlias(
            f'alias {name} would be invalid: {entry.reason}')
    return json.dumps(data)
