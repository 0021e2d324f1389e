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

"""Seeds of the generated differential cases: a fixed set plus one random.

The fixed seeds give every run the same cases; the random one finds what
they miss. Every failure message names its seed, and ``GPU_TEST_SEED``
replays it (tox passes ``GPU_TEST_*`` through).
"""

import collections
from collections.abc import Callable
import os
import random
import typing

import testtools.content

FIXED = (1, 2, 3)


def random_seed() -> int:
    """``$GPU_TEST_SEED`` when set (a replay), else a fresh one."""
    return int(os.environ.get('GPU_TEST_SEED') or
               random.SystemRandom().randrange(1, 10 ** 6))


def every_seed() -> tuple[int, ...]:
    """The fixed seeds and this run's random one."""
    return FIXED + (random_seed(),)


def label(seed: int) -> str:
    """How a failure names its seed: with the command that replays it."""
    return f'seed {seed} (replay: GPU_TEST_SEED={seed})'


def replay(seed: int, index: int, exc: AssertionError) -> AssertionError:
    """``exc`` with the seed and case that produced it, for a replay."""
    return AssertionError(f'{label(seed)} case {index}: {exc}')


# one generated case: draws from the generator, compares nova and us,
# counts what it reached in the tally
Case = Callable[[random.Random, collections.Counter], None]


def run(test: typing.Any, seed: int, count: int,
        case: Case) -> collections.Counter:
    """The tally of ``count`` cases drawn from ``seed``, kept in ``test``.

    A failing case is raised with its seed and index, for a replay; the
    tally goes into the test's details, to see what the cases reached.
    """
    rng = random.Random(seed)
    tally: collections.Counter = collections.Counter()
    for index in range(count):
        try:
            case(rng, tally)
        except AssertionError as exc:
            raise replay(seed, index, exc) from None
    test.addDetail(f'seed {seed}', testtools.content.text_content(
        str(tally)))
    return tally
