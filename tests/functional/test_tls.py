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

"""A nova database served over TLS, its CA named in the URL as in nova.conf.

``?ssl_ca=...`` is how an operator writes [database] connection for a
server whose certificate must be checked (SQLAlchemy reads it so for
nova); the audit must check it too, and refuse another authority's.
"""

import ssl

import fixtures

from gpupassthrough_osc.sources import novadb
from tests.functional import base
from tests.functional import mariadb
from tests.functional import novadata
from tests.functional import tlscerts


class TestTls(base.OpenStackTestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.ca, authority = tlscerts.authority(tmp, 'nova-db-ca')
        cert, key = tlscerts.server_certificate(tmp, authority)
        self.other_ca, _other = tlscerts.authority(tmp, 'another-ca')
        self.server = mariadb.Server(tls=(self.ca, cert, key))
        self.addCleanup(self.server.stop)
        self.cell = novadata.Cell(self.server)
        node = self.cell.add_node('gpu-a40-01')
        self.cell.add_device(node, '0000:21:00.0', '10de', '2235', 'type-PF')

    def test_the_urls_ca_checks_the_server(self):
        url = f'{self.cell.url()}&ssl_ca={self.ca}'
        conn = novadb.Connection(url)
        try:
            cipher = conn.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            self.assertTrue(cipher[0][1], 'the session is not encrypted')
            self.assertEqual(ssl.CERT_REQUIRED, conn.conn.ctx.verify_mode)
            self.assertTrue(conn.conn.ctx.check_hostname)
        finally:
            conn.close()
        result = self.openstack('gpu', 'device', 'list', '--db-connection',
                                url, '-f', 'value', '-c', 'Address')
        self.assertEqual(0, result.rc, result.stderr)
        self.assertEqual('0000:21:00.0', result.stdout.strip())

    def test_another_authority_is_refused(self):
        url = f'{self.cell.url()}&ssl_ca={self.other_ca}'
        result = self.openstack('gpu', 'device', 'audit', '--db-connection',
                                url)
        self.assertCleanError(result, 'cannot connect',
                              'certificate verify failed')
        self.assertNotIn(mariadb.ADMIN_PASSWORD,
                         result.stderr + result.stdout)

    def test_a_missing_ca_file_is_one_line(self):
        missing = f'{self.ca}.gone'
        result = self.openstack('gpu', 'device', 'list', '--db-connection',
                                f'{self.cell.url()}&ssl_ca={missing}')
        self.assertCleanError(result, 'TLS options of the URL',
                              f'(ssl_ca={missing}): No such file')
        self.assertNotIn(mariadb.ADMIN_PASSWORD,
                         result.stderr + result.stdout)
