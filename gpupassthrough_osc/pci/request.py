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

"""The flavor extra spec ``pci_passthrough:alias``: grammar and translation.

Two nova rules live here and nowhere else:

* the API validator (nova/api/validation/extra_specs/pci_passthrough.py),
  applied from compute API microversion 2.86: the whole value must
  ``re.fullmatch`` :data:`NOVA_VALUE_PATTERN`;
* the translation into PCI requests at boot
  (nova/pci/request.py ``_translate_alias_to_requests``): split on ``,``,
  then on ``:``, strip the name, ``int()`` the count.

On top of nova we refuse values nova stores happily but that can never do
what the operator meant (see :func:`check_sensible`).
"""

from collections.abc import Iterable
import dataclasses
import re

from gpupassthrough_osc import exceptions
from gpupassthrough_osc.pci import alias as pci_alias
from gpupassthrough_osc.pci import pools as pci_pools

EXTRA_SPEC = 'pci_passthrough:alias'
NUMA_AFFINITY_SPEC = 'hw:pci_numa_affinity_policy'

# Copied from nova's validator so the two can be compared by eye.
NOVA_VALUE_PATTERN = r'[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*'

FORMAT_HINT = 'NAME:COUNT[,NAME:COUNT...] (for example gpuA40:1)'

# the items of one pci_passthrough:alias value
Requests = list['AliasRequest']
# (count, specs): one request as nova's filters take it, the alias's specs
Wanted = tuple[int, list[pci_pools.Spec]]


class RequestError(exceptions.GpuPassthroughError):
    """A ``pci_passthrough:alias`` value nova or this tool refuses."""


@dataclasses.dataclass(frozen=True)
class AliasRequest:
    """One ``name:count`` item of the extra spec, as nova translates it."""

    name: str
    count: int

    def __str__(self) -> str:
        return f'{self.name}:{self.count}'


def nova_accepts(value: object) -> bool:
    """Would nova's API validator (microversion >= 2.86) store ``value``?"""
    return isinstance(value, str) and bool(
        re.fullmatch(NOVA_VALUE_PATTERN, value))


def translate(value: str) -> list[AliasRequest]:
    """Split a value the way nova does when it builds PCI requests.

    Mirrors ``_translate_alias_to_requests``: nova does not re-check the
    grammar there, so a value stored through an old microversion can still
    break at boot; we raise :class:`RequestError` where nova would crash.
    """
    requests = []
    for item in value.split(','):
        parts = item.split(':')
        if len(parts) != 2:
            raise RequestError(
                f"item '{item}' is not NAME:COUNT; nova cannot translate it "
                f"into a PCI request and every boot of the flavor fails")
        name, count = parts
        try:
            requests.append(AliasRequest(name.strip(), int(count)))
        except ValueError:
            raise RequestError(
                f"count '{count}' of item '{item}' is not a whole number")
    return requests


def parse(value: object) -> list[AliasRequest]:
    """Validate ``value`` as nova's API would and return its requests.

    Raises :class:`RequestError` naming what is wrong.
    """
    if not isinstance(value, str) or not value:
        raise RequestError(f'empty value; expected {FORMAT_HINT}')
    if not nova_accepts(value):
        raise RequestError(
            f"'{value}' does not match nova's format {FORMAT_HINT}: no blanks "
            f"around ':', no trailing blank or comma, counts are whole "
            f"numbers")
    return translate(value)


def check_sensible(
        requests: list[AliasRequest]) -> list[AliasRequest]:
    """Refuse what nova accepts but that never makes sense.

    * a zero count: nova builds a request for no device at all;
    * the same alias twice: nova makes two independent requests, which is
      only a confusing way to write ``name:N``.
    * a ``,`` inside a name: nova's pattern lets ``a,b:1`` through, but
      its translation then fails at every boot (see :func:`translate`).
    """
    seen: set[str] = set()
    for request in requests:
        if not request.name:
            raise RequestError('an alias name is empty')
        if request.count < 1:
            raise RequestError(
                f"'{request}' asks for zero devices; nova accepts it but "
                f"the flavor then requests nothing")
        if request.name in seen:
            raise RequestError(
                f"alias '{request.name}' is named twice; nova would make "
                f"two separate requests: write it once with the total count")
        seen.add(request.name)
    return requests


def canonical(requests: Iterable[AliasRequest]) -> str:
    """Nova's canonical spelling: ``a:1,b:2``."""
    return ','.join(str(r) for r in requests)


def build(items: Iterable[str]) -> str:
    """Build one extra-spec value from ``--alias`` options.

    Each item is ``NAME:COUNT`` or a comma-separated list of them; all items
    are validated as nova does, then as :func:`check_sensible` does, and
    joined into nova's canonical form.
    """
    requests = []
    for item in items:
        requests.extend(parse(item))
    check_sensible(requests)
    return canonical(requests)


def parse_stored(value: str) -> tuple[list[AliasRequest], str | None]:
    """Parse a value already stored on a flavor.

    Returns ``(requests, problem)``; ``problem`` is ``None`` when nova's
    validator accepts the value and it makes sense, else the reason.
    ``requests`` is what nova would build at boot, or ``[]`` when nova
    cannot translate it.
    """
    try:
        requests = translate(value)
    except RequestError as exc:
        return [], str(exc)
    try:
        parse(value)
        check_sensible(requests)
    except RequestError as exc:
        return requests, str(exc)
    return requests, None


def undefined_aliases(requests: Iterable[AliasRequest],
                      aliases: pci_alias.Aliases) -> list[str]:
    """Names nova would answer with "PCI alias <name> is not defined"."""
    return [r.name for r in requests if r.name not in aliases]


def pci_requests(requests: Iterable[AliasRequest],
                 aliases: pci_alias.Aliases) -> list[Wanted]:
    """(count, specs) per request, as ``_translate_alias_to_requests``.

    ``aliases`` is the mapping of ``AliasConfig.aliases()``; callers check
    :func:`undefined_aliases` first.
    """
    return [(r.count, aliases[r.name][1]) for r in requests]
