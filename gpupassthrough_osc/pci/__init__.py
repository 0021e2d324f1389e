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

"""nova's PCI rules, pure: alias grammar and schema, pools and the PF/VF/
vdpa filters, NUMA fit, placement's view, the scheduler's configuration
and the audit's findings.

Nothing in this package opens a file, runs a program or talks to the
network: the adapters of ``gpupassthrough_osc.sources`` (and
``host/sysfs.py`` for pci.ids) read, and pass the data in as the value
types of :mod:`gpupassthrough_osc.pci.model`. tests/unit/test_purity.py
holds it to that.
"""
