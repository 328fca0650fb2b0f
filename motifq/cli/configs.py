"""Options generated from the config dataclasses (one source of truth for ``motifq train``).

Each field of :class:`~motifq.config.TrainConfig` and :class:`~motifq.config.ModelConfig` becomes
one option: its type and default from the dataclass, its help from the class's numpydoc
``Parameters`` section. A new config field is a new option without editing the CLI.
"""
from __future__ import annotations

import dataclasses
import re

from .common import _number, _number_list

#: Config fields that are not options: they come from the data.
_FROM_DATA = ("n_targets", "length")
#: Spellings that differ from the field name (the first is shown in --help; the others are aliases).
_SPELLINGS = {"kind": ("--model",), "jaspar_reverse_complements": ("--jaspar-reverse-complements", "--jaspar-rc")}
#: argparse settings beyond type and default.
_EXTRA = {"jaspar_init": dict(nargs="?", const="jaspar2016", metavar="RELEASE|FILE"),
          "kmer_init": dict(metavar="FRACTION")}


def _field_docs(cls) -> dict:
    """Field name -> description from the numpydoc ``Parameters`` section of `cls` (without
    its "Default is ..." sentence and the rst quotes)."""
    import inspect

    doc = inspect.getdoc(cls) or ""
    if "Parameters\n----------\n" not in doc:
        return {}
    docs, names = {}, []
    for line in doc.split("Parameters\n----------\n", 1)[1].splitlines():
        head = re.match(r"^(\w+(?:\s*,\s*\w+)*) : ", line)
        if head:
            names = [n.strip() for n in head.group(1).split(",")]
            docs.update({n: "" for n in names})
        elif line.startswith("    ") and names:
            for n in names:
                docs[n] = (docs[n] + " " + line.strip()).strip()
        elif line.strip():
            names = []   # the next section
    return {k: re.sub(r"``?([^`]+)``?", r"\1", re.sub(r":\w+:(?=`)", "", re.sub(r"\s*Default is .*$", "", v))).strip()
            for k, v in docs.items()}


def _field_option(group, f, help_text: str, default, model: bool) -> None:
    """One option for the dataclass field `f` (its type from the annotation)."""
    flags = _SPELLINGS.get(f.name, ("--" + f.name.replace("_", "-"),))
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", None) or str(f.type)
    if kind.startswith("tuple") and not isinstance(f.type, str):
        kind = str(f.type)   # tuple[int, ...]
    kinds = [k.strip() for k in kind.split("|")]
    base = next((k for k in kinds if k != "None"), "str")
    shown = default
    if not model and default is None and f.name in _recipe_fields():
        from ..config import RECIPE_LOSS_LR, RECIPES

        shown = "the recipe's; " + ", ".join(f"{r} {RECIPES[r][f.name]}" for r in RECIPES)
        if f.name == "lr":
            shown += "".join(f"; {r} with --loss {loss}: {v}" for (r, loss), v in RECIPE_LOSS_LR.items())
    if model:
        from ..config import MODEL_DEFAULTS

        danq = MODEL_DEFAULTS["danq"].get(f.name, default)
        shown = "danq" if f.name == "kind" else f"the --model kind's; danq: {danq}"
    kw = dict(dest=f.name, help=f"{help_text.rstrip('.')} (default: {shown})".replace("%", "%%"))
    if base == "bool":
        if default is True:
            flags = tuple("--no-" + fl[2:] for fl in flags)
            kw.update(action="store_false", default=True)
        else:
            kw.update(action="store_true", default=None if model else False)
    else:
        types = {"int": _number(int), "float": _number(float), "tuple[int, ...]": _number_list(int),
                 "tuple[float, ...]": _number_list(float)}
        kw.update(type=types.get(base, str), default=None if model else default,
                  metavar=f.name.split("_")[-1].upper())
        kw.update(_EXTRA.get(f.name, {}))
    group.add_argument(*flags, **kw)


def _recipe_fields() -> set:
    """TrainConfig fields whose default comes from the ``--recipe``."""
    from ..config import RECIPES

    return set(RECIPES["default"]) - {"init"}


def _add_config_options(p, cls, title: str, model: bool) -> None:
    """An option group with one option per field of the dataclass `cls`."""
    group = p.add_argument_group(title)
    docs = _field_docs(cls)
    for f in dataclasses.fields(cls):
        if f.name in _FROM_DATA:
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        _field_option(group, f, docs.get(f.name, ""), default, model)
