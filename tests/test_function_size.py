"""No function in motifq/ is longer than MAX_LINES lines of code (STYLE: small functions, named
stages), except those in ALLOWED, each with its reason.

A function's length is counted from its first statement after the docstring to its last line
(comments and blank lines inside included; the signature, decorators and the docstring, which
the numpydoc rules make long on purpose, are not). Nested functions and methods are measured
on their own, and their lines also count towards the function that holds them.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "motifq"
MAX_LINES = 60

#: qualified name (module path inside motifq, then the function's) -> why it may be longer
ALLOWED: dict = {}


def _code_lines(fn) -> int:
    """Lines from the first statement after the docstring to the function's last line."""
    body = fn.body
    if (len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        body = body[1:]
    return fn.end_lineno - body[0].lineno + 1


def _functions(tree, prefix):
    """(qualified name, node) of every function in tree, nested ones and methods included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + node.name, node
            yield from _functions(node, prefix + node.name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")
        else:
            yield from _functions(node, prefix)


def _lengths(package=PACKAGE) -> dict:
    """qualified name -> code lines of every function under package."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        module = ".".join(path.relative_to(package).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, node in _functions(tree, module + "."):
            out[name] = _code_lines(node)
    return out


def test_no_function_is_longer_than_the_limit():
    lengths = _lengths()
    long = {name: n for name, n in lengths.items() if n > MAX_LINES and name not in ALLOWED}
    assert not long, "split these functions into named steps (or allow them with a reason): " + ", ".join(
        f"{name} ({n} lines)" for name, n in sorted(long.items(), key=lambda kv: -kv[1]))


def test_allowed_functions_are_still_long():
    """An entry of ALLOWED whose function is gone or now short must leave the list."""
    lengths = _lengths()
    stale = [name for name in ALLOWED if lengths.get(name, 0) <= MAX_LINES]
    assert not stale, "remove from ALLOWED: " + ", ".join(stale)


@pytest.mark.parametrize("n_code, long", [(MAX_LINES, False), (MAX_LINES + 1, True)])
def test_the_count_skips_the_docstring_and_counts_nested_code(tmp_path, n_code, long):
    doc = '    """A docstring\n' + "    of many lines\n" * 80 + '    """\n'
    inner = "    def inner():\n        return 1\n"  # 2 lines of the outer function's code
    code = "    x = 0\n" * (n_code - 3) + "    return x\n"
    (tmp_path / "mod.py").write_text("def outer(\n    a,\n):\n" + doc + inner + code, encoding="utf-8")
    lengths = _lengths(tmp_path)
    assert lengths == {"mod.outer": n_code, "mod.outer.inner": 1}
    assert (lengths["mod.outer"] > MAX_LINES) is long
