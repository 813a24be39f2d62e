"""Commerce's import graph stays one-way (issue #15): no module inside a cycle, none hiding one
behind a function-local import. pyproject.toml's commerce layers contract says the order; this
checks what the contract cannot see: that any commerce module can be imported first, alone."""
from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

APP = Path(__file__).resolve().parents[2] / "app"


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("app", cache_dir=None)


def strongly_connected(graph, modules: set[str]) -> list[set[str]]:
    """The import cycles among `modules` (Tarjan's components with more than one module)."""
    edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = set()
            while (top := stack.pop()) != module:
                on_stack.discard(top)
                component.add(top)
            on_stack.discard(module)
            component.add(module)
            if len(component) > 1:
                found.append(component)

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


def function_local_app_imports(path: Path) -> list[int]:
    """Lines of `import app…` / `from app… import` inside a function or method of `path`."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.level == 0 and \
                        (inner.module == "app" or (inner.module or "").startswith("app.")):
                    lines.append(inner.lineno)
                elif isinstance(inner, ast.Import) and any(
                        alias.name == "app" or alias.name.startswith("app.") for alias in inner.names):
                    lines.append(inner.lineno)
    return sorted(set(lines))


def test_no_commerce_module_is_part_of_an_import_cycle(graph):
    in_cycles = [sorted(component) for component in strongly_connected(graph, set(graph.modules))
                 if any(module.startswith("app.commerce") for module in component)]
    assert in_cycles == []


def test_commerce_hides_no_import_in_a_function():
    hidden = {str(path.relative_to(APP.parent)): lines
              for path in sorted((APP / "commerce").rglob("*.py"))
              if (lines := function_local_app_imports(path))}
    assert hidden == {}, "import at the top of the module; if that makes a cycle, turn an arrow around"


def test_the_checks_see_a_cycle_and_a_hidden_import(tmp_path):
    class Graph:
        modules = {"a", "b", "c"}
        imports = {"a": {"b"}, "b": {"a"}, "c": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.imports[module]

    assert strongly_connected(Graph(), Graph.modules) == [{"a", "b"}]
    module = tmp_path / "m.py"
    module.write_text("from app.errors import Invalid\n\ndef f():\n    from app.policy import require\n"
                      "    import app.tasks\n\nclass C:\n    def g(self):\n        from app import events\n")
    assert function_local_app_imports(module) == [4, 5, 9]
