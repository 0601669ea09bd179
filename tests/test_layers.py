"""The layers: data flows one way, with no import cycles, and analysis never loads the engine."""

import ast
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

FOLDERS = {"valuechain": ROOT / "src" / "valuechain", "valuechain.simulation": ROOT / "simulation",
           "valuechain.analysis": ROOT / "analysis", "valuechain.scenarios": ROOT / "scenarios"}
ENGINE_SIDE = ("valuechain.simulation.abm", "valuechain.simulation.running", "valuechain.cli")


def modules() -> dict[str, Path]:
    out = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("").parts
            if "chains" in rel:  # scripts beside the chain data, not part of the package
                continue
            name = ".".join((package,) + rel).removesuffix(".__init__")
            out[name] = path
    return out


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports, at module level or inside functions."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = {f"{target}.{alias.name}" for alias in node.names} & known  # ``from . import firm``
            found.update(subs or {target})
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    # a module's own parent packages are imported before it: no edge to them
    return {m for m in found if m in known and m != name and not name.startswith(m + ".")}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(name, path, set(mods)) for name, path in mods.items()}


def test_the_import_graph_has_no_cycles():
    g = graph()
    assert len(g) > 30  # the walk found the package's modules
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(g[m]):
            if state.get(n) == 1:
                cycles.append(path[path.index(n):] + [m, n] if n in path else [m, n])
            elif n not in state:
                visit(n, path + [m])
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m, [])
    assert cycles == []


def test_analysis_never_imports_the_engine_state_recorder_or_runner():
    g = graph()
    seen, todo = set(), [m for m in g if m.startswith("valuechain.analysis")]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(g[m])
    assert sorted(m for m in seen if m.startswith(ENGINE_SIDE)) == []


def test_the_walk_sees_a_cycle_and_an_engine_import(tmp_path):
    """The graph code itself: a known cycle and a known engine import are found."""
    known = {"valuechain.a", "valuechain.b", "valuechain.simulation.abm.engine"}
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from . import b\nfrom .simulation.abm.engine import X\n")
    b.write_text("def f():\n    from .a import g\n")
    assert imports_of("valuechain.a", a, known) == {"valuechain.b", "valuechain.simulation.abm.engine"}
    assert imports_of("valuechain.b", b, known) == {"valuechain.a"}


def test_importing_analysis_loads_neither_mesa_nor_the_engine():
    code = ("import sys, valuechain.analysis; "
            "print(sorted(m for m in sys.modules if m == 'mesa' or m.startswith(('valuechain.simulation.abm', "
            "'valuechain.simulation.running'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_building_the_command_line_loads_neither_the_scenario_schema_nor_the_model():
    """Every command builds the whole parser first (its --help texts included), so that must stay
    light: a refused option answers at once (the back-test's default replications come from
    ``running.backtest_defaults``, which imports nothing)."""
    code = ("import sys, valuechain.cli as c; c._parser(); "
            "print(sorted(m for m in sys.modules if m in ('mesa', 'numpy', 'pandas') or m.startswith(("
            "'valuechain.simulation.abm', 'valuechain.simulation.config.scenario', "
            "'valuechain.simulation.running.backtest.'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
