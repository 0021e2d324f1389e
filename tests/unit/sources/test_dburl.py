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


"""The one printed form of anything that may hold a DB password."""

import testtools

from gpupassthrough_osc.sources import dburl
from gpupassthrough_osc.sources import novaconf
from gpupassthrough_osc.sources import novadb

MARK = 'Pw0MARK'

# every shape an operator can type, a tool can store or a library can quote
SHAPES = (
    f'mysql+pymysql://nova:{MARK}@db:3306/nova?charset=utf8',
    f'reader:{MARK}@db/nova',                    # scheme forgotten
    f'user:{MARK}@host',
    f'mysql://nova:{MARK}@db:notaport/nova',     # urllib cannot parse it
    f'postgresql://nova:{MARK}@db/nova',
    f'mysql://nova:{MARK}@x/y@db/nova',           # unencoded '@' and '/'
    f'mysql://nova:{MARK}:x@db/nova',             # unencoded ':'
    f'mysql://nova:{MARK}%40x@db/nova',           # percent-encoded
    f'mysql://nova:a b {MARK}@db/nova',           # a blank (clouds.yaml)
    f'mysql://db/nova?user=nova&password={MARK}&charset=utf8',
    f'mysql://db/nova?passwd={MARK}',
    f"connection = mysql://nova:{MARK}@db/nova",
    f"at line 3, No ':' or '=' found: 'connection mysql://nova:{MARK}@db'",
    f'mysql://nova:{MARK}@[::1]:3306/nova',
    f"password = '{MARK}'",                    # my.cnf text
)


class TestMask(testtools.TestCase):

    def test_no_shape_shows_the_password(self):
        for shape in SHAPES:
            self.assertNotIn(MARK, dburl.mask(shape), shape)
            self.assertNotIn(MARK, repr(dburl.SecretUrl(shape)), shape)

    def test_what_is_not_a_password_stays(self):
        self.assertEqual('mysql+pymysql://nova:***@db:3306/nova',
                         dburl.mask('mysql+pymysql://nova:p%40ss@db:3306/'
                                    'nova'))
        self.assertEqual('reader:***@db/nova',
                         dburl.mask(f'reader:{MARK}@db/nova'))
        for kept in ('mysql://nova@db/nova', 'mysql://[::1]:3306/nova',
                     "(1045) Access denied for user 'nova'@'localhost' "
                     "(using password: YES)",
                     'nova.conf: cannot parse: at line 3'):
            self.assertEqual(kept, dburl.mask(kept))

    def test_a_message_quoting_an_example_url_keeps_its_words(self):
        # novadb's refusal of a URL without mysql+pymysql://, masked again
        # by the one error mapper: the reason must survive
        message = dburl.mask(
            f'reader:{MARK}@db/nova: only mysql/mariadb URLs are supported '
            f'(mysql+pymysql://user:password@host/nova)')
        self.assertEqual(
            'reader:***@db/nova: only mysql/mariadb URLs are supported '
            '(mysql+pymysql://user:***@host/nova)', message)

    def test_a_known_url_vanishes_from_any_text(self):
        # a driver may quote the decoded password in its own words
        url = f'mysql://nova:{MARK}%2Fx@db/nova'
        self.assertEqual('login failed for *** here',
                         dburl.mask(f'login failed for {MARK}/x here', url))

    def test_password(self):
        self.assertEqual(MARK, dburl.password(f'reader:{MARK}@db/nova'))
        self.assertIsNone(dburl.password('mysql://nova@db/nova'))
        self.assertIsNone(dburl.password(None))

    def test_errors_of_the_db_adapter(self):
        for url in (f'reader:{MARK}@db/nova',
                    f'postgresql://nova:{MARK}@db/nova',
                    f'mysql://nova:{MARK}@db:99999999/nova',
                    f'mysql://nova:{MARK}@db:port/nova'):
            exc = self.assertRaises(novadb.DatabaseError,
                                    novadb.connect_args, url)
            self.assertNotIn(MARK, str(exc), url)

    def test_reprs_of_what_holds_a_url(self):
        url = f'mysql+pymysql://nova:{MARK}@db/nova'
        conf = novaconf.NovaConf(path='nova.conf', alias=[], device_spec=[],
                                 database_connection=url,
                                 api_database_connection=url)
        self.assertNotIn(MARK, repr(conf))
