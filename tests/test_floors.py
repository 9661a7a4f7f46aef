"""The building has one-way floors: every import of every first-party module (at module
level or inside a function) goes to its own package or to a lower floor
(fieldkit.floors.FLOORS), and no modules import each other in a cycle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.floors import FLOORS

ROOT = Path(__file__).resolve().parent.parent
FLOOR_OF = {package: level for level, packages in enumerate(FLOORS) for package in packages}
PACKAGES = sorted(p for p in FLOOR_OF if (ROOT / p / "__init__.py").exists())


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def first_party_modules() -> dict[str, Path]:
    return {
        module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
    }


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The first-party module an imported name is, or lives in (None: not first-party)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[int, str]]:
    """(line, first-party module) of every import in a module, at any depth."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = resolve(alias.name, modules)
                if target:
                    yield node.lineno, target
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from package import module` imports the module; `from module import name`
                # the module.
                target = resolve(f"{base}.{alias.name}", modules) or resolve(base, modules)
                if target:
                    yield node.lineno, target


MODULES = first_party_modules()
GRAPH = {
    module: sorted({target for _, target in imports_of(module, path, MODULES)} - {module})
    for module, path in MODULES.items()
}


def test_every_package_has_a_floor():
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert on_disk <= set(FLOOR_OF), on_disk - set(FLOOR_OF)
    assert "portal" in PACKAGES and "fieldkit" in PACKAGES


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_from_a_higher_floor_or_a_neighbour(package):
    upward = []
    for module, path in MODULES.items():
        if module.split(".")[0] != package:
            continue
        for line, target in imports_of(module, path, MODULES):
            other = target.split(".")[0]
            if other != package and FLOOR_OF[other] >= FLOOR_OF[package]:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not upward, "\n".join(upward)


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, []):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle():
    assert cycles(GRAPH) == []


def test_the_walk_sees_function_level_and_relative_imports(tmp_path):
    package = tmp_path / "lower"
    package.mkdir()
    module = package / "mod.py"
    module.write_text("def f():\n    from upper import views\n\nfrom . import other\n")
    modules = {"lower.mod": module, "lower.other": package / "other.py", "upper.views": tmp_path / "v.py"}
    assert sorted(target for _, target in imports_of("lower.mod", module, modules)) == [
        "lower.other",
        "upper.views",
    ]


def test_cycles_are_found():
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["b"], "b": []}) == []


def readme_floors() -> list[list[str]]:
    """The floors as the README's architecture lines draw them, lowest first: the block
    starting `fieldkit <`, with `<` between floors and `,` between neighbours."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("fieldkit < "))
    drawing = " ".join(lines[start : lines.index("```", start)])
    floors = [step.strip(" ()") for step in drawing.replace("(", "").replace(")", "").split("<")]
    return [[name.strip() for name in floor.split(",")] for floor in floors]


def test_readme_draws_the_floors_the_code_holds():
    assert readme_floors() == [list(floor) for floor in FLOORS]
