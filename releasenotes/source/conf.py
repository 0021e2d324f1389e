"""Sphinx configuration for the release notes."""

project = 'gpupassthrough-osc Release Notes'
copyright = '2026, gpupassthrough-osc developers'
extensions = ['reno.sphinxext']
master_doc = 'index'
html_theme = 'alabaster'
