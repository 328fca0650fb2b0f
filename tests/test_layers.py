"""The package's import layers: every module imports only from modules above it in LAYERS, and never
a private name of another module.

The rules, as checked here on the source (``ast``, nothing is imported):

1. Every module of ``motifq`` has a place in :data:`LAYERS`. A name there is a module
   (``evaluate``, ``data.dataset``) or a package (``data``: its ``__init__``, and any module inside
   it not listed by itself; ``cli``: every module of the command-line package). A new module must
   be given its place before this test passes (a top-level module does not inherit the place of
   the package ``motifq`` itself).
2. A module may import a module of ``motifq`` only if that module's layer comes earlier in the list
   (imports flow one way, down the list). Modules that share a layer (a package listed as one entry,
   such as ``cli``, the top layer) may import each other.
3. A private module (name starting with ``_``, e.g. ``_tomtom``) belongs to its owner, named in
   :data:`PRIVATE_OWNERS`; it sits in the list just above its owner, and only the owner and the
   owner's other private modules may import it.
4. A name starting with ``_`` (not a dunder) may not be imported from another module, nor read as
   an attribute of an imported module (``mod._name``), except between an owner and its private
   modules, or between modules that share a layer: they are one unit split into files.
5. The package ``motifq`` itself (its ``__init__``: the version and the motif layer's public names)
   sits just below ``jaspar``, so importing it can never pull in torch or matplotlib, and only the
   modules below it may import from it (``from . import __version__``).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "motifq"

LAYERS = [
    "errors", "cache", "config", "sequence", "motif", "formats", "jaspar",
    "",                                               # the package: motifq/__init__.py
    "data.dataset", "data.matfile", "data.deepsea", "data.fasta", "data.simulate", "data.genome", "data.build", "data.simulate_genome", "data",
    "kmers", "models", "metrics", "train", "evaluate", "extract",
    "_tomtom", "compare",
    "_scan_kernels", "scan", "variants", "tracks", "attribute", "incremental", "grammar", "cluster",
    "plot", "plot_metrics", "report", "quickstart", "cli", "__main__",
]
"""The stage order: a module imports only from entries before its own (see the module docstring)."""

PRIVATE_OWNERS = {"_tomtom": "compare", "_scan_kernels": "scan"}
"""Private module -> the module it belongs to."""


def _modules() -> dict:
    """Dotted name inside the package ("" for the package, "data" for motifq/data/__init__.py) -> path."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def layer_of(module: str) -> int | None:
    """Index in LAYERS of `module`: its own entry, else that of the nearest listed package above it."""
    name = module
    while True:
        if name in LAYERS:
            return LAYERS.index(name)
        name = name.rpartition(".")[0]
        if not name:           # the package motifq itself holds no unlisted module
            return None


def _base(module: str) -> str:
    return module.rpartition(".")[2]


def owner_of(module: str) -> str:
    """The module a private module belongs to (itself for a public one), as a dotted name."""
    parent, _, base = module.rpartition(".")
    if base in PRIVATE_OWNERS:
        return ".".join(p for p in (parent, PRIVATE_OWNERS[base]) if p)
    return module


def same_unit(a: str, b: str) -> bool:
    """True when `a` and `b` are one unit split into files: an owner and its private modules, or the
    modules of a package listed as one entry."""
    return owner_of(a) == owner_of(b) or layer_of(a) == layer_of(b)


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The dotted name (inside the package) that a ``from ... import`` statement reads from."""
    if node.level == 0:
        name = node.module or ""
        return name[len("motifq."):] if name.startswith("motifq.") else ("" if name == "motifq" else None)
    is_package = MODULES.get(module, Path()).name == "__init__.py"
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
    if node.module:
        parts = parts + node.module.split(".")
    return ".".join(parts)


def imports_of(module: str):
    """Yield (line, imported module, imported name or None) for every import of the package in `module`.

    ``from . import plot_metrics`` yields the submodule itself (``plot_metrics``, None)."""
    tree = ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "motifq" or alias.name.startswith("motifq."):
                    yield node.lineno, alias.name[len("motifq."):] if "." in alias.name else "", None
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            if source is None:
                continue
            for alias in node.names:
                sub = ".".join(p for p in (source, alias.name) if p)
                if sub in MODULES or sub in LAYERS:
                    yield node.lineno, sub, None
                else:
                    yield node.lineno, source, alias.name


def private_attributes(module: str):
    """Yield (line, imported module, attribute) for each ``alias._name`` read off an imported module."""
    tree = ast.parse(MODULES[module].read_text())
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _resolve(module, node) is not None:
            for alias in node.names:
                sub = ".".join(p for p in (_resolve(module, node), alias.name) if p)
                if sub in MODULES:
                    aliases[alias.asname or alias.name] = sub
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            yield node.lineno, aliases[node.value.id], node.attr


def violations(module: str) -> list:
    """Every broken rule in `module`, one line each."""
    out = []
    here = layer_of(module)
    where = f"motifq/{MODULES[module].relative_to(PACKAGE)}"
    for line, target, name in imports_of(module):
        if target == module:
            continue
        there = layer_of(target)
        label = f"{where}:{line}: {target or 'motifq'}{'.' + name if name else ''}"
        if there is None:
            out.append(f"{label}: not a module of the package")
        elif there > here:
            out.append(f"{label}: upward import ({target or 'motifq'} comes after {module or 'motifq'})")
        if _base(target).startswith("_") and not _base(target).startswith("__") \
                and owner_of(module) != owner_of(target) and not same_unit(module, target):
            out.append(f"{label}: private module of {owner_of(target)}")
        if name and name.startswith("_") and not name.startswith("__") and not same_unit(module, target):
            out.append(f"{label}: private name of another module")
    for line, target, attr in private_attributes(module):
        if not same_unit(module, target):
            out.append(f"{where}:{line}: {target}.{attr}: private name of another module")
    return out


def test_every_module_has_a_layer():
    missing = [m for m in MODULES if layer_of(m) is None]
    assert not missing, f"place these modules in LAYERS: {missing}"


def test_the_command_line_is_the_top_layer():
    """Only ``python -m motifq`` comes after the cli package, and every module of it shares its layer."""
    assert LAYERS[-2:] == ["cli", "__main__"]
    cli = [m for m in MODULES if m == "cli" or m.startswith("cli.")]
    assert len(cli) > 5 and all(layer_of(m) == LAYERS.index("cli") for m in cli)


def test_private_modules_sit_above_their_owner():
    for private, owner in PRIVATE_OWNERS.items():
        assert LAYERS.index(private) == LAYERS.index(owner) - 1


def test_imports_flow_down_the_layers():
    found = [v for m in MODULES for v in violations(m)]
    assert not found, "\n".join(found)


# --- the checker itself, on made-up modules ------------------------------------------------------
def _check_source(tmp_path, module: str, source: str, monkeypatch) -> list:
    path = tmp_path / (module.replace(".", "/") + ".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    monkeypatch.setitem(MODULES, module, path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    return violations(module)


def test_checker_finds_upward_imports(tmp_path, monkeypatch):
    assert _check_source(tmp_path, "evaluate", "from .plot_metrics import plot_roc\n", monkeypatch)
    assert _check_source(tmp_path, "evaluate", "from . import report\n", monkeypatch)
    assert _check_source(tmp_path, "models", "import motifq.train\n", monkeypatch)
    assert _check_source(tmp_path, "data.dataset", "from ..models import predict\n", monkeypatch)
    assert _check_source(tmp_path, "data.dataset", "from .fasta import read_fasta_labels\n", monkeypatch)
    assert _check_source(tmp_path, "jaspar", "from . import Motif\n", monkeypatch)   # the package is below
    assert not _check_source(tmp_path, "report", "from .evaluate import summarize\n"
                             "from . import plot_metrics as pm\nfrom motifq.models import predict\n", monkeypatch)
    assert not _check_source(tmp_path, "data.fasta", "from ..sequence import tokenize\n"
                             "from .dataset import Split\n", monkeypatch)


def test_checker_finds_private_names(tmp_path, monkeypatch):
    assert _check_source(tmp_path, "cli", "from .formats import _fmt_nsites\n", monkeypatch)
    assert _check_source(tmp_path, "cli", "from .compare import _compare_columns\n", monkeypatch)
    assert _check_source(tmp_path, "cli", "from . import plot\nplot._new_axes(None, (1, 1))\n", monkeypatch)
    assert _check_source(tmp_path, "cluster", "from ._tomtom import tomtom_kernel\n", monkeypatch)
    assert _check_source(tmp_path, "cluster", "from . import _tomtom\n", monkeypatch)
    assert not _check_source(tmp_path, "compare", "from ._tomtom import tomtom_kernel, _select\n", monkeypatch)
    assert not _check_source(tmp_path, "cli", "from . import __version__\n", monkeypatch)


def test_checker_knows_the_cli_package(tmp_path, monkeypatch):
    """The cli package is one unit: its modules share private names; below it, private names stay private."""
    assert layer_of("cli.train") == layer_of("cli") == LAYERS.index("cli")
    assert layer_of("newmodule") is None and layer_of("data.newmodule") == LAYERS.index("data")
    assert not _check_source(tmp_path, "cli.train", "from .common import _number, _add_output\n"
                             "from .configs import _add_config_options\nfrom ..train import fit\n"
                             "from .. import __version__\n", monkeypatch)
    assert _check_source(tmp_path, "cli.train", "from ..train import _loop\n", monkeypatch)
    assert _check_source(tmp_path, "cli.grammar", "from .. import report\nreport._write_pair_figure(1, 2, 3, 4, 5)\n",
                         monkeypatch)
    assert _check_source(tmp_path, "cli.compare", "from ..formats import _fmt_count\n", monkeypatch)
    assert _check_source(tmp_path, "quickstart", "from .cli import main\n", monkeypatch)
    assert _check_source(tmp_path, "report", "from .cli.common import log\n", monkeypatch)
