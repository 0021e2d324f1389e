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

"""Where the tests' shared files live, defined once for every test tree."""

import os

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
EXAMPLES = os.path.join(REPO, 'examples')
FIXTURES = os.path.join(REPO, 'tests', 'fixtures')


def example(name: str) -> str:
    """The path of one of the bundled examples (examples/NAME)."""
    return os.path.join(EXAMPLES, name)


def fixture(*parts: str) -> str:
    """The path of a test fixture (tests/fixtures/PARTS...)."""
    return os.path.join(FIXTURES, *parts)
