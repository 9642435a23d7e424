"""The shape of the code: apps in layers, each importing only from the
layers below it, never another app's views or admin, and template filters
never used as library code."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {
    "extranet": 0,
    "documents": 1,
    "families": 2,
    "students": 3,
    "fees": 4,
    "reenrollment": 5,
    "billing": 5,
    "messaging": 6,
    "directdebit": 6,
    "home": 7,
    "workspace": 8,
}
# The demo data and the project's URLs bring every app together on purpose.
GATHERERS = {
    "extranet/demo.py",
    "extranet/urls.py",
    "extranet/settings.py",
    "extranet/management/commands/load_demo_data.py",
}


def imports():
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    continue
                for name in names:
                    yield app, module, name


def test_the_walk_finds_imports():
    assert ("families", "families/views.py", "documents.files") in set(imports())


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_never_imports_another_apps_views_or_admin(app):
    wrong = [
        (module, name)
        for owner, module, name in imports()
        if owner == app
        and name.split(".")[0] in LAYERS
        and name.split(".")[0] != app
        and len(name.split(".")) > 1
        and name.split(".")[1] in {"views", "admin"}
    ]
    assert wrong == []


def test_apps_import_only_from_layers_below():
    wrong = [
        (module, name)
        for owner, module, name in imports()
        if module not in GATHERERS
        and name.split(".")[0] in LAYERS
        and LAYERS[name.split(".")[0]] > LAYERS[owner]
    ]
    assert wrong == []


def test_template_filters_are_not_library_code():
    wrong = [
        (module, name)
        for owner, module, name in imports()
        if ".templatetags" in name and "templatetags" not in module
    ]
    assert wrong == []
