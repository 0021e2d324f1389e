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


"""Where in nova.conf each ``[pci] alias`` and ``device_spec`` value sits.

oslo.config gives values, not line numbers. One pass over each file's
text, splitting lines as oslo.config's iniparser does (the first ``=`` or
``:``, values stripped, one pair of matching quotes removed, indented
lines continuing the value above), finds the line of every value; the
values oslo.config returned are then matched to them in order.
"""

import collections

# (file, line number), or None where a value's line is not found
Location = tuple[str, int] | None
Key = tuple[str | None, str]          # (section, option)
# {(section, option): [(file, line, value), ...]}
Found = dict[Key, list[tuple[str, int, str]]]

# nova's names and the old ones it still reads (nova/conf/pci.py)
ALIAS_KEYS = frozenset({('pci', 'alias'), ('DEFAULT', 'pci_alias')})
DEVICE_SPEC_KEYS = frozenset({
    ('pci', 'device_spec'), ('pci', 'passthrough_whitelist'),
    ('DEFAULT', 'pci_passthrough_whitelist')})


def _split(line: str) -> tuple[str, str] | None:
    colon, equal = line.find(':'), line.find('=')
    if colon < 0 and equal < 0:
        return None
    if colon < 0 or 0 <= equal < colon:
        key, value = line[:equal], line[equal + 1:]
    else:
        key, value = line[:colon], line[colon + 1:]
    value = value.strip()
    if len(value) > 1 and value[0] == value[-1] and value[0] in '"\'':
        value = value[1:-1]
    return key.strip(), value


def read(files: list[str]) -> dict[str, list[str]]:
    """``{file: its lines}``; a file that cannot be read has none."""
    texts = {}
    for filename in files:
        try:
            with open(filename, encoding='utf-8', errors='replace') as f:
                texts[filename] = f.readlines()
        except OSError:
            texts[filename] = []
    return texts


def scan(files: list[str], keys: frozenset[Key],
         texts: dict[str, list[str]] | None = None) -> Found:
    """``{(section, option): [(file, line, value), ...]}`` in file order.

    ``texts``: the files' lines when the caller has read them already.
    """
    found: Found = collections.defaultdict(list)
    texts = read(files) if texts is None else texts
    for filename in files:
        lines = texts[filename]
        section, last = None, None
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            if not stripped or stripped[0] in '#;':
                continue
            if line[0] in ' \t':
                if last is not None:
                    key, (name, start, value) = last
                    found[key][-1] = (name, start, value + '\n' + stripped)
                    last = (key, found[key][-1])
                continue
            last = None
            if stripped.startswith('['):
                section = stripped[1:stripped.find(']')].strip()
                continue
            pair = _split(line)
            if pair and (section, pair[0]) in keys:
                found[(section, pair[0])].append(
                    (filename, number, pair[1]))
                last = ((section, pair[0]), found[(section, pair[0])][-1])
    return found


def locate(values: list[str], found: Found) -> list[Location]:
    """The location of each of ``values``, matched by value in order."""
    queues: dict[str, collections.deque[tuple[str, int]]] = \
        collections.defaultdict(collections.deque)
    for entries in found.values():
        for filename, number, value in entries:
            queues[value].append((filename, number))
    return [queues[v].popleft() if queues.get(v) else None for v in values]


def locations(files: list[str], alias: list[str],
              device_spec: list[str],
              texts: dict[str, list[str]] | None = None
              ) -> tuple[list[Location], list[Location]]:
    """(alias locations, device_spec locations) in one pass per file."""
    found = scan(files, ALIAS_KEYS | DEVICE_SPEC_KEYS, texts)
    return (locate(alias, {k: v for k, v in found.items()
                           if k in ALIAS_KEYS}),
            locate(device_spec, {k: v for k, v in found.items()
                                 if k in DEVICE_SPEC_KEYS}))


def describe(location: Location, fallback: str) -> str:
    """``file:line`` for a finding, or ``fallback`` when not found."""
    return f'{location[0]}:{location[1]}' if location else fallback
