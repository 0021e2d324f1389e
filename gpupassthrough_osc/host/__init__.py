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

"""The compute-host side, pure over one snapshot of the host.

:mod:`~gpupassthrough_osc.host.sysfs` is the only module here that reads
the machine (under a root path: sysfs, /proc, /etc, pci.ids); the checks
and the config generation reason over the
:class:`~gpupassthrough_osc.host.sysfs.HostFacts` it returns and never
open a file or run a program (tests/unit/test_purity.py).
"""
