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

"""Sphinx configuration for gpupassthrough-osc."""

project = 'gpupassthrough-osc'
copyright = '2026, gpupassthrough-osc developers'
extensions = ['cliff.sphinxext']
# OSC's global options are documented by OSC itself.
autoprogram_cliff_ignored = ['--help', '--format', '--column',
                             '--max-width', '--fit-width', '--print-empty',
                             '--prefix', '--noindent', '--quote',
                             '--sort-column', '--sort-ascending',
                             '--sort-descending']
autoprogram_cliff_application = 'openstack'
master_doc = 'index'
exclude_patterns = []
html_theme = 'alabaster'
