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

"""Test cases that write files: a temporary directory of their own."""

import os

import fixtures


class TempFiles:
    """Mixin for a TestCase: ``self.tmp``, removed after the test."""

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def write(self, name, text):
        """Write ``text`` to ``name`` in ``self.tmp``; its path."""
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        return path
