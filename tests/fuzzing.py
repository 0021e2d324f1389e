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


"""Hypothesis settings shared by the property tests.

``ci`` (the default) is derandomized: the same examples on every run, no
example database needed. ``tox -e fuzz`` selects ``fuzz``: many more
examples, random, and failures kept in ``.hypothesis/`` to replay.
"""

import os

import hypothesis

hypothesis.settings.register_profile(
    'ci', max_examples=300, derandomize=True, database=None, deadline=None,
    print_blob=True)
hypothesis.settings.register_profile(
    'fuzz', max_examples=20000, deadline=None, print_blob=True)
hypothesis.settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))
