"""The package's architecture, checked from its source: few top-level modules, no import cycle, the
engine below the run and the command line, private names kept in their package, and a reference
convolution that runs only the few files a learner reads.

The import graph is built with ``ast`` from minigan's files: ``from minigan.a import b`` is an edge
to ``minigan.a.b`` where that is a module, else to ``minigan.a``; imports inside functions count too.
The layering rules count every import; a cycle is one of imports that run (those under
``if TYPE_CHECKING:``, for annotations only, never execute).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import minigan
from minigan import nn

PACKAGE = Path(minigan.__file__).resolve().parent
ENGINE = ("minigan.backend", "minigan.nn", "minigan.losses", "minigan.optim", "minigan.gradcheck", "minigan.penalties")
ABOVE_THE_ENGINE = ("minigan.training", "minigan.cli", "minigan.evaluate", "minigan.data", "minigan.gan",
                    "minigan.models")
ENTRY_POINT = "minigan.__main__"  # ``python -m minigan``: the command line's own entry


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def owner(module: str) -> str:
    """The package a module belongs to (a package's ``__init__`` belongs to the package itself)."""
    return module if is_package(module) else module.rpartition(".")[0]


def resolve(module: str) -> str | None:
    """``module`` if it is one of minigan's, else the nearest enclosing one (None outside minigan)."""
    while module and module not in MODULES:
        module = module.rpartition(".")[0]
    return module or None


def type_checking(node: ast.AST) -> bool:
    """True for ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``)."""
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def import_nodes(tree: ast.AST, typing_only: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement in ``tree``, and whether it runs only for type checkers."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, typing_only
        elif type_checking(node):
            for child in node.body:
                yield from import_nodes(ast.Module([child], []), True)
            for child in node.orelse:
                yield from import_nodes(ast.Module([child], []), typing_only)
        else:
            yield from import_nodes(node, typing_only)


def imports(module: str, runtime: bool = False) -> Iterator[tuple[str, str | None, int]]:
    """(imported module, the name taken from it or None, line) for each import of ``module``; with
    ``runtime``, only the imports that run (not those under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(MODULES[module].read_text(), str(MODULES[module]))
    for node, typing_only in import_nodes(tree):
        if runtime and typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = resolve(alias.name)
                if target:
                    yield target, None, node.lineno
            continue
        base = from_base(module, node)
        source = resolve(base)
        for alias in node.names if source else ():
            if f"{base}.{alias.name}" in MODULES:
                yield f"{base}.{alias.name}", None, node.lineno
            else:
                yield source, alias.name, node.lineno


def from_base(module: str, node: ast.ImportFrom) -> str:
    """The absolute name of the module that ``from ... import`` in ``module`` reads from."""
    if not node.level:
        return node.module or ""
    anchor = module if is_package(module) else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        anchor = anchor.rpartition(".")[0]
    return f"{anchor}.{node.module}" if node.module else anchor


def graph() -> dict[str, set[str]]:
    """Each module's runtime imports of minigan's modules (what can make a cycle)."""
    return {m: {target for target, _, _ in imports(m, runtime=True) if target != m} for m in MODULES}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(edges)))
    try:
        for v in sorted(edges):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def test_the_import_graph_sees_the_packages_imports():
    edges = graph()
    assert "minigan.nn" in edges["minigan"] and "minigan.backend" in edges["minigan"]
    assert "minigan.nn.layer" in edges["minigan.nn.conv.layers"]


def test_at_most_ten_modules_at_the_top_of_the_package():
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= 10, f"{len(top)} top-level modules: {top}"


def test_no_import_cycle_between_the_packages_modules():
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_engine_imports_nothing_of_the_gan_the_data_the_evaluation_the_run_or_the_command_line():
    wrong = [f"{m} (line {line}) imports {target}" for m in MODULES if within(m, ENGINE)
             for target, _, line in imports(m) if within(target, ABOVE_THE_ENGINE)]
    assert not wrong, "\n".join(wrong)


def test_only_the_command_line_imports_the_command_line():
    wrong = [f"{m} (line {line}) imports {target}" for m in MODULES
             if not within(m, ("minigan.cli", ENTRY_POINT))
             for target, _, line in imports(m) if within(target, ("minigan.cli",))]
    assert not wrong, "\n".join(wrong)


def module_aliases(module: str) -> dict[str, str]:
    """The names under which ``module`` binds minigan's modules (``from minigan import backend``)."""
    aliases = {}
    for node, _ in import_nodes(ast.parse(MODULES[module].read_text())):
        for alias in node.names:
            if isinstance(node, ast.ImportFrom) and f"{from_base(module, node)}.{alias.name}" in MODULES:
                aliases[alias.asname or alias.name] = f"{from_base(module, node)}.{alias.name}"
            elif isinstance(node, ast.Import) and alias.asname and alias.name in MODULES:
                aliases[alias.asname] = alias.name
    return aliases


def private_uses(module: str) -> Iterator[tuple[str, str, int]]:
    """(source module, private name, line) for each ``from source import _x`` and ``source._x`` in ``module``."""
    for source, name, line in imports(module):
        if name and name.startswith("_") and not name.startswith("__"):
            yield source, name, line
    aliases = module_aliases(module)
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            yield aliases[node.value.id], node.attr, node.lineno


def test_no_private_name_of_one_package_is_used_from_another():
    wrong = [f"{m} (line {line}) uses {name} of {source}" for m in MODULES
             for source, name, line in private_uses(m) if owner(source) != owner(m)]
    assert not wrong, "\n".join(wrong)


def executed_files(step) -> set[Path]:
    """minigan's source files whose Python code runs during ``step()``."""
    files: set[str] = set()

    def profile(frame, event, arg):
        if event == "call":
            files.add(frame.f_code.co_filename)

    sys.setprofile(profile)
    try:
        step()
    finally:
        sys.setprofile(None)
    paths = {Path(f).resolve() for f in files if not f.startswith("<")}
    return {p for p in paths if p.is_relative_to(PACKAGE)}


def test_a_reference_convolution_runs_at_most_four_short_files_and_nothing_of_the_fast_paths():
    rng = np.random.default_rng(0)
    layers = [(nn.Conv2D(8, 5, 2, "same", algorithm="reference"), (2, 8, 8, 3)),
              (nn.Conv2DTranspose(3, 5, 2, "same", algorithm="reference"), (2, 4, 4, 8))]
    steps = []
    for layer, shape in layers:
        x = rng.standard_normal(shape).astype(np.float32)
        dy = np.ones_like(layer.forward(x))  # the first step builds the layer
        layer.backward(dy)
        steps.append((layer, x, dy))

    def forward_and_backward():
        for layer, x, dy in steps:
            layer.forward(x)
            layer.backward(dy)

    files = executed_files(forward_and_backward)
    lines = {str(p.relative_to(PACKAGE.parent)): len(p.read_text().splitlines()) for p in sorted(files)}
    report = f"{len(files)} files, {sum(lines.values())} lines: {lines}"
    assert len(files) <= 4, report
    assert sum(lines.values()) <= 700, report
    assert not any(p.is_relative_to(PACKAGE / "nn" / "conv" / "fast") for p in files), report
