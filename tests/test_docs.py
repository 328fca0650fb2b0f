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


# --- the README: short, and every command and flag it shows exists -------------------------------
import argparse  # noqa: E402
import shlex  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _subcommands(parser) -> dict:
    """Name -> parser of every subcommand (argparse keeps them in a _SubParsersAction)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser) -> set:
    return {s for action in parser._actions for s in action.option_strings}


def readme_commands(text: str) -> list:
    """Every ``motifq ...`` invocation in the README's code, as a list of words (continuations joined)."""
    code = re.findall(r"```(?:bash|sh)?\n(.*?)```", text, re.S) + re.findall(r"`([^`\n]*motifq [^`\n]*)`", text)
    out = []
    for block in code:
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0]
            for part in re.split(r"&&|;", line):
                words = shlex.split(part.replace("[", " ").replace("]", " ").replace("|", " | "), posix=False)
                if "motifq" in words:
                    out.append(words[words.index("motifq") + 1:])
    return out


def readme_problems(text: str, parser) -> list:
    problems = []
    for words in readme_commands(text):
        p = parser
        while words and words[0].startswith("-") and words[0] in _options(parser):
            words = words[1:]                                    # global options: -q, --debug
        while words and _subcommands(p) and not words[0].startswith("-"):
            if words[0] in ("COMMAND", "..."):
                break
            if words[0] not in _subcommands(p):
                problems.append(f"motifq {' '.join(words)}: no command {words[0]!r}")
                break
            p, words = _subcommands(p)[words[0]], words[1:]
        flags = {w.split("=")[0] for w in words if w.startswith("-") and len(w) > 1 and w not in ("-", "--")}
        problems += [f"motifq ... {f}: no such option" for f in sorted(flags - _options(p) - {"--help"})]
    return problems


def test_readme_is_short():
    assert len(README.read_bytes()) <= 12 * 1024


def test_readme_commands_and_flags_exist():
    from motifq.cli import build_parser

    text = README.read_text()
    assert len(readme_commands(text)) >= 15                      # the workflows and the command table
    assert not readme_problems(text, build_parser())


def test_readme_checker_finds_made_up_commands_and_flags():
    from motifq.cli import build_parser

    parser = build_parser()
    assert readme_problems("```bash\nmotifq train --data d --no-such-flag 3\n```\n", parser)
    assert readme_problems("Run `motifq frobnicate -o x`.", parser)
    assert readme_problems("```\nmotifq motifs info x \\\n    --tsv\n```\n", parser)
    assert not readme_problems("```\nmotifq -q motifs info jaspar2016 -o t.tsv  # a table\n```\n", parser)


def test_ci_runs_the_readmes_test_command():
    blocks = re.findall(r"```bash\n(.*?)\n```", README.read_text(), re.S)
    test_command = next(b for b in blocks if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_no_words_about_how_the_project_was_made():
    pages = [README, *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "benchmarks" / "results").glob("*.md"))]
    phrases = re.compile(r"this session|was lent|lent to|no GPU was available|measured here|tried and dropped"
                         r"|earlier sessions", re.IGNORECASE)
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in pages for m in phrases.finditer(p.read_text())]
    assert not found


def test_rendered_tutorials_show_every_code_cell_and_their_figures():
    """docs/tutorials/ holds each notebook executed (scripts/render_tutorials.py): every code cell is
    on its page, and every figure the page shows is there (rerun the script after editing a notebook)."""
    import nbformat

    notebooks = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for nb_path in notebooks:
        page = ROOT / "docs" / "tutorials" / f"{nb_path.stem}.md"
        assert page.is_file(), f"{page.name}: run scripts/render_tutorials.py"
        text = page.read_text()
        for cell in nbformat.read(nb_path, as_version=4).cells:
            if cell.cell_type == "code" and cell.source.strip():
                assert "```python\n" + cell.source.rstrip() + "\n```" in text, f"{page.name} is out of date"
        for name in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
            assert (page.parent / name).is_file(), name


# --- the docs site: every page in the nav, every library module in the API reference -----------
def _nav_pages(text: str) -> list:
    """Every page file named in mkdocs.yml's nav block (``- file.md`` or ``- Title: file.md``
    lines; read without a YAML library, which the test extras do not install)."""
    nav = text.split("\nnav:\n", 1)[1]
    nav = re.split(r"\n(?=\S)", nav, maxsplit=1)[0]            # up to the next top-level key
    return re.findall(r"^\s*-\s+(?:[^:\n]+:\s+)?(\S+\.md)\s*$", nav, re.M)


def test_every_docs_page_is_in_the_nav():
    listed = _nav_pages((ROOT / "mkdocs.yml").read_text())
    pages = sorted(str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md"))
    assert len(listed) >= 10, listed
    assert not [p for p in listed if not (ROOT / "docs" / p).is_file()], "nav names a missing page"
    assert not sorted(set(pages) - set(listed)), "add these pages to mkdocs.yml's nav"


def test_every_library_module_is_in_the_api_reference():
    """A ``::: motifq.<module>`` line for each public module (the command line and private modules aside)."""
    documented = set(re.findall(r"^::: (motifq[\w.]*)$", "\n".join(
        p.read_text() for p in (ROOT / "docs" / "api").glob("*.md")), re.M))
    modules = set()
    for path in (ROOT / "motifq").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) > 1 and (parts[1] == "cli" or any(p.startswith("_") for p in parts[1:])):
            continue
        modules.add(".".join(parts))
    assert not sorted(modules - documented - {"motifq"}), "add these modules to a page of docs/api/"


def test_every_package_folder_is_packaged():
    """pyproject's explicit package list names every folder of motifq with an __init__.py (a new
    subpackage left out would be missing from the wheel)."""
    block = re.search(r"^\[tool\.setuptools\]\n(?:.*\n)*?packages = \[([^\]]*)\]", (ROOT / "pyproject.toml").read_text(), re.M)
    listed = set(re.findall(r'"([\w.]+)"', block.group(1)))
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "motifq").rglob("__init__.py")}
    assert folders == listed


def test_readme_names_every_command_and_the_new_rows_are_checked():
    """The command table names every subcommand, and the rows of the genome, variant and
    interpretation commands are among the invocations the flag check reads."""
    from motifq.cli import build_parser

    text = README.read_text()
    commands = readme_commands(text)
    assert not sorted(set(_subcommands(build_parser())) - {w[0] for w in commands if w})
    shown = {(w[0], f) for w in commands if w for f in w[1:] if f.startswith("-")}
    for row in [("attribute", "--target"), ("discover", "-o"), ("scan", "--fasta"), ("grammar", "--motifs"),
                ("simulate", "--genome"), ("build-dataset", "--peaks"), ("predict", "--bed"), ("predict", "--bigwig"),
                ("score-variants", "--vcf"), ("score-variants", "--genome")]:
        assert row in shown, row
    assert ("-q", "-v") == tuple(sorted({w[0] for w in commands if w and w[0] in ("-q", "-v")}))
