"""The package's layout shows the pipeline: imports only flow down it, never up, no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "flatback"

# Layers, lowest first. A module may import its own layer and those below, never above.
LAYERS = [
    {"errors", "settings", "types"},
    {"io"},
    {"pose"},
    {"measure"},
    {"analyse"},
    {"coach"},
    {"pipeline"},
    {"outputs"},
    {"log"},
    {"api", "cli", "simulate", "simulate3d", "evaluate", "web", "twin", "batch", "live_cli"},
]


def layer_of(module: str) -> int:
    """Layer index of a dotted module name below ``flatback``."""
    top = module.split(".")[1] if "." in module else ""
    for k, names in enumerate(LAYERS):
        if top in names:
            return k
    raise AssertionError(f"flatback.{top} is in no layer: add it to LAYERS in {__file__}")


def modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if "migrations" in parts:
            continue  # Alembic's scripts, run by the log
        out[".".join(parts)] = path
    return out


def imports(path: Path) -> set[str]:
    """``flatback.*`` modules imported anywhere in a file (function bodies too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("flatback"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("flatback")}
    return found


MODULES = modules()


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "flatback"))
def test_imports_flow_down_the_pipeline(name):
    mine = layer_of(name)
    upward = [m for m in imports(MODULES[name]) if m != "flatback" and layer_of(m) > mine]
    assert not upward, f"{name} (layer {mine}) imports from above it: {upward}"


def test_nothing_below_outputs_imports_it():
    outputs = layer_of("flatback.outputs")
    offenders = {n: sorted(m for m in imports(p) if m.startswith("flatback.outputs"))
                 for n, p in MODULES.items() if n != "flatback" and layer_of(n) < outputs}
    assert not {n: m for n, m in offenders.items() if m}


def test_no_import_cycles():
    graph = {n: {m for m in imports(p) if m in MODULES and m != "flatback"} for n, p in MODULES.items() if n != "flatback"}
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        state[n] = 1
        for m in graph.get(n, ()):
            if state.get(m) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, n, m]))
            if m not in state:
                visit(m, [*path, n])
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n, [])


def test_an_upward_import_is_caught(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from flatback.outputs.report import Report\n    return Report\n")
    found = imports(bad)
    assert found == {"flatback.outputs.report"}
    assert max(layer_of(m) for m in found) > layer_of("flatback.measure.bad")
