"""Execute the tutorial notebooks and write them, with their outputs, as documentation pages.

    PYTHONPATH=. python scripts/render_tutorials.py

For each ``tutorials/NN_*.ipynb`` writes ``docs/tutorials/NN_*.md`` (markdown cells as they are,
code cells as Python blocks, text output as text blocks, tables as HTML, figures as PNG files
beside the page) so that the logos and curves are visible in the documentation without running
anything. The notebooks themselves stay committed without outputs; the test suite executes them
(tests/test_tutorials.py) and checks that every code cell appears in its page
(tests/test_docs.py), so rerun this script after editing a notebook.
"""
from __future__ import annotations

import base64
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from motifq.errors import atomic_write  # noqa: E402

OUT = ROOT / "docs" / "tutorials"
MAX_TEXT_LINES = 40
_TEMP_FOLDER = re.compile(r"/[^\s<>\"']*?/motifq-tutorial-[A-Za-z0-9_]+")


def execute(path: Path):
    """The notebook at `path`, executed in a temporary folder by a python3 kernel."""
    import nbformat
    from nbclient import NotebookClient

    os.environ.update(PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
                      OMP_NUM_THREADS="1")
    os.environ.pop("MPLBACKEND", None)          # the kernel's inline backend: figures become PNG outputs
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TMPDIR"] = tmp
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp}}).execute()
    return nb


def _text_block(text: str) -> str:
    lines = text.rstrip("\n").splitlines()
    if len(lines) > MAX_TEXT_LINES:
        lines = lines[:MAX_TEXT_LINES] + [f"... ({len(lines) - MAX_TEXT_LINES} more lines)"]
    return "```text\n" + "\n".join(lines) + "\n```\n"


def _output(out, stem: str, figures: list) -> str:
    """Markdown for one cell output; figures are appended to `figures` as (file name, PNG bytes)."""
    kind = out.get("output_type")
    if kind == "stream":
        return _text_block(out["text"]) if out.get("name") == "stdout" and out["text"].strip() else ""
    if kind not in ("execute_result", "display_data"):
        return ""
    data = out.get("data", {})
    if "image/png" in data:
        name = f"{stem}_{len(figures) + 1}.png"
        figures.append((name, base64.b64decode(data["image/png"])))
        return f"![figure {len(figures)}]({name})\n"
    if "text/html" in data:
        html = re.sub(r"<style.*?</style>", "", data["text/html"], flags=re.S).strip()
        return f'<div class="notebook-output" markdown="0">\n{html}\n</div>\n'
    if "text/plain" in data:
        return _text_block(data["text/plain"])
    return ""


def render(nb, stem: str) -> tuple[str, list]:
    """(the page's markdown, its figures as (file name, PNG bytes)) for an executed notebook."""
    parts, figures = [], []
    for cell in nb.cells:
        if cell.cell_type == "markdown":       # links to the other notebooks go to their pages
            parts.append(re.sub(r"\]\((\d\d_[\w-]+)\.ipynb\)", r"](\1.md)", cell.source.strip()) + "\n")
        elif cell.cell_type == "code" and cell.source.strip():
            parts.append("```python\n" + cell.source.rstrip() + "\n```\n")
            parts.extend(filter(None, (_output(o, stem, figures) for o in cell.get("outputs", []))))
    note = (f"*Rendered from `tutorials/{stem}.ipynb`, which the test suite executes. Sizes are tiny, "
            "so the numbers show the API, not what the method can do.*\n")
    page = _TEMP_FOLDER.sub("work", "\n".join(parts))   # the notebook's temporary folder, whatever it was
    first, _, rest = page.partition("\n")          # the notebook's title, then the note
    return f"{first}\n\n{note}{rest}", figures


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("[0-9][0-9]_*"):
        old.unlink()
    for path in sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.ipynb")):
        print(f"{path.name}: executing", file=sys.stderr)
        page, figures = render(execute(path), path.stem)
        for name, png in figures:
            with atomic_write(OUT / name, mode="wb") as fh:
                fh.write(png)
        with atomic_write(OUT / f"{path.stem}.md") as fh:
            fh.write(page)
        print(f"  docs/tutorials/{path.stem}.md, {len(figures)} figures", file=sys.stderr)


if __name__ == "__main__":
    main()
