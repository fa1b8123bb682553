"""The package layout that docs/architecture.md describes, checked from the source.

The import graph is read with `ast`, every import counted (those under `if TYPE_CHECKING`
too): a cycle there is a cycle in the design, even when Python happens to load it.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import zulip_bot

ROOT = Path(zulip_bot.__file__).parent
HTTP = ("zulip", "zulip_bots", "requests")  # the libraries that talk to a Zulip server
EDGE = ("chat", "sandbox", "demo", "cli")  # the packages (and module) allowed to use them


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, module: str, is_package: bool, modules: set[str]) -> Iterator[str]:
    """The modules an import statement loads: for `from a import b`, `a.b` when that is one of
    `modules` (a submodule), else `a`."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            package = module.split(".")
            base = package[: len(package) - node.level + (1 if is_package else 0)]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        for alias in node.names:
            name = f"{source}.{alias.name}"
            yield name if name in modules else source


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Each module of the package and the modules it imports, its own and others'."""
    files = {_module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[module] = {
            name
            for node in ast.walk(tree)
            for name in _imported(node, module, is_package, set(files))
        } - {module}
    return graph


def _part(module: str) -> str:
    """`zulip_bot.meeting.service` -> `meeting`; `zulip_bot.cli` -> `cli`; outside: its top."""
    parts = module.split(".")
    return parts[1] if parts[0] == "zulip_bot" and len(parts) > 1 else parts[0]


def _breaches(graph: dict[str, set[str]], part: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in graph.items()
        if module.startswith("zulip_bot.") and _part(module) == part
        for name in names
        if _part(name) in forbidden
    )


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """A check that reads no imports would pass anything: a made-up package with a cycle
    through a relative import and one under TYPE_CHECKING is seen as such."""
    package = tmp_path / "zulip_bot"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "__init__.py").write_text("from . import a\n")
    (package / "inner" / "a.py").write_text("from .b import thing\nimport requests\n")
    (package / "inner" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from zulip_bot.inner import a\n"
    )
    found = import_graph(package)
    assert found["zulip_bot.inner"] == {"zulip_bot.inner.a"}
    assert found["zulip_bot.inner.a"] == {"zulip_bot.inner.b", "requests"}
    assert found["zulip_bot.inner.b"] == {"typing", "zulip_bot.inner.a"}
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter(found).prepare()


def test_no_import_cycle(graph: dict[str, set[str]]) -> None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_notes_know_nothing_of_meetings_or_chat(graph: dict[str, set[str]]) -> None:
    assert _breaches(graph, "notes", ("meeting", "chat", "sandbox", "demo", *HTTP)) == []


def test_meetings_know_nothing_of_zulip(graph: dict[str, set[str]]) -> None:
    assert _breaches(graph, "meeting", ("chat", "sandbox", "demo", *HTTP)) == []


def test_only_the_edge_talks_http(graph: dict[str, set[str]]) -> None:
    inner = {_part(module) for module in graph if module.startswith("zulip_bot.")} - set(EDGE)
    assert sorted(b for part in inner for b in _breaches(graph, part, HTTP)) == []
