"""The layout, read from the source with `ast`: no arrow runs back up.

The runtime packages import each other without cycles, and never import a tool: the playground
and the Discord emulator it runs the bot against (shipped, but tools all the same), the training
scripts, the benchmarks, the tests. Tools may import the runtime. Imports are read
wherever they stand: a function's lazy import and one under `if TYPE_CHECKING:` are arrows too (a
type-only import back up still ties the lower module to the upper one).
"""

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ("bot", "api", "worker", "broker", "jobs", "models", "cli")
"""The runtime proper: what the bot, the API, the workers and the command line run."""
SHIPPED_TOOLS = ("playground", "emulator")
RUNTIME = CORE + SHIPPED_TOOLS
"""Every installed package: none of their modules imports in a cycle."""
TOOLS = ("training", "bench", "tests")


@dataclass(frozen=True)
class Import:
    source: str
    """The importing module."""
    target: str
    """What it names, resolved to an absolute dotted name (a module, or a name inside one)."""
    line: int

    def where(self) -> str:
        return f"{self.source} (line {self.line})"


def _modules(package: str) -> dict[str, Path]:
    """Every module of a top-level package, by dotted name (a package is its `__init__.py`)."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if not all(part.isidentifier() for part in parts):
            continue  # not importable: a data folder's script, a cache
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path, known: set[str]) -> Iterator[Import]:
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # `from . import x` in a package's __init__ is relative to the package itself.
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                up = node.level - 1
                assert up < len(anchor), f"{module} (line {node.lineno}): relative import beyond the top"
                base = ".".join(anchor[: len(anchor) - up] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                child = f"{base}.{alias.name}"
                # `from pkg import name` depends on the module pkg.name when there is one.
                yield Import(module, child if child in known else base, node.lineno)


@cache
def _graph() -> tuple[dict[str, list[Import]], set[str]]:
    """The runtime modules, each with its imports (resolved to absolute names), and every module
    of the repository's runtime and tools packages."""
    runtime = {name: path for package in RUNTIME for name, path in _modules(package).items()}
    known = set(runtime) | {name for package in TOOLS for name in _modules(package)}
    found = {package for package in RUNTIME if any(name.split(".")[0] == package for name in runtime)}
    assert found == set(RUNTIME), f"no modules found for {sorted(set(RUNTIME) - found)} under {ROOT}"
    return {name: list(_imports(name, path, known)) for name, path in runtime.items()}, known


def _module_of(target: str, known: set[str]) -> str | None:
    """The repository module an import loads: the longest prefix of its name that is one."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in known:
            return name
    return None


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (no recursion limit): the components, each a list of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
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
                    work.append((child, iter(sorted(edges[child]))))
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
                components.append(sorted(component))
    return components


def _cycle(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """One cycle through a component's first module, by breadth-first search inside it."""
    start, members = component[0], set(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(edges[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in {component}")


def test_the_runtime_packages_import_each_other_without_cycles() -> None:
    imports, known = _graph()
    edges: dict[str, set[str]] = {name: set() for name in imports}
    lines: dict[tuple[str, str], int] = {}
    for name, found in imports.items():
        for each in found:
            target = _module_of(each.target, known)
            if target in edges and target != name:
                edges[name].add(target)
                lines[name, target] = min(lines.get((name, target), each.line), each.line)
    assert sum(map(len, edges.values())) > len(edges) / 2, "hardly any imports resolved: is the parser right?"

    cycles = []
    for component in _strongly_connected(edges):
        if len(component) > 1:
            cycle = _cycle(component, edges)
            steps = " → ".join(f"{a} (line {lines[a, b]})" for a, b in itertools.pairwise(cycle))
            cycles.append(f"{len(component)} modules: {', '.join(component)}\n    e.g. {steps} → {cycle[-1]}")
    assert not cycles, "import cycles among the runtime modules:\n  " + "\n  ".join(cycles)


def test_no_runtime_package_imports_a_tools_package() -> None:
    imports, _ = _graph()
    wrong = [
        f"{each.where()} imports {each.target}"
        for source, found in imports.items()
        if source.split(".")[0] in CORE
        for each in found
        if each.target.split(".")[0] in SHIPPED_TOOLS + TOOLS
    ]
    assert not wrong, "runtime code importing tools:\n  " + "\n  ".join(wrong)
