"""The package's import graph, read with ast (lazy imports inside functions included): no circle, and imports point
down the layers: core <- models, data <- train, metrics, lab <- runs. train reaches metrics only through its
evaluation callback; metrics never imports train or runs."""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "bwgan_tf"
# room -> layer; a room imports rooms of lower layers, and of its own layer only as ALLOWED_ACROSS says
LAYERS = {"core": 0, "io": 0, "models": 1, "data": 1, "train": 2, "metrics": 2, "lab": 2, "runs": 3}
ALLOWED_ACROSS = {("train/evaluation.py", "metrics")}  # the training callback that calls the metrics


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(path: pathlib.Path, known: dict) -> set:
    """The package modules `path` imports anywhere in its body: `from a import b` is a.b when that is a module,
    else a (its __init__)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bwgan_tf":
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if name in known else node.module)
    return found


def graph() -> dict:
    known = modules()
    return {name: imports_of(path, known) for name, path in known.items()}


def room(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else "core"


def find_circle(edges: dict):
    """One circle of the directed graph as a list of modules, or None (depth-first search)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                circle = visit(target)
                if circle:
                    return circle
        state[node] = "done"
        stack.pop()
        return None

    for start in sorted(edges):
        if start not in state:
            circle = visit(start)
            if circle:
                return circle
    return None


def test_the_package_has_no_import_circle():
    assert find_circle(graph()) is None, " -> ".join(find_circle(graph()))


def test_the_circle_finder_finds_a_circle():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


def test_imports_point_down_the_layers():
    wrong = []
    for source, targets in graph().items():
        relative = str(modules()[source].relative_to(PACKAGE))
        for target in targets:
            if target == "bwgan_tf":
                continue
            here, there = room(source), room(target)
            if here == there or LAYERS[there] < LAYERS[here] or (relative, there) in ALLOWED_ACROSS:
                continue
            wrong.append(f"{source} -> {target}")
    assert not wrong, "imports that do not point down the layers: " + ", ".join(sorted(wrong))


@pytest.mark.parametrize("source_room, forbidden", [("metrics", "train"), ("metrics", "runs"), ("train", "runs")])
def test_rooms_that_never_import_each_other(source_room, forbidden):
    found = [f"{s} -> {t}" for s, targets in graph().items() for t in targets
             if room(s) == source_room and room(t) == forbidden]
    assert not found, found


def test_at_most_eleven_modules_at_the_package_root_and_none_over_300_lines():
    root = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert len(root) <= 11, root  # 11: compat.py, the one home of the Keras 2 / Keras 3 differences
    lengths = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert not {name: n for name, n in lengths.items() if n > 300}
