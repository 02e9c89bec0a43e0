"""The packages form layers: each imports only those below it, never back up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> what it may import of ours (the ground, seedqa, is open to all).
ALLOWED = {
    "seedqa": set(),
    "index": {"seedqa"},
    "ingest": {"index", "seedqa"},
    "qa": {"ingest", "index", "seedqa"},  # ingest only through Assistant, the door for writes
    "evaluation": {"qa", "seedqa"},
    "ui": {"qa", "seedqa"},
    "api": {"ui", "qa", "seedqa"},  # the HTTP app mounts the chat, and shares its upload rules
    "cli": {"api", "ui", "evaluation", "qa", "seedqa"},
}
OURS = set(ALLOWED) | {"tests", "benchmarks"}


def _imported(path: Path) -> set[str]:
    """The top-level packages a module imports, anywhere in it (lazy imports too)."""
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    names |= {node.module for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below(package):
    for module in sorted((ROOT / package).rglob("*.py")):
        wrong = (_imported(module) & OURS) - ALLOWED[package] - {package}
        assert not wrong, f"{module.relative_to(ROOT)} imports {sorted(wrong)}"


def test_only_the_store_imports_chromadb():
    importers = [str(path.relative_to(ROOT)) for package in ALLOWED
                 for path in (ROOT / package).rglob("*.py")
                 if "chromadb" in _imported(path)]
    assert importers == ["index/store.py"]


def test_no_module_is_over_400_lines():
    long = [f"{path.relative_to(ROOT)}: {n}" for path in ROOT.glob("[!.]*/**/*.py")
            if ".venv" not in path.parts and (n := len(path.read_text().splitlines())) > 400]
    assert not long, long
