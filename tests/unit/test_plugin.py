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


"""The OSC hooks: import-light, and API calls bounded."""

import types

import fixtures
import testtools

from gpupassthrough_osc import plugin


def _app(**defaults):
    return types.SimpleNamespace(
        cloud_config=types.SimpleNamespace(defaults=dict(defaults)))


class TestApiTimeout(testtools.TestCase):

    def test_default_when_clouds_yaml_sets_none(self):
        self.useFixture(fixtures.EnvironmentVariable(plugin.API_TIMEOUT_ENV))
        app = _app(api_timeout=None)
        plugin.bound_api_calls(app)
        self.assertEqual(plugin.API_TIMEOUT,
                         app.cloud_config.defaults['api_timeout'])

    def test_clouds_yaml_value_wins(self):
        app = _app(api_timeout=7)
        plugin.bound_api_calls(app)
        self.assertEqual(7, app.cloud_config.defaults['api_timeout'])

    def test_environment(self):
        for value, seconds in (('2.5', 2.5), ('0', plugin.API_TIMEOUT),
                               ('x', plugin.API_TIMEOUT)):
            self.useFixture(fixtures.EnvironmentVariable(
                plugin.API_TIMEOUT_ENV, value))
            self.assertEqual(seconds, plugin.api_timeout())

    def test_no_cloud_config_is_harmless(self):
        plugin.bound_api_calls(object())
