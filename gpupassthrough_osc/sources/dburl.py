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

"""The one printed form of anything that may hold a database password.

A DB URL reaches us in every shape an operator can type or a tool can
store: ``mysql+pymysql://nova:pw@db/nova``, the scheme forgotten
(``reader:S3cret@db/nova``), a password holding ``@``, ``/`` or ``:``
unencoded, ``?password=`` in the query, a clouds.yaml value, a
cell_mappings row, a library's error text quoting it. :func:`mask` is the
only way such a value is turned into text we print: it does not need the
value to parse as a URL, and it hides too much rather than too little.
"""

import re
import typing
import urllib.parse

HIDDEN = '***'

# The password of a value that is one URL, with or without its scheme:
# everything between the first ':' after the user name and the last '@'
# (an unencoded '@', '/' or ':' in a password stays hidden), short of a
# second URL's '://' (a message that quotes an example URL after the
# value keeps its words). The ': ' of a message ("path: cannot parse") is
# not a user name.
_WHOLE = re.compile(
    r'\s*(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^\s:@/?#]*:(?!//)'
    r'(?P<pw>[^\s](?:(?!://).)*)@', re.DOTALL)
# user:password@ anywhere in a text, up to the token's last '@' (the
# '://' of a URL without a password is no user:password)
_USERINFO = re.compile(
    r'''(?P<head>(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^\s:@/'"()]*):(?!//)'''
    r'''[^\s'"]*@''')
# password=..., passwd=..., pwd=... in a query string or option text
_KEY_VALUE = re.compile(
    r'''(?P<key>(?:password|passwd|pwd)\s*=\s*)(?P<q>['"]?)'''
    r'''[^&;\s'"]*''', re.IGNORECASE)


def password(url: str | None) -> str | None:
    """The password a value that is one DB URL carries, if any.

    No parsing beyond :func:`mask`'s: a value urllib cannot split (bad
    port, no scheme) still gives its password.
    """
    if not url:
        return None
    match = _WHOLE.match(url)
    return match.group('pw') if match else None


def _secrets(values: typing.Iterable[str | None]) -> list[str]:
    found: set[str] = set()
    for value in values:
        if not isinstance(value, str):
            continue
        secret = password(value)
        for part in filter(None, [secret] + _key_value_secrets(value)):
            found.add(part)
            found.add(urllib.parse.unquote(part))
            found.add(urllib.parse.unquote_plus(part))
    # longest first, so that no secret is left half-hidden
    return sorted((s for s in found if s), key=len, reverse=True)


def _key_value_secrets(value: str) -> list[str | None]:
    return [m.group(0)[len(m.group('key')) + len(m.group('q')):]
            for m in _KEY_VALUE.finditer(value)]


def mask(value: object, *urls: str | None) -> str:
    """``value`` as text with every password in it replaced by ``***``.

    ``value`` is a DB URL, a config value or any text (an error message)
    that may quote one; ``urls`` are the URLs whose passwords must vanish
    from it wherever they appear, as typed or percent-decoded (a driver's
    error text may quote the decoded password). Then anything shaped like
    ``user:password@`` or ``password=`` is hidden, parseable or not.
    """
    text = '' if value is None else str(value)
    for secret in _secrets((text,) + urls):
        text = text.replace(secret, HIDDEN)
    text = _USERINFO.sub(lambda m: f"{m.group('head')}:{HIDDEN}@", text)
    return _KEY_VALUE.sub(
        lambda m: f"{m.group('key')}{m.group('q')}{HIDDEN}", text)


class SecretUrl(str):
    """A DB URL (an argparse ``type``) whose repr hides the password.

    osc-lib logs the parsed arguments (their repr) with ``--debug``.
    """

    def __repr__(self) -> str:
        return repr(mask(self))
