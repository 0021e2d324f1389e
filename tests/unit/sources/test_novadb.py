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

"""The DB adapter without a server: URLs, connect arguments, cell templates."""

import testtools

from gpupassthrough_osc.sources import novadb


class TestDbUrls(testtools.TestCase):

    def test_mask(self):
        self.assertEqual('mysql+pymysql://nova:***@db:3306/nova',
                         novadb.mask('mysql+pymysql://nova:p%40ss@db:3306/'
                                     'nova'))
        self.assertEqual('mysql://nova@db/nova',
                         novadb.mask('mysql://nova@db/nova'))

    def test_connect_args(self):
        args = novadb.connect_args(
            'mysql+pymysql://nova:p%40ss@db:3307/nova?charset=utf8'
            '&unix_socket=/run/mysqld.sock&read_default_file=/root/.my.cnf')
        self.assertEqual('p@ss', args['password'])
        self.assertEqual(3307, args['port'])
        self.assertEqual('/run/mysqld.sock', args['unix_socket'])
        self.assertEqual('/root/.my.cnf', args['read_default_file'])
        self.assertEqual('utf8', args['charset'])
        self.assertEqual('nova', args['database'])

    def test_tls_options_as_sqlalchemy_reads_them(self):
        args = novadb.connect_args(
            'mysql+pymysql://nova:pw@db/nova?ssl_ca=/etc/ssl/ca.pem'
            '&ssl_cert=/etc/ssl/c.pem&ssl_key=/etc/ssl/k.pem'
            '&ssl_check_hostname=False')
        self.assertEqual({'ca': '/etc/ssl/ca.pem', 'cert': '/etc/ssl/c.pem',
                          'key': '/etc/ssl/k.pem', 'check_hostname': False},
                         args['ssl'])
        self.assertNotIn('ssl', novadb.connect_args('mysql://nova@db/nova'))

    def test_a_check_hostname_that_is_no_boolean(self):
        exc = self.assertRaises(
            novadb.DatabaseError, novadb.connect_args,
            'mysql+pymysql://nova:hunter2@db/nova?ssl_check_hostname=maybe')
        self.assertIn("ssl_check_hostname='maybe' is not true or false",
                      str(exc))
        self.assertNotIn('hunter2', str(exc))

    def test_refuses_other_schemes_without_password(self):
        exc = self.assertRaises(novadb.DatabaseError, novadb.connect_args,
                                'postgresql://nova:hunter2@db/nova')
        self.assertNotIn('hunter2', str(exc))

    def test_template(self):
        self.assertEqual(
            'mysql+pymysql://nova:pw@db:3306/nova_cell2?charset=utf8',
            novadb.format_cell_url(
                '{scheme}://{username}:{password}@{hostname}:{port}/'
                'nova_cell2?{query}',
                'mysql+pymysql://nova:pw@db:3306/nova_api?charset=utf8'))
        self.assertEqual('mysql://a@b/c',
                         novadb.format_cell_url('mysql://a@b/c', 'x://'))
