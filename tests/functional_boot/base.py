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

"""A cloud of nova's own services, booted for real, one scenario a test.

nova 34.0.0's functional framework (``nova/tests/functional/libvirt/
base.py``) runs the API, conductor, scheduler, placement and one
nova-compute per host in-process, on nova's fake libvirt driver. The
nova.conf of a scenario is written to a file first and every service
takes its options from that file, so the audit reads exactly what nova
ran with.
"""

import json
import os
import time
import warnings

import fixtures
from oslo_config import cfg
from sqlalchemy import exc as sa_exc

from nova.tests.fixtures import libvirt as fakelibvirt
from nova.tests.functional.api import client as api_client
from nova.tests.functional.libvirt import base as libvirt_base

from tests.functional_boot import catalog

BOOT_TIMEOUT = 60
# every host: 2 NUMA nodes of 4 CPUs (2 cores x 2 threads) and 8 GiB;
# CPUs 2-3 and 6-7 dedicated, so pinned guests can land on either node
DEDICATED_SET = '2-3,6-7'
SHARED_SET = '0-1,4-5'


def host_info():
    return fakelibvirt.HostInfo(cpu_nodes=2, cpu_sockets=1, cpu_cores=2,
                                cpu_threads=2, kB_mem=16 * 1024 * 1024)


def conf_text(scenario):
    """The scenario's nova.conf, as an operator would write it."""
    lines = ['[DEFAULT]', 'debug = false', '', '[pci]']
    lines += [f'alias = {a}' for a in scenario.aliases]
    lines += [f'device_spec = {s}' for s in scenario.device_specs()]
    lines += [f'report_in_placement = {scenario.report_in_placement}', '',
              '[filter_scheduler]',
              f"enabled_filters = {','.join(scenario.filters)}",
              f'pci_in_placement = {scenario.pci_in_placement}', '',
              '[compute]', f'cpu_dedicated_set = {DEDICATED_SET}',
              f'cpu_shared_set = {SHARED_SET}', '']
    return '\n'.join(lines)


def read_conf(path):
    """{(group, option): [values]} with oslo.config's own parser."""
    sections = {}
    cfg.ConfigParser(path, sections).parse()
    return {(group, key): values for group, options in sections.items()
            for key, values in options.items()}


def _bool(values):
    return values[-1].strip().lower() in ('true', '1', 'yes', 'on')


class Outcome:
    """What one boot of a flavor ended in."""

    def __init__(self, status, message='', host=None):
        self.status = status        # ACTIVE, ERROR, REFUSED or NO API
        self.message = message
        self.host = host

    @property
    def failed(self):
        return self.status != 'ACTIVE'

    def __str__(self):
        return f'{self.status}: {self.message}' if self.message \
            else self.status

    def matches(self, expected):
        """``ACTIVE``, or ``STATUS: fragment`` of nova's message."""
        status, _, fragment = expected.partition(': ')
        return self.status == status and fragment in self.message


class BootTestCase(libvirt_base.ServersTestBase):
    """nova's services started with a scenario's nova.conf and hosts."""

    microversion = 'latest'
    ADDITIONAL_FILTERS = []
    scenario = None

    def setUp(self):
        self.workdir = self.useFixture(fixtures.TempDir()).path
        self.conf_path = os.path.join(self.workdir, 'nova.conf')
        with open(self.conf_path, 'w') as f:
            f.write(conf_text(self.scenario))
        self.apply_conf()
        self.startup_error = None
        try:
            super().setUp()
        except Exception as exc:
            # nova-api validates [pci] alias when it starts and refuses to
            # (nova/api/openstack/wsgi_app.py): that IS nova's outcome
            if 'PCI alias' not in str(exc):
                raise
            self.startup_error = str(exc)
            return
        # nova's warnings fixture makes SQLAlchemy's deprecation warnings
        # errors; a newer SQLAlchemy than nova's tests know then turns the
        # conductor's error path into an HTTP 500
        warnings.filterwarnings('ignore',
                                category=sa_exc.SADeprecationWarning)
        for number, (host, cards) in enumerate(self.scenario.hosts.items()):
            self.start_host(host, cards, number)

    def apply_conf(self):
        """Every service's options from the scenario's nova.conf file."""
        conf = read_conf(self.conf_path)
        self.flags(alias=conf.get(('pci', 'alias'), []),
                   device_spec=conf.get(('pci', 'device_spec'), []),
                   report_in_placement=_bool(
                       conf[('pci', 'report_in_placement')]), group='pci')
        self.flags(enabled_filters=conf[
            ('filter_scheduler', 'enabled_filters')][-1].split(','),
            pci_in_placement=_bool(conf[('filter_scheduler',
                                         'pci_in_placement')]),
            group='filter_scheduler')
        self.flags(cpu_dedicated_set=DEDICATED_SET,
                   cpu_shared_set=SHARED_SET, group='compute')

    def start_host(self, hostname, cards, number):
        pci_info = fakelibvirt.HostPCIDevicesInfo(num_pci=0, num_pfs=0,
                                                  num_vfs=0)
        for slot, (card, numa_node) in enumerate(cards):
            catalog.place(pci_info, card, bus=0x21 + slot,
                          numa_node=numa_node,
                          iommu_group=100 * (number + 1) + 10 * slot)
        self.start_compute(hostname, host_info=host_info(),
                           pci_info=pci_info)

    def restart_services(self):
        """After a nova.conf change: what `systemctl restart nova-*` does.

        The scheduler loads its filters once (nova/scheduler/
        host_manager.py), so they are loaded again; each nova-compute is
        restarted and re-reads [pci] device_spec and alias.
        """
        self.apply_conf()
        host_manager = self.scheduler.manager.host_manager
        host_manager.enabled_filters = host_manager._choose_host_filters(
            host_manager._load_filters())
        for hostname in list(self.computes):
            self.restart_compute_service(hostname)

    # --- booting ---------------------------------------------------------

    def create_flavors(self):
        self.flavor_ids = {}
        for name, specs in self.scenario.flavors.items():
            self.flavor_ids[name] = self._create_flavor(
                name=name, memory_mb=1024, vcpu=2, disk=1, ephemeral=0,
                extra_spec=specs)

    def boot(self, flavor, keep=False):
        """Boot once; an ACTIVE server is deleted unless ``keep``."""
        body = self._build_server(flavor_id=self.flavor_ids[flavor],
                                  networks='none')
        try:
            server = self.api.post_server({'server': body})
        except api_client.OpenStackApiException as exc:
            return Outcome('REFUSED', _api_message(exc))
        server = self.api.get_server(server['id'])
        deadline = time.monotonic() + BOOT_TIMEOUT
        while server['status'] not in ('ACTIVE', 'ERROR'):
            if time.monotonic() > deadline:
                self.fail(f'{flavor}: still {server["status"]} after '
                          f'{BOOT_TIMEOUT} s')
            time.sleep(0.05)
            server = self.api.get_server(server['id'])
        if server['status'] == 'ERROR':
            fault = server.get('fault') or {}
            return Outcome('ERROR', fault.get('message', ''))
        outcome = Outcome('ACTIVE', host=self.admin_api.get_server(
            server['id'])['OS-EXT-SRV-ATTR:host'])
        if not keep:
            self._delete_server(server)
        else:
            self.kept.append(server)
        return outcome

    def flavor_list(self):
        """The flavors as nova's API shows them, with extra specs."""
        flavors = self.api.api_get('/flavors/detail').body['flavors']
        for flavor in flavors:
            flavor['extra_specs'] = self.api.api_get(
                f"/flavors/{flavor['id']}/os-extra_specs").body[
                'extra_specs']
        return [f for f in flavors if f['name'] in self.scenario.flavors]


def _api_message(exc):
    try:
        body = json.loads(exc.response.content)
        return next(iter(body.values()))['message']
    except (ValueError, AttributeError, StopIteration, KeyError, TypeError):
        return str(exc)
