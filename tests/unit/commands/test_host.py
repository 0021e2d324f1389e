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

"""`gpu host hostdev-xml`: the PCI address it accepts."""

import io

from osc_lib import exceptions

from gpupassthrough_osc.commands import host
from tests.unit import fakes


class TestHostdevXml(fakes.TestCommand):

    def xml(self, address):
        self.app.stdout = io.StringIO()
        cmd = host.HostdevXml(self.app, None)
        cmd.take_action(self.check_parser(cmd, [address], []))
        return self.app.stdout.getvalue()

    def test_short_and_full_forms(self):
        self.assertIn("bus='0x21'", self.xml('21:00.0'))
        self.assertEqual(self.xml('21:00.0'), self.xml('0000:21:00.0'))
        self.assertIn("slot='0x1f' function='0x7'", self.xml('0000:3B:1F.7'))

    def test_refused(self):
        for address in ('xyz', '21:00', '0000:21:00.0.1', '000:21:00.0',
                        '0000:2g:00.0', '0000: 1:00.0', '0000:21:00.10'):
            exc = self.assertRaises(exceptions.CommandError, self.xml,
                                    address)
            self.assertIn('not a PCI address', str(exc))
