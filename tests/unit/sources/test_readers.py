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

"""sources/readers.py: one reader per kind of data, chosen once."""

import argparse

import fixtures
import testtools

from gpupassthrough_osc.sources import devices
from gpupassthrough_osc.sources import flavors
from gpupassthrough_osc.sources import novadb
from gpupassthrough_osc.sources import providers
from gpupassthrough_osc.sources import readers
from gpupassthrough_osc.sources import servers
from gpupassthrough_osc.sources import settings
from tests import paths

CLOUD = settings.Cloud(None, {'auth': {'auth_url': 'http://ks:5000/v3'}})
NO_CLOUD = settings.Cloud(None, {})
SHOW = paths.fixture('server-show', 'no-valid-host.json')


def args(**values):
    """A command line as commands/inventory.py add_source_options parses."""
    parsed = dict(nova_conf=[paths.example('nova.conf')], db_connection=None,
                  api_db_connection=None, db_timeout=None, no_db=False,
                  pci_devices=[], compute_nodes=None,
                  placement_providers=None, flavors=None)
    parsed.update(values)
    return argparse.Namespace(**parsed)


class TestChosenOnce(testtools.TestCase):

    def setUp(self):
        super().setUp()
        for name in (settings.DB_ENV, settings.API_DB_ENV):
            self.useFixture(fixtures.EnvironmentVariable(name))

    def test_exports(self):
        sources = readers.Sources(args(
            pci_devices=[paths.example('pci_devices.txt')],
            flavors=paths.example('flavors.json')), CLOUD)
        self.assertIsInstance(sources.devices_from, devices.ExportDevices)
        self.assertIsInstance(sources.flavors_from, flavors.ExportFlavors)
        self.assertIsInstance(sources.providers_from,
                              providers.ApiProviders)
        self.assertEqual([], sources.database.cells())

    def test_databases(self):
        sources = readers.Sources(args(
            db_connection='mysql+pymysql://nova@db/nova',
            api_db_connection='mysql+pymysql://nova@db/nova_api',
            placement_providers='placement.json'), NO_CLOUD)
        self.assertIs(sources.database, sources.devices_from)
        self.assertIsInstance(sources.flavors_from, flavors.DatabaseFlavors)
        self.assertIsInstance(sources.providers_from,
                              providers.ExportProviders)

    def test_exports_win_over_a_database(self):
        # --pci-devices: the databases nova.conf names are not read
        sources = readers.Sources(args(
            db_connection='mysql+pymysql://nova@db/nova',
            pci_devices=[paths.example('pci_devices.txt')]), NO_CLOUD)
        self.assertIsInstance(sources.devices_from, devices.ExportDevices)
        self.assertEqual([], sources.database.cells())

    def test_nothing_configured(self):
        sources = readers.Sources(args(no_db=True), NO_CLOUD)
        self.assertIsInstance(sources.flavors_from, flavors.NoFlavors)
        self.assertIsNone(sources.providers_from)
        data = sources.inventory()
        self.assertIsNone(data.pools)
        self.assertIsNone(data.flavors)
        self.assertEqual(2, len(data.notes), data.notes)

    def test_no_db_contradicts_a_url(self):
        exc = self.assertRaises(settings.SettingError, readers.Sources,
                                args(no_db=True, db_connection='x'),
                                NO_CLOUD)
        self.assertIn('--no-db contradicts', str(exc))

    def test_clouds_yaml_timeout(self):
        cloud = settings.Cloud(None, {settings.DB_TIMEOUT_CLOUD_KEY: '7'})
        self.assertEqual(novadb.Timeouts(7, novadb.READ_TIMEOUT),
                         readers.Sources(args(), cloud).timeouts)
        self.assertEqual(novadb.Timeouts(2, novadb.READ_TIMEOUT),
                         readers.Sources(args(db_timeout=2), cloud).timeouts)
        cloud = settings.Cloud(None, {settings.DB_TIMEOUT_CLOUD_KEY: [1]})
        exc = self.assertRaises(settings.SettingError, readers.Sources,
                                args(), cloud)
        self.assertEqual('clouds.yaml gpu_db_timeout_seconds: [1] is not a '
                         'number of seconds above 0 and at most 31536000 '
                         '(a year)', str(exc))

    def test_inventory_from_exports(self):
        data = readers.Sources(args(
            pci_devices=[paths.example('pci_devices.txt')],
            compute_nodes=paths.example('compute_nodes.txt'),
            flavors=paths.example('flavors.json')), NO_CLOUD).inventory()
        self.assertTrue(data.pools)
        self.assertTrue(data.flavors)
        self.assertIsNone(data.leaks)
        self.assertIn('offline export', ' '.join(data.notes))


class TestServer(testtools.TestCase):

    def test_show_file(self):
        sources = readers.Sources(args(no_db=True), NO_CLOUD)
        server = servers.server_from_show_json(SHOW)
        self.assertEqual(server.uuid,
                         sources.server(server.uuid, SHOW).uuid)
        exc = self.assertRaises(servers.ServerError, sources.server,
                                'another', SHOW)
        self.assertIn(f'shows server {server.name}', str(exc))

    def test_nowhere_to_look(self):
        sources = readers.Sources(args(no_db=True), NO_CLOUD)
        exc = self.assertRaises(servers.ServerError, sources.server, 'vm1')
        self.assertIn('no nova database or cloud', str(exc))
