"""The architecture as the README's Layout section writes it: layers that only import downward.

The layers are read from the README (the numbered lines of its ``layers`` block), the imports from
the source with ``ast`` (module-level and function-level alike), so the README, the tree and the
code cannot drift apart without this test failing.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "trainlab"


def readme_layers() -> dict[str, int]:
    """``unit -> layer`` from the README's Layout section (``  3  config``-style lines after ``layers``)."""
    text = (ROOT / "README.md").read_text()
    layout = text[text.index("## Layout"):]
    block = layout[layout.index("The layers, lowest first"):]
    layers: dict[str, int] = {}
    for line in block.splitlines()[1:]:
        match = re.match(r"^\s*(\d+)\s+([a-z_ ]+?)\s*$", line)
        if match is None:
            if layers:
                break
            continue
        for unit in match.group(2).split():
            assert unit not in layers, f"{unit} is named in two layers of the README"
            layers[unit] = int(match.group(1))
    return layers


def unit_of(module: str) -> str:
    """``trainlab.loop.plan`` -> ``loop``; ``trainlab`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(rel.parts).removesuffix(".__init__")


def _is_module(name: str) -> bool:
    return (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """``(imported trainlab module, line, at module level)`` for every import in ``path``."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "trainlab":
            # ``from trainlab import losses`` imports the module trainlab.losses, not the package root
            names = [f"trainlab.{a.name}" if _is_module(a.name) else "trainlab" for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found += [(n, node.lineno, id(node) in top) for n in names if n == "trainlab" or n.startswith("trainlab.")]
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_unit_of_the_tree_is_in_exactly_one_layer_of_the_readme():
    layers = readme_layers()
    units = {unit_of(module_name(p)) for p in SOURCES}
    assert units - set(layers) == set(), "units of src/trainlab missing from the README's layers"
    assert set(layers) - units == set(), "the README's layers name units that are not in src/trainlab"


def test_imports_only_go_down_a_layer():
    layers = readme_layers()
    upward = []
    for path in SOURCES:
        here = unit_of(module_name(path))
        for target, line, _ in imports(path):
            there = unit_of(target)
            if there != here and layers[there] >= layers[here]:
                upward.append(f"{path.relative_to(ROOT)}:{line} ({here}, layer {layers[here]}) imports {target} "
                              f"({there}, layer {layers[there]})")
    assert upward == []


def test_no_import_cycle_between_units():
    """Lazy (function-level) imports count: ``probe`` importing ``train`` while ``train`` imports ``probe`` is one."""
    graph: dict[str, set[str]] = {}
    for path in SOURCES:
        here = unit_of(module_name(path))
        graph.setdefault(here, set()).update(unit_of(t) for t, _, _ in imports(path) if unit_of(t) != here)
    done: set[str] = set()

    def visit(unit: str, path: list[str]) -> list[str] | None:
        for dep in sorted(graph.get(unit, ())):
            if dep in path:
                return path[path.index(dep):] + [dep]
            if dep not in done and (cycle := visit(dep, path + [dep])):
                return cycle
        done.add(unit)
        return None

    for unit in sorted(graph):
        cycle = visit(unit, [unit])
        assert cycle is None, " -> ".join(cycle)
