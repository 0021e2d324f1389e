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
