"""Lumen: AI agents run ventures in the background; humans own the gates, in Slack."""

__version__ = "0.1.0"
