"""The house rules of the source tree (docs/architecture.md), checked on the import graph.

Read with ``ast`` from the files, so nothing is imported: no import cycle among homeserver
modules nor among the packages of ``services/`` (docs/architecture.md draws their layers), no
function-level import of a homeserver module (the usual way to hide a cycle),
services and models never import Flask, blueprints (``api/``) never import models, and no
module is over 600 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "homeserver"
MAX_LINES = 600
WEB_FRAMEWORKS = ("flask", "werkzeug")

# Function-level imports of homeserver modules that are truly needed, each with its reason.
# Keep it empty: a function-level import is how a cycle hides.
FUNCTION_LEVEL_ALLOWED: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str | None:
    if node.level == 0:
        return node.module
    parts = module.split(".")
    if not is_package:
        parts.pop()
    parts = parts[:len(parts) - node.level + 1]
    return ".".join(parts + ([node.module] if node.module else []))


class _Import:
    def __init__(self, target: str, line: int, in_function: bool):
        self.target, self.line, self.in_function = target, line, in_function


def _imports(module: str, path: Path, modules: dict[str, Path]) -> list[_Import]:
    """Every import in the file: the module it names (``from pkg import mod`` names pkg.mod)."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(_Import(alias.name, child.lineno, in_function)
                             for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, is_package, child)
                for alias in child.names:
                    named = f"{base}.{alias.name}"
                    found.append(_Import(named if named in modules else base, child.lineno,
                                         in_function))
            visit(child, in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return found


def _graph() -> tuple[dict[str, Path], dict[str, list[_Import]]]:
    modules = _sources()
    return modules, {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return found


def test_no_import_cycles():
    modules, imports = _graph()
    edges = {name: {imp.target for imp in found if imp.target in modules and imp.target != name}
             for name, found in imports.items()}
    assert _cycles(edges) == []


def _services_package(module: str) -> str | None:
    """``accounts`` for homeserver.services.accounts.*; None outside a services package."""
    parts = module.split(".")
    if len(parts) > 3 and parts[:2] == ["homeserver", "services"]:
        return parts[2]
    return None


def _package_edges(modules: dict[str, Path], imports: dict[str, list[_Import]]
                   ) -> dict[str, dict[str, list[str]]]:
    """Package -> imported package -> the module imports making that edge."""
    edges: dict[str, dict[str, list[str]]] = {}
    for name, found in imports.items():
        source = _services_package(name)
        if source is None:
            continue
        for imp in found:
            target = _services_package(imp.target) if imp.target in modules else None
            if target is not None and target != source:
                edges.setdefault(source, {}).setdefault(target, []).append(
                    f"{name} imports {imp.target}")
    return edges


def test_no_import_cycles_between_services_packages():
    """A cycle of packages hides a cycle of ideas even when the modules form none: every
    package of services/ sits above the ones it imports."""
    modules, imports = _graph()
    edges = _package_edges(modules, imports)
    cycles = _cycles({package: set(targets) for package, targets in edges.items()})
    found = [f"{' <-> '.join(cycle)}: " + "; ".join(
        sorted(why for source in cycle for target, whys in edges.get(source, {}).items()
               if target in cycle for why in whys)) for cycle in cycles]
    assert found == []


def test_the_package_check_sees_a_package_cycle():
    state, actions = "homeserver.services.rooms.state", "homeserver.services.push.actions"
    modules = {state: Path(), actions: Path()}
    imports = {state: [_Import(actions, 1, False)], actions: [_Import(state, 1, False)]}
    edges = _package_edges(modules, imports)
    assert _cycles({p: set(t) for p, t in edges.items()}) == [["push", "rooms"]]


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_function_level_imports_of_homeserver_modules():
    _, imports = _graph()
    found = sorted(f"{name}:{imp.line} imports {imp.target}"
                   for name, found in imports.items() for imp in found
                   if imp.in_function and imp.target.split(".")[0] == "homeserver"
                   and (name, imp.target) not in FUNCTION_LEVEL_ALLOWED)
    assert found == []


def test_services_and_models_never_import_flask():
    _, imports = _graph()
    found = sorted(f"{name} imports {imp.target}" for name, found in imports.items()
                   if name.startswith(("homeserver.services", "homeserver.models"))
                   for imp in found if imp.target.split(".")[0] in WEB_FRAMEWORKS)
    assert found == []


def test_blueprints_never_import_models():
    _, imports = _graph()
    found = sorted(f"{name} imports {imp.target}" for name, found in imports.items()
                   if name.startswith("homeserver.api")
                   for imp in found if imp.target.startswith("homeserver.models"))
    assert found == []


def test_no_module_over_600_lines():
    paths = [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"),
             *(ROOT / "bench").glob("*.py")]
    found = sorted(f"{path.relative_to(ROOT)}: {count} lines" for path in paths
                   if (count := len(path.read_text().splitlines())) > MAX_LINES)
    assert found == []


def test_services_are_packages_by_domain():
    loose = sorted(path.name for path in (PACKAGE / "services").glob("*.py")
                   if path.name != "__init__.py")
    assert len(loose) <= 12, loose
