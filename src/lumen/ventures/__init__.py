"""Ventures and their agents: applying lumen.yml, and reading their status."""
