"""The stack only points down: each module imports only the layers below its own.

Read from the source with `ast` (imports inside functions and TYPE_CHECKING blocks count
too), so a change that reaches upward fails here with the file, the line and the rule.
The layers, lowest first, are the README's architecture section:

    domain → errors, log, metrics, clock → settings → config → db → llm → engine → render
    → features (ventures < approvals < brain < agents < ask, audit < costs) → container
    → edges (slack, api) → runtime → simulator → demo → devmode → cli
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"
LUMEN = SRC / "lumen"

# Lowest first. A module may import its own unit, and any unit of a lower layer.
LAYERS: list[tuple[str, ...]] = [
    ("lumen.domain",),
    ("lumen.errors", "lumen.log", "lumen.metrics", "lumen.clock", "lumen"),
    ("lumen.settings",),
    ("lumen.config",),
    ("lumen.db",),
    ("lumen.llm",),
    ("lumen.engine",),
    ("lumen.render",),
    ("lumen.ventures", "lumen.approvals", "lumen.brain", "lumen.agents", "lumen.ask", "lumen.audit", "lumen.costs"),
    ("lumen.container",),
    ("lumen.slack", "lumen.api"),
    ("lumen.runtime",),
    ("lumen.simulator",),
    ("lumen.demo",),
    ("lumen.devmode",),
    ("lumen.cli",),
    ("lumen.__main__",),
]
# Features may use an earlier feature's public face (its `service` module), never its internals.
FEATURES = LAYERS[8]
# The rendering package is pure: Slack's blocks from plain data.
RENDER_MAY_IMPORT = ("lumen.domain", "lumen.db.enums")
# Libraries that do I/O, or drag a framework in: not in the pure layers.
IO_LIBRARIES = ("sqlalchemy", "aiohttp", "slack_bolt", "slack_sdk", "litellm", "asyncpg", "aiosqlite", "httpx")
PURE = ("lumen.domain", "lumen.render")
THIN_EDGES = ("lumen.slack.listeners", "lumen.api")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports (a module, or a module's attribute)
    path: Path
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> list[Path]:
    return sorted(p for p in LUMEN.rglob("*.py") if "migrations" not in p.parts)


def imports_of(path: Path) -> list[Import]:
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, path, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found += [Import(module, f"{base}.{alias.name}", path, node.lineno) for alias in node.names]
    return found


def unit_of(name: str) -> str | None:
    """The layer unit a lumen module belongs to (`lumen.agents.service` → `lumen.agents`)."""
    if name != "lumen" and not name.startswith("lumen."):
        return None
    units = sorted((u for layer in LAYERS for u in layer), key=len, reverse=True)
    for unit in units:
        if unit != "lumen" and (name == unit or name.startswith(unit + ".")):
            return unit
    return "lumen" if name in ("lumen", "lumen.__version__") else None


def layer_of(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def _target_module(target: str) -> str:
    """`lumen.agents.service.wake` → `lumen.agents.service` (the deepest existing module)."""
    parts = target.split(".")
    while parts:
        candidate = SRC.joinpath(*parts)
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return ".".join(parts)
        parts.pop()
    return target


def violations() -> list[str]:
    found = []
    for path in _sources():
        for imp in imports_of(path):
            here, there = unit_of(imp.module), unit_of(imp.target)
            where = f"{path.relative_to(SRC.parent)}:{imp.line}: {imp.module} imports {imp.target}"
            if here is None:
                continue
            if there is None:  # a library
                library = imp.target.split(".")[0]
                if here in PURE and library in IO_LIBRARIES:
                    found.append(f"{where}: {here} is pure: no I/O library")
                if library == "devslack" and here != "lumen.devmode":
                    found.append(f"{where}: only `lumen dev` may reach for the dev workspace")
                continue
            if here == there:
                continue
            target = _target_module(imp.target)
            if here == "lumen.render" and not target.startswith(RENDER_MAY_IMPORT):
                found.append(f"{where}: the rendering package imports only {', '.join(RENDER_MAY_IMPORT)}")
                continue
            if here in FEATURES and there in FEATURES:
                if FEATURES.index(there) >= FEATURES.index(here):
                    found.append(f"{where}: features may use only earlier features ({' < '.join(FEATURES)})")
                elif target != f"{there}.service":
                    found.append(f"{where}: another feature is used through its service, not its internals")
                continue
            if layer_of(there) >= layer_of(here):
                found.append(f"{where}: {there} is not below {here}")
            if imp.module.startswith(THIN_EDGES) and (target.startswith("lumen.db.models") or target.endswith("repository")):
                found.append(f"{where}: listeners and the API call services; queries live in repositories")
        if module_name(path).startswith(THIN_EDGES):
            for imp in imports_of(path):
                if imp.target.startswith("sqlalchemy"):
                    found.append(f"{path.relative_to(SRC.parent)}:{imp.line}: SQL in an edge")
    return found


def test_the_stack_only_points_down() -> None:
    assert violations() == []


def test_every_module_has_a_layer() -> None:
    """A new top-level module must say where it stands, or the rules above would not see it."""
    homeless = [module_name(p) for p in _sources() if unit_of(module_name(p)) is None]
    assert homeless == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The rules above would pass on a checker that reads nothing: show that they bite."""
    bad = LUMEN / "engine" / "_layer_probe.py"
    bad.write_text("from lumen.agents.service import wake\nfrom lumen.render import common\n", encoding="utf-8")
    try:
        found = violations()
    finally:
        bad.unlink()
    assert any("_layer_probe.py:1" in v and "lumen.agents is not below lumen.engine" in v for v in found), found
    assert any("_layer_probe.py:2" in v for v in found), found


@pytest.mark.parametrize("kind", ["service", "repository"])
def test_services_and_repositories_never_commit(kind: str) -> None:
    """The edge (a listener, a command, a job) owns the transaction; these take the caller's session."""
    offenders = []
    for path in LUMEN.rglob(f"{kind}.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("transaction", "commit", "begin"):
                offenders.append(f"{path.relative_to(SRC.parent)}:{node.lineno}: .{node.attr}")
    assert offenders == []


def test_no_assert_stands_in_for_a_runtime_check() -> None:
    """`python -O` strips asserts: a check that must hold raises `Invariant` or a user-facing error."""
    offenders = [
        f"{path.relative_to(SRC.parent)}:{node.lineno}"
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]
    assert offenders == []


def test_only_settings_reads_the_environment() -> None:
    """One `Settings` holds every variable; `_litellm` only sets litellm's offline switches."""
    offenders = []
    for path in LUMEN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
                if node.attr in ("environ", "getenv", "environb"):
                    offenders.append((path, node))
    allowed_writes = []
    for path, node in offenders:
        source = path.read_text(encoding="utf-8").splitlines()[node.lineno - 1]
        if path.name == "_litellm.py" and "os.environ.setdefault" in source:
            allowed_writes.append(path)
            continue
        pytest.fail(f"{path.relative_to(SRC.parent)}:{node.lineno} reads the environment: {source.strip()}")
    assert allowed_writes, "the litellm offline switches moved: update this test"


def test_internal_errors_are_not_user_errors() -> None:
    from lumen.engine.handlers import RunFailed
    from lumen.engine.journal import JournalMismatch
    from lumen.engine.runs import LeaseLost
    from lumen.errors import InternalError, LumenError

    for error in (LeaseLost, JournalMismatch, RunFailed):
        assert issubclass(error, InternalError) and not issubclass(error, LumenError), error


def test_the_dev_workspace_imports_nothing_of_lumen() -> None:
    for path in (SRC / "devslack").rglob("*.py"):
        for imp in imports_of(path):
            assert not imp.target.startswith("lumen"), f"{path}:{imp.line} imports {imp.target}"
