"""The house's shape, read from its imports: no import circle anywhere in knobtui, and no import a rule of
the house forbids (docs/architecture.md). Every import counts, a lazy one inside a function and one under
TYPE_CHECKING included: a circle drawn only for the type checker is still a circle to a reader."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "knobtui"

FORBIDDEN = (
    ("knobtui/learning/", "knobtui/tui/"),  # the math never knows the screen
    ("knobtui/learning/", "knobtui/serve/"),
    ("knobtui/learning/", "knobtui/presenter/"),
    ("knobtui/serve/", "knobtui/tui/"),  # the server asks the spawner for simulators, never imports one
    ("knobtui/serve/", "knobtui/cli.py"),
    ("knobtui/presenter/", "knobtui/tui/"),
    ("knobtui/presenter/", "knobtui/serve/"),
)
"""(importer, imported) prefixes that must never meet."""


def module_file(parts: list[str]) -> Path | None:
    """The file of a dotted module inside knobtui, or None (outside it)."""
    if not parts or parts[0] != "knobtui":
        return None
    base = ROOT.joinpath(*parts)
    if (base / "__init__.py").exists():
        return base / "__init__.py"
    if base.with_suffix(".py").exists():
        return base.with_suffix(".py")
    return None


def imports_of(path: Path) -> set[Path]:
    """Every knobtui file `path` imports, anywhere in it."""
    here = list(path.relative_to(ROOT).parts[:-1])  # the package a relative import starts from
    found: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = module_file(alias.name.split("."))
                if target is not None:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else list(here)
                parts = base + (node.module.split(".") if node.module else [])
            else:
                parts = (node.module or "").split(".")
            target = module_file(parts)
            if target is None:
                continue
            subs = [module_file(parts + [alias.name]) for alias in node.names] if target.name == "__init__.py" else []
            if subs and all(subs):  # `from . import rules`: the submodules, not what the package gathers
                found.update(sub for sub in subs if sub is not None)
            else:
                found.add(target)
    found.discard(path)
    return found


def graph() -> dict[Path, set[Path]]:
    return {p: imports_of(p) for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def circles(edges: dict[Path, set[Path]]) -> list[list[Path]]:
    """The strongly connected groups of more than one file (Tarjan's algorithm)."""
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    stack: list[Path] = []
    on_stack: set[Path] = set()
    out: list[list[Path]] = []

    def visit(v: Path) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def name(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def test_the_graph_is_read() -> None:
    """The reader finds the imports it must (a reader that finds none would pass every other test)."""
    edges = graph()
    app = PACKAGE / "tui" / "app.py"
    assert PACKAGE / "tui" / "stage.py" in edges[app]
    assert PACKAGE / "tui" / "widgets" / "__init__.py" in edges[app]
    assert PACKAGE / "learning" / "view.py" in edges[app]
    assert circles({Path("a"): {Path("b")}, Path("b"): {Path("a")}, Path("c"): set()}) == [[Path("a"), Path("b")]]


def test_no_import_circles() -> None:
    found = circles(graph())
    assert found == [], "\n".join(" <-> ".join(name(p) for p in group) for group in found)


@pytest.mark.parametrize(("importer", "imported"), FORBIDDEN)
def test_no_forbidden_imports(importer: str, imported: str) -> None:
    bad = [f"{name(p)} -> {name(q)}" for p, qs in graph().items() if name(p).startswith(importer)
           for q in qs if name(q).startswith(imported)]
    assert bad == []


def test_helpers_never_import_the_app() -> None:
    """The helpers around the app see it as a Host (tui/host.py); only main.py runs the app itself."""
    app = PACKAGE / "tui" / "app.py"
    importers = sorted(name(p) for p, qs in graph().items() if app in qs)
    assert importers == ["knobtui/spawner.py", "knobtui/tui/main.py"]  # the spawner warms it up before forking
