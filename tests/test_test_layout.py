"""The suite's own layout: tests share through fixtures (conftest.py) and tests/support, and no
test module (nor conftest) imports another test module; and tests/ mirrors app/ (STYLE.md, Tests).

The mirror, as checked below:
- every folder of tests/ holding test modules is the app package of the same path (tests/web is
  app/blueprints, ARCHITECTURE §2), except the folders of NOT_AN_APP_PACKAGE;
- a test module is named after the module (or sub-package) of that app package it tests, found
  anywhere inside it: `test_<module>.py`, or `test_<module>_<aspect>.py` for one aspect of it
  (tests/accounts/test_auth_signup.py: app/accounts/auth.py; tests/web/test_learn_discussions.py:
  app/blueprints/learn/). A plural module name may read singular (test_payout_race.py: payouts).
  The modules of NOT_NAMED_AFTER_A_MODULE test something no single app module holds.
"""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
APP = TESTS.parent / "app"
SHARED = ("tests.support", "tests.factories")

# The one test folder whose app package has another name.
APP_PACKAGE_OF = {"web": "blueprints"}  # the HTTP adapters, as ARCHITECTURE §2 names them

# Test folders that are not the mirror of an app package, and why.
NOT_AN_APP_PACKAGE = {
    "support": "shared helpers, not tests",
    "e2e": "browser journeys across the whole site",
    "deployment": "the production shape (nginx, gunicorn, workers), not one package",
    # app/discovery is being made (issue #15 item 5: search, ranking, recommendations move out of
    # app/catalog with these tests); from then on the folder is checked like any other, and this
    # line may go.
    "discovery": "until app/discovery exists",
}

# Test modules (paths under tests/) named after no app module, and why. Other helpers of issue
# #15 rename app/commerce, make app/discovery and split messaging's transport: the entries of
# their folders are their current names, kept until their moves land (an entry that no longer
# names a file is harmless).
NOT_NAMED_AFTER_A_MODULE = {
    "test_deploy_files.py": "README, .env.example, Procfile, Dockerfile and app/config.py agree",
    "test_front_end_pins.py": "the vendored front-end files and their pins",
    "test_migrations.py": "migrations/: the models and the migrations agree",
    "test_test_layout.py": "this suite's own layout",
    "web/api/test_client_journey.py": "a client written from the OpenAPI document alone, buying to withdrawing",
    "web/test_concurrent_writes.py": "writes at the same moment through many views of a real server",
    "web/test_refund_deliveries.py": "the refund rule as the player, the media route and checkout show it",
    "commerce/test_checkout_orders.py": "checkout to paid order across orders, gateways and webhooks",
    "commerce/test_duplicate_purchase.py": "a second purchase of one course, across checkout and payment",
    "commerce/test_payment_confirmation.py": "payment confirmation across gateways and webhooks",
    "commerce/test_money_invariants.py": "the ledger's invariants under random operations of every money service",
    "commerce/test_imports.py": "commerce's import graph: no cycle through it, no hidden import",
    "messaging/test_fanout_cluster.py": "live delivery across processes on a Redis Cluster",
    "messaging/test_live_connections.py": "sockets and streams of a real server: origin, revocation, limits",
    "discovery/test_bad_input.py": "hostile search input across the discovery services",
    "discovery/test_filters_property.py": "search filters, property-based, across the discovery services",
    "discovery/test_sorting_and_pages.py": "search ordering and paging across the discovery services",
    "discovery/test_replica.py": "the catalog read from a read-only replica",
}


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


def app_package(folder: Path) -> Path:
    """The app package that the test folder `folder` mirrors."""
    parts = list(folder.relative_to(TESTS).parts)
    if parts:
        parts[0] = APP_PACKAGE_OF.get(parts[0], parts[0])
    return APP.joinpath(*parts)


def module_names(package: Path) -> set[str]:
    """Every module and sub-package name anywhere inside `package` (its own name included)."""
    names = {package.name}
    for path in package.rglob("*"):
        if path.suffix == ".py" and path.stem != "__init__":
            names.add(path.stem)
        elif path.is_dir() and (path / "__init__.py").exists():
            names.add(path.name)
    return names


def named_after_one_of(test_module: str, names: set[str]) -> bool:
    """`test_<name>.py` or `test_<name>_<aspect>.py` for one of `names` (or its singular: payouts, payout; categories, category)."""
    subject = test_module.removeprefix("test_").removesuffix(".py")
    spellings = {spelling for name in names
                 for spelling in (name, name.removesuffix("s"), name.removesuffix("ies") + "y")}
    return any(subject == spelling or subject.startswith(spelling + "_") for spelling in spellings)


def test_every_test_folder_mirrors_an_app_package():
    folders = {path.parent for path in TESTS.rglob("test_*.py")} - {TESTS}
    strays = sorted(str(folder.relative_to(TESTS)) for folder in folders
                    if folder.relative_to(TESTS).parts[0] not in NOT_AN_APP_PACKAGE
                    and not (app_package(folder) / "__init__.py").exists())
    assert strays == [], f"tests/<folder> mirrors app/<folder> (tests/web: app/blueprints): {strays}"


def test_every_test_module_is_named_after_the_app_module_it_tests():
    misnamed = []
    for path in sorted(TESTS.rglob("test_*.py")):
        folder, relative = path.parent, path.relative_to(TESTS).as_posix()
        if relative in NOT_NAMED_AFTER_A_MODULE:
            continue
        if folder == TESTS:  # the app's top-level modules and packages
            names = {p.stem for p in APP.glob("*.py")} | {p.parent.name for p in APP.glob("*/__init__.py")}
        elif not (app_package(folder) / "__init__.py").exists():
            continue  # a folder of NOT_AN_APP_PACKAGE (the other test checks the rest)
        else:
            names = module_names(app_package(folder))
        if not named_after_one_of(path.name, names):
            misnamed.append(relative)
    assert misnamed == [], ("name a test module test_<module>[_<aspect>].py after the module of the "
                            f"mirrored app package it tests, or list it in NOT_NAMED_AFTER_A_MODULE: {misnamed}")


def test_the_name_check_reads_modules_singular_and_with_an_aspect():
    names = {"payouts", "auth", "session_loader", "categories"}
    assert named_after_one_of("test_payouts.py", names)
    assert named_after_one_of("test_category_views.py", names)
    assert named_after_one_of("test_payout_race.py", names)
    assert named_after_one_of("test_auth_signup.py", names)
    assert named_after_one_of("test_session_loader_sqlite.py", names)
    assert not named_after_one_of("test_authentication.py", names)
    assert not named_after_one_of("test_sessions.py", names)
