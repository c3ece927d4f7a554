"""Reading `lumen.yml`: the file, its YAML, and errors that name the file and the field.

The schema itself is pure and lives in `lumen.domain.config`.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from lumen.domain.config import LumenConfig, VentureConfig
from lumen.errors import ConfigError

__all__ = ["LumenConfig", "VentureConfig", "load_config", "parse_config"]


def _format_location(loc: tuple[object, ...], raw: object) -> str:
    """Turn pydantic's location into a readable path, naming ventures by slug."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int) and isinstance(node, list):
            element = node[item] if item < len(node) else None
            slug = element.get("slug") if isinstance(element, dict) else None
            role = element.get("role") if isinstance(element, dict) else None
            label = slug or role
            parts[-1 if parts else 0 :] = [
                f"{parts[-1] if parts else ''}[{item}{'=' + label if label else ''}]"
            ]
            node = element
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def parse_config(text: str, source: str = "lumen.yml") -> LumenConfig:
    """Parse and validate; errors name the file, the field and what is wrong."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}")
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping with a 'ventures' list")
    try:
        return LumenConfig.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{source}: {_format_location(error['loc'], raw)}: {message}")
        raise ConfigError("\n".join(lines)) from None


def load_config(path: Path) -> LumenConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file. Run `lumen init` to write an example, "
            "or point LUMEN_CONFIG at your lumen.yml."
        ) from None
    return parse_config(text, source=str(path))
