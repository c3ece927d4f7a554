"""What ships: the product wheel carries Lumen and not the dev workspace."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_product_wheel_leaves_the_dev_workspace_out(tmp_path: Path) -> None:
    """`pip install .` (the Dockerfile's build) must not carry devslack; `lumen[dev]` brings it."""
    # Built from a copy: setuptools writes build/ and egg-info beside the sources.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(source)],
        check=True,
        timeout=300,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("lumen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("lumen/runtime.py") for n in names)
    assert any(n.startswith("lumen/db/migrations/versions/") for n in names)
    assert any(n.startswith("lumen/templates/lumen.example.yml") for n in names)
    assert "lumen/ask/vocabulary.yaml" in names, "Ask's topic vocabulary is data the package needs"
    assert not [n for n in names if n.startswith("devslack/")]
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [line for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines() if line.startswith("Requires-Dist")]
    assert any("lumen-devslack" in line and 'extra == "dev"' in line for line in requires), requires
