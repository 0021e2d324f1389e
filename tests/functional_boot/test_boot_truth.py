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

"""Boot truth: the audit's verdict on each flavor against nova booting it.

For every scenario in tests/functional_boot/scenarios.py:

1. nova's services boot each flavor (several times where the scheduler
   may choose among hosts) and the outcome must still be the one recorded
   in the scenario (so the table in doc/source/boot-truth.rst is true);
2. the rows nova wrote are audited by the real ``openstack gpu device
   audit``, from a SELECT-only copy in MariaDB and from exports;
3. the audit must flag the flavor exactly when its boots failed, with
   the finding codes that name nova's cause, and ``openstack gpu flavor
   explain`` must exit 0 exactly when it booted;
4. where the cause is configuration, the audit's own Fix is applied, the
   services restarted, and the flavor must then boot.
"""

import json
import os
import re
import shlex

import testscenarios

from tests.functional import base as functional_base
from tests.functional_boot import base
from tests.functional_boot import novarows
from tests.functional_boot import scenarios

load_tests = testscenarios.load_tests_apply_scenarios

EXPORT_STYLES = ('B', 'G', 'json')


def _fails_now(findings, flavor):
    """The audit says this flavor cannot boot now."""
    return [f for f in findings if f['Subject'] == f'flavor {flavor}' and
            (f['Severity'] == 'error' or f['Code'] in scenarios.FAILS_NOW)]


class TestBootTruth(base.BootTestCase):

    scenarios = [(s.name, {'scenario': s}) for s in scenarios.SCENARIOS]

    def test_boot(self):
        outcomes = self.boot_every_flavor()
        self.assert_nova_did(outcomes)
        audits = self.audit()
        if self.scenario.gap:
            self.expectFailure(self.scenario.gap, self.assert_audit_agrees,
                               outcomes, audits)
        self.assert_audit_agrees(outcomes, audits)
        if self.scenario.fix:
            self.apply_fix(audits[0][1])
            for flavor in self.scenario.flavors:
                outcome = self.boot(flavor)
                self.assertEqual('ACTIVE', outcome.status,
                                 f'{flavor} after the fix: {outcome}')

    # --- nova --------------------------------------------------------------

    def boot_every_flavor(self):
        if self.startup_error:
            return {f: [base.Outcome('NO API', self.startup_error)]
                    for f in self.scenario.flavors}
        self.kept = []
        self.create_flavors()
        if self.scenario.state:
            self.prepare_state()
        return {flavor: [self.boot(flavor)
                         for _ in range(self.scenario.boots)]
                for flavor in self.scenario.flavors}

    def prepare_state(self):
        flavor = next(iter(self.scenario.flavors))
        first = self.boot(flavor, keep=True)
        self.assertEqual('ACTIVE', first.status, str(first))
        if self.scenario.state == 'leak':
            # a server deleted while its compute is down: nova-api deletes
            # it locally and the device stays allocated in pci_devices
            server = self.kept.pop()
            self.computes[first.host].stop()
            service = self.admin_api.get_services(
                host=first.host, binary='nova-compute')[0]
            self.admin_api.put_service(service['id'], {'forced_down': True})
            self._delete_server(server)
            self.down_host = first.host, service['id']

    def assert_nova_did(self, outcomes):
        for flavor, expected in self.scenario.outcome.items():
            for outcome in outcomes[flavor]:
                self.assertTrue(
                    outcome.matches(expected),
                    f'{self.scenario.name}: nova no longer does what the '
                    f'scenario recorded for {flavor}: expected '
                    f'{expected!r}, got {outcome}')

    # --- the audit ---------------------------------------------------------

    def audit(self):
        """[(label, findings)]: from the DB copy, then from exports."""
        flavors = os.path.join(self.workdir, 'flavors.json')
        if self.startup_error:
            # no API ever ran: the flavors are the ones the operator made
            with open(flavors, 'w') as f:
                f.write(json.dumps([
                    {'ID': name, 'Name': name, 'RAM': 1024, 'VCPUs': 2,
                     'Disk': 1, 'Properties': specs}
                    for name, specs in self.scenario.flavors.items()]))
            self.source_args = ('--no-db', '--flavors', flavors)
            return [('config only', self.run_audit(*self.source_args))]
        with open(flavors, 'w') as f:
            f.write(novarows.flavor_list_json(self.flavor_list()))
        self.copy = novarows.Copy()
        env = self.copy.reader_env()
        self.source_args = ()
        audits = [('database', self.run_audit(env=env))]
        style = EXPORT_STYLES[
            scenarios.SCENARIOS.index(self.scenario) % len(EXPORT_STYLES)]
        listing = None
        if style == 'json':
            listing = self.openstack('gpu', 'device', 'list', '-f', 'json',
                                     env=env)
        options = novarows.write_exports(self.copy, self.workdir, style,
                                         listing)
        audits.append((f'exports ({style})', self.run_audit(
            '--no-db', '--flavors', flavors, *options)))
        return audits

    def run_audit(self, *args, env=None):
        out = self.openstack('gpu', 'device', 'audit', '--nova-conf',
                             self.conf_path, '--fail-on', 'never',
                             '-f', 'json', *args, env=env)
        return json.loads(out)

    def explain(self, flavor):
        """`gpu flavor explain` on the first audit's source: its rc, rows."""
        env = None if self.startup_error else self.copy.reader_env()
        result = functional_base.run_openstack(
            'gpu', 'flavor', 'explain', flavor, '--nova-conf',
            self.conf_path, '-f', 'json', *self.source_args, env=env)
        self.assertIn(result.rc, (0, 1), result.stderr)
        return result.rc, result.stdout

    def openstack(self, *args, env=None):
        result = functional_base.run_openstack(*args, env=env)
        self.assertEqual(0, result.rc, f'openstack {" ".join(args)}: '
                                       f'{result.stderr}')
        return result.stdout

    def assert_audit_agrees(self, outcomes, audits):
        problems = []
        # the cause codes are checked on the first audit (the database, or
        # nova.conf alone when no service started): exports hold no
        # instances, so they cannot name a leak
        for n, (label, findings) in enumerate(audits):
            codes = {f['Code'] for f in findings}
            for flavor, booted in outcomes.items():
                failed = any(o.failed for o in booted)
                said = _fails_now(findings, flavor)
                if failed != bool(said):
                    problems.append(
                        f'{label}: {flavor}: nova '
                        f'{"failed" if failed else "booted"} '
                        f'({booted[0]}) but the audit '
                        f'{"flagged it" if said else "is silent"}')
                wanted = set(self.scenario.causes.get(flavor, ()))
                if n == 0 and wanted - codes:
                    problems.append(
                        f'{label}: {flavor}: nova failed with '
                        f'"{booted[0]}" but the audit lacks '
                        f'{sorted(wanted - codes)}')
        for flavor, booted in outcomes.items():
            rc, table = self.explain(flavor)
            if rc != (1 if any(o.failed for o in booted) else 0):
                problems.append(
                    f'flavor explain {flavor}: exit {rc} but nova '
                    f'{booted[0]}:\n{table}')
        if problems:
            self.fail(f'scenario {self.scenario.name}:\n' +
                      '\n'.join(problems) + '\naudit rows:\n' +
                      json.dumps(audits, indent=1))

    # --- the fix -----------------------------------------------------------

    def apply_fix(self, findings):
        """Do what the Fix column of the flavor's causes says, restart."""
        wanted = {c for codes in self.scenario.causes.values()
                  for c in codes}
        fixes = [f['Fix'] for f in findings if f['Code'] in wanted]
        applied = [fix for fix in fixes if self._apply_one(fix)]
        self.assertTrue(applied, f'no applicable Fix among {fixes}')
        self.restart_services()

    def _apply_one(self, fix):
        command = re.search(r'(openstack gpu alias create [^)]*)', fix)
        if command:
            args = shlex.split(command.group(1).replace(
                '/etc/nova/nova.conf', self.conf_path))[1:]
            self.openstack(*args, env=self.copy.reader_env())
            return True
        lines = re.findall(r'alias = (\{[^}]*\})', fix)
        if lines:
            self._replace_aliases([json.loads(line) for line in lines])
            return True
        filters = re.search(r'enabled_filters = ([\w,]+)', fix)
        if filters:
            self._set_conf_line('enabled_filters', filters.group(1))
            return True
        started = re.search(r'start nova-compute on (\S+)', fix)
        if started and getattr(self, 'down_host', None):
            host, service_id = self.down_host
            self.admin_api.put_service(service_id, {'forced_down': False})
            self.restart_compute_service(host)
            return True
        return False

    def _replace_aliases(self, new):
        names = {a['name'] for a in new}
        with open(self.conf_path) as f:
            text = f.read().splitlines()
        kept = [line for line in text if not (
            line.startswith('alias = ') and
            json.loads(line[len('alias = '):]).get('name') in names)]
        at = kept.index('[pci]') + 1
        kept[at:at] = [f'alias = {json.dumps(a)}' for a in new]
        with open(self.conf_path, 'w') as f:
            f.write('\n'.join(kept) + '\n')

    def _set_conf_line(self, option, value):
        with open(self.conf_path) as f:
            text = f.read().splitlines()
        text = [f'{option} = {value}' if line.startswith(f'{option} = ')
                else line for line in text]
        with open(self.conf_path, 'w') as f:
            f.write('\n'.join(text) + '\n')
