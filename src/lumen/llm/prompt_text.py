"""Quoting what people and models wrote into a prompt, as data that cannot pose as structure."""

from __future__ import annotations

from typing import Any


def quote(text: Any) -> str:
    """Text a person or a model wrote, made inert for a prompt: no tag it holds can open or
    close Lumen's own blocks, whatever a reject reason or a decision title says."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
