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

import logging

project = 'gpupassthrough-osc'
copyright = '2026, gpupassthrough-osc developers'
extensions = ['openstackdocstheme', 'cliff.sphinxext']
# OSC's global options are documented by OSC itself.
autoprogram_cliff_ignored = ['--help', '--format', '--column',
                             '--max-width', '--fit-width', '--print-empty',
                             '--prefix', '--noindent', '--quote',
                             '--sort-column', '--sort-ascending',
                             '--sort-descending']
autoprogram_cliff_application = 'openstack'
master_doc = 'index'
exclude_patterns = []
html_theme = 'openstackdocs'
# openstackdocstheme: the links of each page's footer and bug button.
openstackdocs_repo_name = 'openstack/gpupassthrough-osc'
openstackdocs_bug_project = 'gpupassthrough-osc'
openstackdocs_bug_tag = 'doc'
openstackdocs_use_storyboard = False
# The theme dates each page by `git log`; without git (an sdist) it falls
# back to the build time. No badge: it would ask git for stable branches.
html_theme_options = {'display_badge': False}

# Without git (a build from an sdist) the theme warns that it cannot read
# the commit id, which -W would make fatal; the footer just lacks it then.
logging.getLogger('sphinx.openstackdocstheme.ext').addFilter(
    lambda record: 'cannot get gitsha' not in record.getMessage())
