"""Documented defaults ("Default is X.") must match the signatures."""
import importlib
import inspect
import pkgutil
import re

import motifq

_DEFAULT = re.compile(r"^\s{4}(\w+) : [^\n]*\n((?:\s{8}.*\n)*?)(?=\s{4}\w+ :|\s*$|\s{4}\S)", re.M)


def _modules():
    for info in pkgutil.walk_packages(motifq.__path__, "motifq."):
        if info.name.endswith("__main__"):
            continue
        yield importlib.import_module(info.name)


def test_documented_defaults_match_signatures():
    problems = []
    for mod in _modules():
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if fn.__module__ != mod.__name__ or not fn.__doc__:
                continue
            params = inspect.signature(fn).parameters
            doc = inspect.cleandoc(fn.__doc__) + "\n"
            for m in re.finditer(r"^(\w+) : [^\n]*\n((?:    .*\n)*)", doc, re.M):
                pname, body = m.group(1), m.group(2)
                d = re.search(r"Default is (.+?)\.(?:\s|$)", " ".join(body.split()))
                if not d or pname not in params:
                    continue
                actual = params[pname].default
                text = d.group(1).split(":")[0].split(" (")[0].strip().strip("`")
                if actual is inspect.Parameter.empty:
                    problems.append(f"{mod.__name__}.{name}: {pname} documented default {text} but has none")
                    continue
                if text.strip("'\"") not in (str(actual), repr(actual), getattr(actual, "__name__", None)):
                    problems.append(f"{mod.__name__}.{name}: {pname} documented {text!r}, signature {actual!r}")
    assert not problems, "\n".join(problems)
