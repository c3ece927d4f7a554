"""OpenAI-style function tools built from pydantic models, and reading their calls back."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from pydantic import BaseModel, ValidationError


def tool_spec(model: type[BaseModel], name: str, description: str | None = None) -> dict[str, Any]:
    """`{"type": "function", "function": {...}}` whose parameters are the model's JSON schema."""
    # Building a JSON schema costs about a millisecond; every wake-up asks for the same one.
    return copy.deepcopy(_tool_spec(model, name, description))


@functools.lru_cache(maxsize=64)
def _tool_spec(model: type[BaseModel], name: str, description: str | None) -> dict[str, Any]:
    schema = _inline_refs(model.model_json_schema())
    schema.pop("title", None)
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description or (model.__doc__ or "").strip(),
            "parameters": schema,
        },
    }


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    # Several providers (Gemini, some local servers) reject `$ref`; our schemas are not recursive.
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]])
                extra = {k: v for k, v in node.items() if k != "$ref"}
                return resolve({**target, **extra})
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


def validation_reason(exc: ValidationError, limit: int = 6) -> str:
    """Pydantic errors as one line a model (and an operator) can act on."""
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_tool_arguments(model: type[BaseModel], raw: str | None) -> tuple[Any, str | None]:
    """(value, None) when `raw` is valid arguments for the model; (None, reason) otherwise."""
    if raw is None or not raw.strip():
        return None, "the tool call had no arguments"
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, f"the arguments are not valid JSON ({exc.msg} at char {exc.pos})"
    try:
        return model.model_validate(data), None
    except ValidationError as exc:
        return None, f"the arguments do not match the schema: {validation_reason(exc)}"
