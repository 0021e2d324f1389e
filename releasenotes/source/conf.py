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

"""Sphinx configuration for the release notes."""

import logging

project = 'gpupassthrough-osc Release Notes'
copyright = '2026, gpupassthrough-osc developers'
extensions = ['openstackdocstheme', 'reno.sphinxext']
master_doc = 'index'
html_theme = 'openstackdocs'
openstackdocs_repo_name = 'openstack/gpupassthrough-osc'
openstackdocs_bug_project = 'gpupassthrough-osc'
openstackdocs_bug_tag = 'releasenotes'
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
html_theme_options = {'display_badge': False}

# Without git (a build from an sdist) the theme warns that it cannot read
# the commit id, which -W would make fatal; the footer just lacks it then.
logging.getLogger('sphinx.openstackdocstheme.ext').addFilter(
    lambda record: 'cannot get gitsha' not in record.getMessage())
