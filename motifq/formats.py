"""Motif file formats: MEME minimal, JASPAR (bracketed and bare PFM). Readers and writers.

All matrices are (W, 4) in A, C, G, T order. Readers raise :class:`~motifq.errors.MotifqError`
with the file name and line number for anything malformed; writers are atomic.

MEME minimal format (as MEME's own tools read it)::

    MEME version 4
    ALPHABET= ACGT                      (or a custom ALPHABET ... END ALPHABET block)
    strands: + -
    Background letter frequencies       (optional; uniform when absent)
    A 0.25 C 0.25 G 0.25 T 0.25
    MOTIF id [alt]
    letter-probability matrix: alength= 4 w= 6 nsites= 20 E= 0   (every key optional)
    0.1 0.2 0.3 0.4                     (w rows; without w=, rows until the next non-number)
    URL https://...                     (optional)

CRLF line ends, tabs and runs of spaces are accepted. ``log-odds matrix:`` sections are skipped.
A row must sum to 1 within :data:`ROW_SUM_TOLERANCE`.

JASPAR format::

    >MA0139.2 CTCF
    A [ 281 56 8 ... ]
    C [ ... ]
    G [ ... ]
    T [ ... ]

and the bare form (four rows of counts A, C, G, T, header optional).
"""
from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np

from .errors import MotifqError, atomic_write, check, check_file
from .motif import UNIFORM, Motif

__all__ = ["read_meme", "write_meme", "read_jaspar", "write_jaspar", "read_motifs", "write_motifs",
           "parse_meme", "parse_jaspar", "format_meme", "format_jaspar", "format_for_path",
           "ROW_SUM_TOLERANCE", "FORMATS", "MAX_COUNT", "format_nsites",
           "format_motif_table", "read_matches", "MATCH_COLUMNS"]

#: How far a MEME probability row may be from summing to 1.
ROW_SUM_TOLERANCE = 0.02
FORMATS = ("meme", "jaspar")
#: Largest column total (number of sites) a JASPAR count matrix may have.
MAX_COUNT = 1e12
_FLOAT = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUM_ROW = re.compile(rf"^\s*{_FLOAT}(?:\s+{_FLOAT})*\s*$")


# ---------------------------------------------------------------------------------------------
# MEME
# ---------------------------------------------------------------------------------------------
def _to_float(tok: str, where: str) -> float:
    try:
        return float(tok)
    except ValueError:
        raise MotifqError(f"{where}: {tok!r} is not a number") from None


def _parse_key_values(text: str) -> dict:
    """``alength= 4 w= 6 nsites= 20 E= 0`` -> {"alength": "4", ...} (spaces around = optional)."""
    return {k: v for k, v in re.findall(r"(\w+)\s*=\s*(\S+)", text)}


def _parse_alphabet_block(lines, i, where):
    """Read a custom ``ALPHABET ... END ALPHABET`` block; return the index after it."""
    symbols = set()
    j = i + 1
    while j < len(lines) and not lines[j].strip().upper().startswith("END ALPHABET"):
        tok = lines[j].split()
        if tok and "=" not in tok:  # "A "Adenine" CC0000 ~ T" declares A and T; "N = ACGT" is an alias
            symbols.add(tok[0][0].upper())
            if "~" in tok[:-1]:
                symbols.add(tok[tok.index("~") + 1][0].upper())
        j += 1
    check(j < len(lines), f"{where}: ALPHABET block has no END ALPHABET")
    check(set("ACGT") <= symbols, f"{where}: alphabet is not DNA (symbols {''.join(sorted(symbols))})")
    return j + 1


def _header_int(kv: dict, key: str, where: str) -> int | None:
    """A whole-number header value (``w=``, ``alength=``), or None when absent."""
    if key not in kv:
        return None
    x = _to_float(kv[key], where)
    check(math.isfinite(x) and x >= 0 and x == int(x), f"{where}: {key}= {kv[key]} is not a whole number")
    return int(x)


def _header_nsites(kv: dict, where: str) -> float:
    """``nsites=``: a finite number >= 0; 20 when absent or 0, as MEME assumes."""
    if "nsites" not in kv:
        return 20.0
    x = _to_float(kv["nsites"], where)
    check(math.isfinite(x) and x >= 0, f"{where}: nsites= {kv['nsites']} is not a finite number >= 0")
    return x if x > 0 else 20.0


def _read_alphabet(lines, i: int, where: str) -> int:
    """``ALPHABET= ACGT`` or a custom block; return the index after it."""
    line = lines[i].strip()
    if "=" not in line:
        return _parse_alphabet_block(lines, i, where)
    alph = line.split("=", 1)[1].strip().upper()
    check(alph == "ACGT", f"{where}: alphabet {alph!r} is not DNA (ACGT)")
    return i + 1


def _read_background(lines, i: int, source: str) -> tuple[np.ndarray, int]:
    """The four letter frequencies after ``Background letter frequencies``; (A, C, G, T), next index."""
    where = f"{source}: line {i + 1}"
    toks: list[str] = []
    j = i + 1
    while j < len(lines) and len(toks) < 8 and lines[j].strip() and not lines[j].strip().startswith("MOTIF"):
        toks += lines[j].split()
        j += 1
    check(len(toks) >= 8, f"{where}: background needs 4 letter/frequency pairs")
    freqs = {toks[k].upper(): _to_float(toks[k + 1], f"{source}: line {i + 2}") for k in range(0, 8, 2)}
    check(set(freqs) == set("ACGT"), f"{where}: background letters are {sorted(freqs)}, not A C G T")
    background = np.array([freqs[b] for b in "ACGT"])
    check(np.isfinite(background).all() and (background > 0).all() and abs(background.sum() - 1) < ROW_SUM_TOLERANCE,
          f"{where}: background frequencies must be positive and sum to 1")
    return background, j


def _read_rows(lines, i: int, width: int | None, source: str) -> tuple[list, int]:
    """The probability rows after a matrix header at `i`: `width` of them, or until a blank or
    non-number line; return them and the next index."""
    rows, j = [], i + 1
    while j < len(lines):
        row = lines[j].strip()
        if width is not None and len(rows) == width:
            break
        if not row:
            if width is None and rows:
                break
            j += 1
            continue
        if not _NUM_ROW.match(row):
            break
        vals = row.split()
        check(len(vals) == 4, f"{source}: line {j + 1}: expected 4 probabilities, got {len(vals)}")
        rows.append([float(v) for v in vals])
        j += 1
    return rows, j


def _check_probabilities(rows: list, width: int | None, source: str, mid: str) -> np.ndarray:
    """(W, 4) probabilities, each row within :data:`ROW_SUM_TOLERANCE` of 1."""
    if width is not None:
        check(len(rows) == width, f"{source}: motif {mid}: w= {width} but {len(rows)} rows")
    check(len(rows) > 0, f"{source}: motif {mid}: empty matrix")
    p = np.array(rows)
    check(np.isfinite(p).all() and (p >= 0).all() and (p <= 1 + 1e-9).all(),
          f"{source}: motif {mid}: probabilities outside [0, 1]")
    sums = p.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > ROW_SUM_TOLERANCE)
    check(bad.size == 0, f"{source}: motif {mid}: row {bad[0] + 1 if bad.size else 0} sums to "
                         f"{sums[bad[0]] if bad.size else 0:.4f}, not 1")
    return p


def _read_url(lines, j: int) -> tuple[str, int]:
    """An optional ``URL`` line after the matrix (blank lines between allowed)."""
    k = j
    while k < len(lines) and not lines[k].strip():
        k += 1
    if k < len(lines) and lines[k].strip().startswith("URL"):
        return lines[k].strip()[3:].strip(), k + 1
    return "", j


def _read_matrix(lines, i: int, current, background, source: str) -> tuple[Motif, int]:
    """The motif whose ``letter-probability matrix:`` header is line `i`; the next index."""
    where = f"{source}: line {i + 1}"
    check(current is not None, f"{where}: matrix before any MOTIF line")
    line = lines[i].strip()
    kv = _parse_key_values(line.split(":", 1)[1] if ":" in line else "")
    alength = _header_int(kv, "alength", where)
    check(alength in (None, 4), f"{where}: alength= {alength}, expected 4 (DNA)")
    width = _header_int(kv, "w", where)
    nsites = _header_nsites(kv, where)
    mid = current[0]
    rows, j = _read_rows(lines, i, width, source)
    p = _check_probabilities(rows, width, source, mid)
    url, j = _read_url(lines, j)
    motif = Motif(id=mid, name=current[1], counts=p * nsites, nsites=nsites, background=background,
                  source=source, url=url, evalue=kv.get("E", ""))
    return motif, j


def parse_meme(text: str, source: str = "<text>") -> list[Motif]:
    """Parse MEME minimal-format text.

    Header values are checked: ``alength=`` must be 4, ``w=`` a whole number that matches the
    rows, ``nsites=`` a finite number >= 0 (NaN and infinities are errors).

    Parameters
    ----------
    text : str
    source : str
        Name used in error messages and stored as ``Motif.source``. Default is ``"<text>"``.

    Returns
    -------
    list of Motif
        Counts are ``p * nsites`` (nsites 20 when the file gives none, as MEME assumes).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    check(any(l.strip().startswith("MEME version") for l in lines[:50]),
          f"{source}: not a MEME file (no 'MEME version' line)")
    background = UNIFORM.copy()
    motifs: list[Motif] = []
    i, current = 0, None  # current: (id, alt) of the last MOTIF line
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("ALPHABET"):
            i = _read_alphabet(lines, i, f"{source}: line {i + 1}")
        elif line.startswith("Background letter frequencies"):
            background, i = _read_background(lines, i, source)
        elif line.startswith("MOTIF"):
            parts = line.split()
            check(len(parts) >= 2, f"{source}: line {i + 1}: MOTIF line has no identifier")
            current, i = (parts[1], " ".join(parts[2:])), i + 1
        elif line.startswith("letter-probability matrix"):
            motif, i = _read_matrix(lines, i, current, background, source)
            check(all(m.id != motif.id for m in motifs), f"{source}: motif {motif.id} appears twice")
            motifs.append(motif)
            current = None
        else:
            i += 1
    check(len(motifs) > 0, f"{source}: no motifs (no letter-probability matrix)")
    return motifs


def format_nsites(x: float) -> str:
    """``nsites=`` as every MEME reader takes it: the nearest whole number, at least 1.

    MEME's tools, Biopython (``motifs.parse(..., "minimal")``) and memelite read a whole
    number; a column total such as 1000.0007 (JASPAR counts rounded by their authors) is
    written 1000.

    Parameters
    ----------
    x : float
        The motif's number of sites (finite, >= 0).

    Returns
    -------
    str
    """
    check(math.isfinite(x), f"nsites: must be a finite number, got {x!r}")
    return str(max(1, int(round(x))))


def _format_evalue(e) -> str:
    """``E=`` as a number every reader parses (0 when unknown)."""
    try:
        value = float(e)
    except (TypeError, ValueError):
        return "0"
    return str(e).strip() if math.isfinite(value) and value >= 0 else "0"


def _probability_rows(m: Motif) -> np.ndarray:
    """(W, 4) probabilities to print for MEME: counts / nsites when every column totals nsites
    (a motif read from a probability file: printing it again gives the same digits), else
    counts / column total."""
    totals = m.counts.sum(axis=1)
    if np.allclose(totals, m.nsites, rtol=1e-4, atol=0):
        return m.counts / m.nsites
    return m.counts / totals[:, None]


def format_meme(motifs, background=None, version: int = 4) -> str:
    """MEME minimal-format text for `motifs`.

    Parameters
    ----------
    motifs : sequence of Motif
    background : (4,) array or None
        Letter frequencies to declare (A, C, G, T). Default is None: the first motif's.
    version : int
        Default is 4.

    Returns
    -------
    str
    """
    motifs = list(motifs)
    bg = motifs[0].background if background is None and motifs else (UNIFORM if background is None else np.asarray(background))
    out = io.StringIO()
    out.write(f"MEME version {version}\n\nALPHABET= ACGT\n\nstrands: + -\n\n")
    out.write("Background letter frequencies\n")
    out.write(" ".join(f"{b} {f:.6f}" for b, f in zip("ACGT", bg)) + "\n\n")
    for m in motifs:
        out.write(f"MOTIF {m.id}" + (f" {m.name}" if m.name else "") + "\n")
        out.write(f"letter-probability matrix: alength= 4 w= {m.width} nsites= {format_nsites(m.nsites)} "
                  f"E= {_format_evalue(m.evalue)}\n")
        for row in _probability_rows(m):
            out.write(" ".join(f"{v:.6f}" for v in row) + "\n")
        if m.url:
            out.write(f"\nURL {m.url}\n")
        out.write("\n")
    return out.getvalue()


def _read_text(path) -> tuple[str, str]:
    p = check_file(path)
    try:
        return p.read_text(encoding="utf-8"), str(p)
    except UnicodeDecodeError:
        raise MotifqError(f"{p}: not a text file") from None


def read_meme(path) -> list[Motif]:
    """Read a MEME minimal-format file. See :func:`parse_meme`."""
    text, name = _read_text(path)
    return parse_meme(text, source=name)


def write_meme(path, motifs, background=None) -> None:
    """Write `motifs` to a MEME file atomically. See :func:`format_meme`."""
    motifs = list(motifs)
    check(len(motifs) > 0, f"{path}: no motifs to write")
    with atomic_write(path) as fh:
        fh.write(format_meme(motifs, background))


# ---------------------------------------------------------------------------------------------
# JASPAR
# ---------------------------------------------------------------------------------------------
_JASPAR_ROW = re.compile(r"^\s*([ACGTacgt])\s*[\[|:]?\s*(.*?)\s*\]?\s*$")


def parse_jaspar(text: str, source: str = "<text>") -> list[Motif]:
    """Parse JASPAR-format text: ``>ID name`` headers, each followed by four count rows
    (``A [ 1 2 3 ]`` or bare numbers in A, C, G, T order). A file with no header holds one
    motif named after `source`.

    Parameters
    ----------
    text : str
    source : str
        Default is ``"<text>"``.

    Returns
    -------
    list of Motif
        Counts as written (column totals may differ).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    records: list[tuple[str, str, int, list[tuple[int, str]]]] = []
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(">"):
            parts = line[1:].split(None, 1)
            check(len(parts) >= 1, f"{source}: line {i + 1}: header has no identifier")
            records.append((parts[0], parts[1].strip() if len(parts) > 1 else "", i + 1, []))
        else:
            if not records:
                records.append((Path(source).stem, "", i + 1, []))
            records[-1][3].append((i + 1, line))
    check(len(records) > 0, f"{source}: no motifs")
    motifs = []
    seen = set()
    for mid, name, lineno, rows in records:
        check(len(rows) == 4, f"{source}: motif {mid} (line {lineno}): expected 4 rows (A, C, G, T), got {len(rows)}")
        mat = {}
        for k, (ln, row) in enumerate(rows):
            m = _JASPAR_ROW.match(row)
            if m and not row[0].isdigit():
                letter, body = m.group(1).upper(), m.group(2)
            else:
                letter, body = "ACGT"[k], row
            check(letter not in mat, f"{source}: line {ln}: row {letter} appears twice in motif {mid}")
            vals = body.replace("[", " ").replace("]", " ").split()
            mat[letter] = [_to_float(v, f"{source}: line {ln}") for v in vals]
        check(set(mat) == set("ACGT"), f"{source}: motif {mid}: rows must be A, C, G, T")
        widths = {len(v) for v in mat.values()}
        check(len(widths) == 1, f"{source}: motif {mid}: rows have different lengths {sorted(widths)}")
        check(widths.pop() > 0, f"{source}: motif {mid}: empty rows")
        counts = np.array([mat[b] for b in "ACGT"]).T
        check((counts >= 0).all() and np.isfinite(counts).all(), f"{source}: motif {mid}: negative or non-finite count")
        with np.errstate(over="ignore"):
            totals = counts.sum(axis=1)
        check(np.isfinite(totals).all() and totals.max() <= MAX_COUNT,
              f"{source}: motif {mid}: a column totals more than {MAX_COUNT:g} sites")
        check((counts.sum(axis=1) > 0).all(), f"{source}: motif {mid}: a column sums to 0")
        check(mid not in seen, f"{source}: motif {mid} appears twice")
        seen.add(mid)
        motifs.append(Motif(id=mid, name=name, counts=counts, source=source))
    return motifs


def _fmt_count(x: float) -> str:
    return str(int(round(x))) if abs(x - round(x)) < 1e-9 else np.format_float_positional(round(float(x), 6), trim="-")


def format_jaspar(motifs) -> str:
    """JASPAR-format text (``>ID name`` and ``A [ counts ]`` rows) for `motifs`."""
    out = io.StringIO()
    for m in motifs:
        out.write(f">{m.id}" + (f"\t{m.name}" if m.name else "") + "\n")
        cells = [[_fmt_count(v) for v in m.counts[:, j]] for j in range(4)]
        pad = max(len(c) for row in cells for c in row)
        for b, row in zip("ACGT", cells):
            out.write(f"{b}  [ " + " ".join(c.rjust(pad) for c in row) + " ]\n")
    return out.getvalue()


def read_jaspar(path) -> list[Motif]:
    """Read a JASPAR-format (or bare PFM) file. See :func:`parse_jaspar`."""
    text, name = _read_text(path)
    return parse_jaspar(text, source=name)


def write_jaspar(path, motifs) -> None:
    """Write `motifs` to a JASPAR-format file atomically."""
    motifs = list(motifs)
    check(len(motifs) > 0, f"{path}: no motifs to write")
    with atomic_write(path) as fh:
        fh.write(format_jaspar(motifs))


# ---------------------------------------------------------------------------------------------
# Either
# ---------------------------------------------------------------------------------------------
def read_motifs(path) -> list[Motif]:
    """Read a motif file, MEME or JASPAR, told apart by content (a ``MEME version`` line).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    list of Motif
    """
    text, name = _read_text(path)
    check(text.strip() != "", f"{name}: empty file")
    if re.search(r"^\s*MEME version", text[:5000], flags=re.M):
        return parse_meme(text, source=name)
    return parse_jaspar(text, source=name)


def format_for_path(path, fmt: str | None = None) -> str:
    """The output format for `path`: `fmt` if given, else ``jaspar`` for names ending in
    ``.jaspar`` or ``.pfm`` and ``meme`` otherwise."""
    if fmt is not None:
        check(fmt in FORMATS, f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
        return fmt
    return "jaspar" if Path(path).suffix.lower() in (".jaspar", ".pfm") else "meme"


def write_motifs(path, motifs, fmt: str | None = None) -> None:
    """Write motifs in `fmt` (``meme`` or ``jaspar``; default from the file ending, see
    :func:`format_for_path`)."""
    if format_for_path(path, fmt) == "jaspar":
        write_jaspar(path, motifs)
    else:
        write_meme(path, motifs)


# ---------------------------------------------------------------------------------------------
# Tables: motif summaries, Tomtom-style matches
# ---------------------------------------------------------------------------------------------
#: Columns a matches table needs (Tomtom's ``-text`` names; ``motifq compare`` writes them all).
MATCH_COLUMNS = ("Query_ID", "Target_ID", "Optimal_offset", "p-value", "E-value", "Orientation")
_MATCH_TYPES = {"Optimal_offset": int, "Overlap": int, "p-value": float, "E-value": float, "q-value": float}


def format_motif_table(motifs) -> str:
    """A TSV summary of `motifs`: id, name, width, nsites (as written to MEME files, see
    :func:`format_nsites`), total information content (bits, 3 decimals) and consensus.

    Parameters
    ----------
    motifs : sequence of Motif

    Returns
    -------
    str
        Header line and one line per motif.
    """
    lines = ["id\tname\twidth\tnsites\ttotal_ic\tconsensus"]
    for m in motifs:
        ic = round(float(m.information_content().sum()), 3)
        lines.append(f"{m.id}\t{m.name}\t{m.width}\t{format_nsites(m.nsites)}\t{ic}\t{m.consensus()}")
    return "\n".join(lines) + "\n"


def _match_value(cell: str, column: str, where: str):
    kind = _MATCH_TYPES.get(column)
    if column == "Orientation":
        check(cell in ("+", "-"), f"{where}: Orientation {cell!r} is not + or -")
        return cell
    if kind is None:
        return cell
    try:
        value = kind(cell)
    except ValueError:
        raise MotifqError(f"{where}: {column} {cell!r} is not {'an integer' if kind is int else 'a number'}") from None
    check(kind is int or (math.isfinite(value) and value >= 0), f"{where}: {column} {cell!r} is not a number >= 0")
    return value


def read_matches(path) -> tuple[list[dict], str | None]:
    """Read a Tomtom-style matches table (``motifq compare -o``, ``extract-motifs --match``,
    MEME's ``tomtom -text``).

    Tab-separated with a header row; lines starting with ``#`` are comments, and a
    ``# database: NAME`` comment names the target motifs' database. Columns
    :data:`MATCH_COLUMNS` are required; ``Optimal_offset`` and ``Overlap`` must be integers,
    p-, E- and q-values finite numbers >= 0, ``Orientation`` ``+`` or ``-``.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    rows : list of dict
        One dict per row, column name -> value (typed as above, other columns as strings).
    database : str or None
        The ``# database:`` name, if any.
    """
    text, name = _read_text(path)
    check("\x00" not in text, f"{name}: not a text file")
    rows, header, database = [], None, None
    for lineno, raw in enumerate(text.splitlines(), 1):
        if raw.startswith("#"):
            if raw.startswith("# database:"):
                database = raw.split(":", 1)[1].strip() or None
            continue
        if not raw.strip():
            continue
        fields = raw.split("\t")
        if header is None:
            header = [f.strip() for f in fields]
            missing = [c for c in MATCH_COLUMNS if c not in header]
            check(not missing, f"{name}: not a matches table (missing columns {', '.join(missing)})")
            continue
        where = f"{name}: line {lineno}"
        check(len(fields) == len(header), f"{where}: {len(fields)} fields, the header has {len(header)}")
        rows.append({c: _match_value(f.strip(), c, where) for c, f in zip(header, fields)})
    check(header is not None, f"{name}: empty matches table")
    return rows, database
