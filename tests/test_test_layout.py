"""The suite's own layout: tests share through fixtures (conftest.py) and tests/support, and no
test module (nor conftest) imports another test module."""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SHARED = ("tests.support", "tests.factories")


def imported_test_modules(path: Path) -> list[str]:
    """The `tests.…` modules `path` imports (anywhere in it) that are not shared helpers."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from tests import factories` names a module; `from tests.support import x` too
            modules = ([f"{node.module}.{alias.name}" for alias in node.names]
                       if node.module in ("tests", "tests.support") else [node.module])
        elif isinstance(node, ast.ImportFrom):  # relative: always another test module
            modules = [f"{'.' * node.level}{node.module or ''}"]
        else:
            continue
        found += [name for name in modules
                  if (name == "tests" or name.startswith(("tests.", ".")))
                  and not any(name == shared or name.startswith(shared + ".") for shared in SHARED)]
    return found


def test_no_test_module_imports_another_test_module():
    offenders = {str(path.relative_to(TESTS.parent)): modules
                 for path in sorted(TESTS.rglob("*.py"))
                 if (modules := imported_test_modules(path))}
    assert offenders == {}, ("move what they share to tests/support/<topic>.py (helpers) or a "
                             f"conftest.py (fixtures): {offenders}")


def test_the_check_sees_each_kind_of_import(tmp_path):
    module = tmp_path / "test_x.py"
    module.write_text("import tests.web.test_a\nfrom tests.web.conftest import text\n"
                      "from tests import factories, conftest\nfrom . import helpers\n"
                      "from tests.support.pages import text\nimport tests.support.live\n"
                      "def f():\n    from tests.e2e.helpers import log_in\n")
    assert imported_test_modules(module) == [
        "tests.web.test_a", "tests.web.conftest", "tests.conftest", ".", "tests.e2e.helpers"]
