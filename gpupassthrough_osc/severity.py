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


"""One severity vocabulary: audit findings, host checks and ``--fail-on``.

The strings are what operators parse in the Severity and Status columns;
they never change. A finding is ``error``, ``warning`` or ``info``; a host
check that passed is ``ok``. Rank 0 is the most severe.
"""

from collections.abc import Iterable

# what a finding's severity, or a host check's status, is
Severity = str

ERROR: Severity = 'error'
WARNING: Severity = 'warning'
INFO: Severity = 'info'
OK: Severity = 'ok'

RANK: dict[Severity, int] = {ERROR: 0, WARNING: 1, INFO: 2, OK: 3}

# --fail-on: the least severe level that fails the run, or never
NEVER = 'never'
FAIL_ON_CHOICES = (ERROR, WARNING, NEVER)


def rank(severity: Severity) -> int:
    return RANK[severity]


def worst(severities: Iterable[Severity]) -> Severity | None:
    """The most severe of ``severities``, or None when there is none."""
    return min(severities, key=rank, default=None)


def fails(worst_seen: Severity | None, fail_on: str) -> bool:
    """Does a run whose worst row is ``worst_seen`` fail ``--fail-on``?"""
    if worst_seen is None or fail_on == NEVER:
        return False
    return rank(worst_seen) <= rank(fail_on)
