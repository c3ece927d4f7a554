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
            label = next((name for name in (slug, role) if isinstance(name, str) and name), None)
            parts[-1 if parts else 0 :] = [
                f"{parts[-1] if parts else ''}[{item}{'=' + label if label else ''}]"
            ]
            node = element
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


# A lumen.yml lists ventures, agents and gates: a few kilobytes, or a few hundred for many ventures.
MAX_CONFIG_BYTES = 1024 * 1024


# What its aliases expand to: "a: &a [x, x]  b: &b [*a, *a] …" doubles at every line, and
# validating the expansion would take hours while the file stays a few hundred bytes.
MAX_CONFIG_NODES = 200_000


def _expanded_size(root: yaml.Node | None) -> int:
    """How many values the document holds once every alias is expanded (shared nodes counted
    at every use), computed once per node."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(key) + size(value) for key, value in node.value)
        sizes[id(node)] = total
        return total

    return size(root) if root is not None else 0


def parse_config(text: str, source: str = "lumen.yml") -> LumenConfig:
    """Parse and validate; errors name the file, the field and what is wrong."""
    try:
        if _expanded_size(yaml.compose(text, Loader=yaml.SafeLoader)) > MAX_CONFIG_NODES:
            raise ConfigError(f"{source}: its anchors and aliases expand to more than {MAX_CONFIG_NODES:,} values; a lumen.yml is far smaller")
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}")
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a lumen.yml") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping with a 'ventures' list")
    try:
        return LumenConfig.model_validate(raw)
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a lumen.yml") from None
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{source}: {_format_location(error['loc'], raw)}: {message}")
        raise ConfigError("\n".join(lines)) from None


def load_config(path: Path) -> LumenConfig:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file. Run `lumen init` to write an example, "
            "or point LUMEN_CONFIG at your lumen.yml."
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory; point LUMEN_CONFIG at your lumen.yml itself.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: over {MAX_CONFIG_BYTES // 1024} KiB; a lumen.yml is far smaller, is this the right file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 (byte {data[exc.start]:#04x}); save the file as UTF-8.") from None
    return parse_config(text, source=str(path))
