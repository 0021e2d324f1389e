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


"""Property: no DB URL shape shows its password, no URL gives a traceback."""

import urllib.parse

from hypothesis import given
from hypothesis import strategies as st
import testtools

from gpupassthrough_osc.sources import dburl
from gpupassthrough_osc.sources import novadb
from tests import fuzzing  # noqa: F401  (the settings profile)

# Nothing in the fixed parts of a URL is upper case: a 'Q' in the output
# is the start of the password.
WORD = st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789._-',
               min_size=1, max_size=12)
HOST = st.one_of(WORD, st.just('127.0.0.1'), st.just('[::1]'),
                 st.text(alphabet='abc[]:.0123456789', min_size=1,
                         max_size=8))
# what an operator may put in a password, unencoded
RAW = st.text(alphabet=st.characters(
    blacklist_categories=('Cs', 'Zs', 'Zl', 'Zp', 'Cc')), max_size=16)
PASSWORD = RAW.map(lambda s: 'Q' + s)
SCHEME = st.sampled_from(['mysql+pymysql://', 'mysql://', 'postgresql://',
                          'reader:', ''])
PORT = st.one_of(st.just(''), st.integers(0, 99999).map(lambda p: f':{p}'),
                 st.just(':x'))


@st.composite
def urls(draw):
    """(url, password) in the shapes operators and tools write."""
    user, host, db = draw(WORD), draw(HOST), draw(WORD)
    password, port = draw(PASSWORD), draw(PORT)
    shape = draw(st.sampled_from(['userinfo', 'encoded', 'no-scheme',
                                  'query']))
    scheme = draw(SCHEME)
    if shape == 'userinfo':
        url = f'{scheme}{user}:{password}@{host}{port}/{db}'
    elif shape == 'encoded':
        url = (f'{scheme}{user}:{urllib.parse.quote(password, safe="")}'
               f'@{host}{port}/{db}')
    elif shape == 'no-scheme':
        url = f'{user}:{password}@{host}{port}/{db}'
    else:
        url = (f'{scheme}{host}{port}/{db}?user={user}&password='
               f'{urllib.parse.quote(password, safe="")}&charset=utf8')
    if draw(st.booleans()):
        url += draw(st.sampled_from(['?charset=utf8', '?x=a@b',
                                     '?read_default_file=/r/.my.cnf']))
    return url, password


class TestMaskProperties(testtools.TestCase):

    @given(urls())
    def test_no_part_of_the_password_is_printed(self, case):
        url, _password = case
        self.assertNotIn('Q', dburl.mask(url))
        self.assertNotIn('Q', repr(dburl.SecretUrl(url)))

    @given(urls(), st.sampled_from([
        'cannot connect to {}: (2003) refused',
        "at line 3, Unexpected continuation line: '  connection = {}'",
        'cell cell1 ({}): timed out']))
    def test_a_url_quoted_in_a_message(self, case, message):
        url, _password = case
        self.assertNotIn('Q', dburl.mask(message.format(url), url))

    @given(urls())
    def test_connect_args_gives_arguments_or_one_line_error(self, case):
        url, password = case
        try:
            novadb.connect_args(url)
        except novadb.DatabaseError as exc:
            self.assertNotIn('\n', str(exc))
            self.assertNotIn('Q', str(exc))

    @given(urls(), st.sampled_from([
        '{scheme}://{username}:{password}@{hostname}:{port}/c2?{query}',
        '{scheme}://{username}:{password}@{hostname}/c2{nope}']))
    def test_cell_template_gives_url_or_one_line_error(self, case, template):
        url, _password = case
        try:
            novadb.format_cell_url(template, url)
        except novadb.DatabaseError as exc:
            self.assertNotIn('\n', str(exc))
            self.assertNotIn('Q', str(exc))

    @given(st.text(max_size=60))
    def test_any_text_masks_without_error(self, text):
        masked = dburl.mask(text)
        self.assertIsInstance(masked, str)
        self.assertEqual(masked, dburl.mask(masked))
