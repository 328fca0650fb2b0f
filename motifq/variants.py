"""Variant effects: a VCF and an indexed genome -> reference and alternative windows -> the
model's predictions for both -> per-target effects, with an optional motif annotation.

Coordinates
-----------
VCF ``POS`` is **1-based**: the REF allele of a record at ``POS`` occupies the 0-based half-open
genome interval ``[POS - 1, POS - 1 + len(REF))`` (what ``pysam.VariantRecord.start`` and
``.stop`` hold). Output tables keep the VCF's 1-based ``pos``. BED (genome tracks,
:mod:`motifq.tracks`) is 0-based half-open.

Windows (DeepSEA's convention)
------------------------------
With ``L`` the model's input length and ``h = L // 2``, a record at 0-based start ``s`` with
REF of length ``r`` and ALT of length ``a`` (anchor bases included, as written in the VCF):

* **reference window**: the ``L`` genome bases ``[s - (h - 1), s - (h - 1) + L)``: REF's first
  base at window index ``h - 1`` (for ``L = 1000``, the 500th base), with the VCF's REF written
  over ``[h - 1, h - 1 + r)`` (it equals the genome unless REF mismatches and
  ``ignore_ref_mismatch`` is set);
* **alternative window**: the genome left of ``s``, then ALT, then the genome from ``s + r`` on,
  ``L`` bases in all, with ALT's first base at index ``h - 1 - floor((a - r) / 2)``. An SNV sits
  at index ``h - 1`` of both windows, which then differ in that base only; an insertion pushes
  equal amounts of flank out of both ends of the window, a deletion pulls equal amounts in.

This is what the DeepSEA authors' variant code does (``fetchSeqs`` and ``encodeSeqs`` of their
ExPecto/Beluga release: REF placed at ``inputsize / 2 - 1`` of a sequence 100 bp longer than the
input, ALT substituted there, and the central ``inputsize`` bases kept), written directly for
the window (the central crop of their longer sequence is the same bases). A REF or ALT longer
than about half the window is cut at the window's right end.

Windows reaching past a chromosome end are padded with ``N`` (the one-hot column
[0.25, 0.25, 0.25, 0.25]). Alleles of ``L`` bases or more, symbolic alleles (``<DEL>``,
breakends, ``*``) and records without ALT are listed but not scored (``status``).

Predictions are the mean of the forward and reverse-complement probabilities
(:func:`motifq.models.predict`); per target ``diff = p_alt - p_ref`` and
``logit_diff = logit(p_alt) - logit(p_ref)``, with ``p`` clipped to ``[1e-6, 1 - 1e-6]``.

Annotation
----------
:func:`make_annotator` prepares, and :func:`annotate_windows` computes, for every scored allele
which known motif's best log-odds site score changes most and which of the model's first-layer
kernels changes its largest activation most, counting only the sites (kernel-wide windows) that
overlap the allele, on both strands. Known motifs are scored as FIMO does,
``log2(p / background)`` with a pseudocount of 0.1 spread by the background; only motifs whose
best site there reaches a relative score ``(score - min) / (max - min)`` of
:data:`SITE_RELATIVE_SCORE` (0.8, Biostrings' and TFBSTools' default) in the reference or the
alternative are ranked, when any does (a change deep in the negative scores is not a site
gained or lost). A kernel's activation is its ReLU output, ``max(0, conv + bias)``. This small
scanner is private to this module.
"""
from __future__ import annotations

import contextlib
import gzip
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .data.genome import open_genome
from .errors import MotifqError, atomic_path, atomic_write, check, check_file
from .sequence import N_TOKEN, tokenize

__all__ = [
    "LOGIT_CLIP",
    "SITE_RELATIVE_SCORE",
    "STATUSES",
    "Allele",
    "Annotator",
    "Windows",
    "allele_windows",
    "annotate_windows",
    "check_vcf",
    "effect_table",
    "long_table",
    "make_annotator",
    "predict_pairs",
    "read_records",
    "resolve_targets",
    "score_vcf",
    "split_alleles",
]

#: ``status`` values: scored, REF differs from the genome, symbolic or missing ALT, allele >= window.
STATUSES = ("scored", "ref_mismatch", "symbolic", "too_long")
#: A best site counts as a motif site when its relative score (score - min) / (max - min) reaches
#: this in the reference or the alternative window (Biostrings' matchPWM and TFBSTools use 80 %).
SITE_RELATIVE_SCORE = 0.8
#: Probabilities are clipped to [LOGIT_CLIP, 1 - LOGIT_CLIP] before the logit.
LOGIT_CLIP = 1e-6
_ACGTN = re.compile(r"^[ACGTNacgtn]+$")


class Allele(NamedTuple):
    """One VCF record and one of its ALT alleles (a multi-allelic record gives one per ALT).

    ``pos`` is the VCF's 1-based POS; ``start = pos - 1`` is the 0-based start of REF.
    ``alt_index`` is 1 for the first ALT. ``line`` is the record's line in a text VCF (its
    1-based record number in a BCF).
    """

    chrom: str
    pos: int
    id: str
    ref: str
    alt: str
    alt_index: int
    line: int

    @property
    def start(self) -> int:
        """0-based start of REF on the chromosome (``pos - 1``)."""
        return self.pos - 1


class Windows(NamedTuple):
    """The model inputs of a list of alleles.

    ``ref``, ``alt``: (B, L) uint8 tokens, 0..3 = A, C, G, T, 4 = N; ``ref_match``: (B,) bool;
    ``status``: (B,) str (:data:`STATUSES`); ``ref_span``, ``alt_span``: (B, 2) int64 window
    indices ``[start, end)`` of the REF and ALT allele in their windows (zeros when unscored).
    """

    ref: np.ndarray
    alt: np.ndarray
    ref_match: np.ndarray
    status: np.ndarray
    ref_span: np.ndarray
    alt_span: np.ndarray


# ---------------------------------------------------------------------------------------------
# genome and VCF reading
# ---------------------------------------------------------------------------------------------
def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _fetch(fasta, chrom: str, start: int, end: int, size: int) -> str:
    """Genome bases [start, end) of `chrom`, upper-cased, with N outside [0, size)."""
    left, right = max(0, -start), max(0, end - size)
    seq = fasta.fetch(chrom, max(0, start), min(size, end)) if min(size, end) > max(0, start) else ""
    return "N" * left + seq.upper() + "N" * right


def _header_lines(path: Path) -> int | None:
    """Number of header lines of a text VCF (plain or gzip); None for BCF."""
    opener = gzip.open if _is_gzip(path) else open
    n = 0
    try:
        with opener(path, "rb") as fh:
            for raw in fh:
                if not raw.startswith(b"#"):
                    break
                n += 1
    except (OSError, EOFError):
        return None  # BCF (BGZF-compressed binary) or unreadable: counted as records instead
    return n


def read_records(path, chunk_size: int = 4096):
    """Stream a VCF/BCF (plain or gzip) in chunks of records with :class:`pysam.VariantFile`.

    Parameters
    ----------
    path : str or os.PathLike
        ``.vcf``, ``.vcf.gz`` or ``.bcf``.
    chunk_size : int
        Records per chunk. Default is 4096.

    Yields
    ------
    list of (int, pysam.VariantRecord)
        Each record with its line number (1-based; the record number in a BCF).
    """
    import pysam

    p = check_file(path)
    pysam.set_verbosity(0)
    offset = _header_lines(p) if not str(p).endswith(".bcf") else None
    with _readable(p) as src:
        yield from _record_chunks(pysam, p, src, offset, chunk_size)


def _is_plain_gzip(path: Path) -> bool:
    """gzip but not BGZF (bgzip's blocks carry a 'BC' extra field; htslib cannot seek plain gzip)."""
    with open(path, "rb") as fh:
        head = fh.read(14)
    return head[:2] == b"\x1f\x8b" and not (head[3] & 4 and head[12:14] == b"BC")


@contextlib.contextmanager
def _readable(path: Path):
    """`path`, or a temporary plain copy of a plain-gzip file (htslib reads only bgzip)."""
    if not _is_plain_gzip(path):
        yield path
        return
    import shutil
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".vcf") as tmp:
        try:
            with gzip.open(path, "rb") as src:
                shutil.copyfileobj(src, tmp)
        except (OSError, EOFError) as exc:
            raise MotifqError(f"{path}: cannot be decompressed ({exc})") from None
        tmp.flush()
        yield Path(tmp.name)


def _record_chunks(pysam, p: Path, src: Path, offset, chunk_size: int):
    try:
        vf = pysam.VariantFile(str(src))
    except (OSError, ValueError) as exc:
        raise MotifqError(f"{p}: not a VCF or BCF file ({exc})") from None
    chunk, n = [], 0
    with vf:
        it = iter(vf)
        while True:
            where = f"line {(offset or 0) + n + 1}" if offset is not None else f"record {n + 1}"
            try:
                rec = next(it)
            except StopIteration:
                break
            except (OSError, ValueError) as exc:
                raise MotifqError(f"{p}: {where}: cannot be parsed as a VCF record ({exc})") from None
            n += 1
            chunk.append(((offset or 0) + n, rec))
            if len(chunk) == chunk_size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def split_alleles(records) -> list:
    """One :class:`Allele` per ALT of every record (a record without ALT gives one, ALT ``.``).

    Parameters
    ----------
    records : list of (int, pysam.VariantRecord)
        From :func:`read_records`.

    Returns
    -------
    list of Allele
    """
    out = []
    for line, rec in records:
        alts = rec.alts or (".",)
        for i, alt in enumerate(alts, start=1):
            out.append(Allele(rec.chrom, rec.pos, rec.id or ".", rec.ref, alt, i, line))
    return out


def check_vcf(vcf, fasta, length: int, require_sorted: bool = False) -> dict:
    """Check every record against the genome before any scoring; count records and alleles.

    Raises :class:`MotifqError` naming the file and line for a chromosome absent from the
    genome, a chromosome shorter than the window, REF reaching past the chromosome end, REF
    with N (or any base other than A, C, G, T), and (with `require_sorted`) records out of
    order.

    Parameters
    ----------
    vcf : str or os.PathLike
        The VCF/BCF.
    fasta : pysam.FastaFile
        From :func:`motifq.data.genome.open_genome`.
    length : int
        The window (the model's input length).
    require_sorted : bool
        Records must be sorted by chromosome blocks and position (a tabix index needs it).
        Default is False.

    Returns
    -------
    dict
        ``records`` and ``alleles`` (ALTs, at least one per record).
    """
    sizes = dict(zip(fasta.references, fasta.lengths))
    records = alleles = 0
    done, last = set(), (None, 0)
    unit = "record" if str(vcf).endswith(".bcf") else "line"
    for chunk in read_records(vcf, chunk_size=65536):
        for line, rec in chunk:
            where = f"{vcf}: {unit} {line}"
            check(rec.chrom in sizes, f"{where}: chromosome {rec.chrom!r} is not in the genome")
            size = sizes[rec.chrom]
            check(length <= size, f"{where}: the {length}-bp window is larger than chromosome "
                                  f"{rec.chrom} ({size} bp)")
            check(1 <= rec.pos and rec.stop <= size,
                  f"{where}: {rec.chrom}:{rec.pos} REF {rec.ref} reaches past the chromosome end ({size} bp)")
            check(re.fullmatch(r"[ACGTacgt]+", rec.ref or "") is not None,
                  f"{where}: REF {rec.ref!r} has a base other than A, C, G, T (N or ambiguity codes)")
            if require_sorted:
                check(rec.chrom == last[0] or rec.chrom not in done,
                      f"{where}: records are not sorted (chromosome {rec.chrom} seen before); sort the VCF")
                check(rec.chrom != last[0] or rec.pos >= last[1],
                      f"{where}: records are not sorted ({rec.chrom}:{rec.pos} after {last[1]}); sort the VCF")
                done.add(rec.chrom)
                last = (rec.chrom, rec.pos)
            records += 1
            alleles += len(rec.alts or (".",))
    return {"records": records, "alleles": alleles}


# ---------------------------------------------------------------------------------------------
# windows
# ---------------------------------------------------------------------------------------------
def _allele_status(allele: Allele, genome_ref: str, length: int, ignore_ref_mismatch: bool) -> str:
    if allele.alt in (".", "*") or _ACGTN.match(allele.alt) is None:
        return "symbolic"
    if max(len(allele.ref), len(allele.alt)) >= length:
        return "too_long"
    if genome_ref != allele.ref.upper() and not ignore_ref_mismatch:
        return "ref_mismatch"
    return "scored"


def _allele_start(length: int, r: int, a: int) -> int:
    """Window index of an allele's first base: ``L // 2 - 1 - floor((a - r) / 2)``."""
    return length // 2 - 1 - (a - r) // 2


def _pair(fasta, allele: Allele, size: int, length: int) -> tuple[str, str, str]:
    """(genome REF bases, reference window, alternative window) as strings of `length` bases."""
    s, r, a = allele.start, len(allele.ref), len(allele.alt)
    ref_left = _allele_start(length, r, r)
    alt_left = _allele_start(length, r, a)
    lo = s - max(ref_left, alt_left)
    hi = s + r + length
    seq = _fetch(fasta, allele.chrom, lo, hi, size)
    k = s - lo                                     # REF's start in `seq`
    genome_ref = seq[k:k + r]
    ref_win = (seq[k - ref_left:k] + allele.ref.upper() + seq[k + r:])[:length]
    alt_win = (seq[k - alt_left:k] + allele.alt.upper() + seq[k + r:])[:length]
    return genome_ref, ref_win, alt_win


def allele_windows(fasta, alleles, length: int, ignore_ref_mismatch: bool = False) -> Windows:
    """The reference and alternative model inputs of every allele (see the module docstring).

    Parameters
    ----------
    fasta : pysam.FastaFile
        From :func:`motifq.data.genome.open_genome`; the alleles' chromosomes must be in it (see :func:`check_vcf`).
    alleles : list of Allele
        From :func:`split_alleles`.
    length : int
        Window length ``L`` (the model's input length).
    ignore_ref_mismatch : bool
        Score alleles whose REF differs from the genome (the VCF's REF goes into the reference
        window). Default is False: their status is ``ref_mismatch`` and they are not scored.

    Returns
    -------
    Windows
        (B, L) uint8 reference and alternative tokens (A, C, G, T = 0..3, N = 4; rows of an
        unscored allele are all N), REF-equals-genome flags, statuses and allele spans.
    """
    sizes = dict(zip(fasta.references, fasta.lengths))
    B = len(alleles)
    ref = np.full((B, length), N_TOKEN, dtype=np.uint8)
    alt = np.full((B, length), N_TOKEN, dtype=np.uint8)
    match = np.zeros(B, dtype=bool)
    status = np.empty(B, dtype=object)
    ref_span = np.zeros((B, 2), dtype=np.int64)
    alt_span = np.zeros((B, 2), dtype=np.int64)
    h = length // 2
    for i, al in enumerate(alleles):
        genome_ref, ref_win, alt_win = _pair(fasta, al, sizes[al.chrom], length)
        match[i] = genome_ref == al.ref.upper()
        status[i] = _allele_status(al, genome_ref, length, ignore_ref_mismatch)
        if status[i] != "scored":
            continue
        ref[i] = tokenize(ref_win, f"{al.chrom}:{al.pos}")
        alt[i] = tokenize(alt_win, f"{al.chrom}:{al.pos}")
        r, a = len(al.ref), len(al.alt)
        ref_span[i] = (h - 1, min(length, h - 1 + r))
        start = _allele_start(length, r, a)
        alt_span[i] = (start, min(length, start + a))
    return Windows(ref, alt, match, status, ref_span, alt_span)


# ---------------------------------------------------------------------------------------------
# prediction and effects
# ---------------------------------------------------------------------------------------------
def predict_pairs(model, ref, alt, batch_size: int = 256, device=None) -> tuple[np.ndarray, np.ndarray]:
    """Forward + reverse-complement mean probabilities of reference and alternative windows.

    Both go through :func:`motifq.models.predict` together, `batch_size` windows per pass.

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model taking (N, 4, L) one-hot A, C, G, T and returning (N, T) logits.
    ref, alt : (B, L) uint8 arrays
        Tokens, A, C, G, T = 0..3, N = 4.
    batch_size : int
        Windows per forward pass. Default is 256.
    device : str or torch.device or None
        Default is None: the model's device.

    Returns
    -------
    p_ref, p_alt : (B, T) float32 arrays
    """
    from .models import predict

    B = len(ref)
    probs = predict(model, np.concatenate([ref, alt]), batch_size=batch_size, rc=True, device=device)
    return probs[:B], probs[B:]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p.astype(np.float64), LOGIT_CLIP, 1 - LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


def resolve_targets(names, all_targets) -> list:
    """0-based indices of the chosen targets.

    Parameters
    ----------
    names : str or list of str or None
        Target names or 0-based indices, comma-separated in a string. Default (None): all.
    all_targets : list of str
        The model's target names, in output order.

    Returns
    -------
    list of int
    """
    if names is None:
        return list(range(len(all_targets)))
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    index = {t: i for i, t in enumerate(all_targets)}
    out = []
    for n in names:
        i = index.get(n)
        if i is None and str(n).isdigit() and int(n) < len(all_targets):
            i = int(n)
        check(i is not None, f"targets: no target {n!r} in the model ({len(all_targets)} targets)")
        out.append(i)
    check(len(out) > 0, "targets: no target named")
    return out


def effect_table(alleles, windows: Windows, p_ref, p_alt, targets):
    """The wide effect table: one row per allele, four columns per target.

    Columns: ``chrom``, ``pos`` (1-based VCF POS), ``id``, ``ref``, ``alt``, ``alt_index``,
    ``ref_match``, ``status``, ``max_target`` and ``max_logit_diff`` (the target with the largest
    ``|logit_diff|`` and its signed value), then per target ``<target>.ref_prob``,
    ``<target>.alt_prob``, ``<target>.diff`` (alt - ref probability) and ``<target>.logit_diff``.
    Unscored rows have empty (NaN) numbers.

    Parameters
    ----------
    alleles : list of Allele
    windows : Windows
    p_ref, p_alt : (B, T) float arrays
        Probabilities of the chosen targets (NaN rows for unscored alleles).
    targets : list of str
        The T chosen target names.

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd

    diff = p_alt.astype(np.float64) - p_ref
    ldiff = _logit(p_alt) - _logit(p_ref)
    scored = windows.status == "scored"
    best = np.argmax(np.where(np.isnan(ldiff), -1, np.abs(ldiff)), axis=1)
    rows = np.arange(len(alleles))
    cols = {
        "chrom": [a.chrom for a in alleles], "pos": [a.pos for a in alleles], "id": [a.id for a in alleles],
        "ref": [a.ref for a in alleles], "alt": [a.alt for a in alleles],
        "alt_index": [a.alt_index for a in alleles], "ref_match": windows.ref_match,
        "status": windows.status,
        "max_target": np.where(scored, np.asarray(targets, dtype=object)[best], None),
        "max_logit_diff": np.where(scored, ldiff[rows, best], np.nan),
    }
    for j, t in enumerate(targets):
        cols[f"{t}.ref_prob"] = p_ref[:, j]
        cols[f"{t}.alt_prob"] = p_alt[:, j]
        cols[f"{t}.diff"] = diff[:, j]
        cols[f"{t}.logit_diff"] = ldiff[:, j]
    return pd.DataFrame(cols)


def long_table(wide, targets):
    """The wide table in long form: one row per allele and target.

    Parameters
    ----------
    wide : pandas.DataFrame
        From :func:`effect_table` (and :func:`annotate_windows` columns, kept).
    targets : list of str
        The target names of its columns.

    Returns
    -------
    pandas.DataFrame
        The allele columns, then ``target``, ``ref_prob``, ``alt_prob``, ``diff``, ``logit_diff``;
        rows ordered by allele, then target.
    """
    import pandas as pd

    measures = ("ref_prob", "alt_prob", "diff", "logit_diff")
    per_target = [f"{t}.{m}" for t in targets for m in measures]
    keys = wide.drop(columns=per_target)
    n, T = len(wide), len(targets)
    out = keys.loc[keys.index.repeat(T)].reset_index(drop=True)
    out.insert(len(keys.columns), "target", np.tile(np.asarray(targets, dtype=object), n))
    for m in measures:
        block = wide[[f"{t}.{m}" for t in targets]].to_numpy()
        out[m] = block.reshape(-1)
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------------
# annotation: known motifs (log-odds) and learned kernels (ReLU activations) at the allele
# ---------------------------------------------------------------------------------------------
class Annotator(NamedTuple):
    """What :func:`annotate_windows` scans.

    ``motif_weights``: (2M, 4, W) float32 log-odds matrices, A, C, G, T, zero-padded to the
    widest W; rows M..2M-1 are the reverse complements. ``motif_widths``: (2M,) int.
    ``motif_range``: (M, 2) float, each motif's lowest and highest possible site score.
    ``motif_names``, ``motif_ids``: M str. ``kernel_weights``: (2K, 4, Wk) float32 first-layer
    kernels and their reverse complements (None for a model without one); ``kernel_bias``:
    (2K,); ``kernel_names``: K str (``kernel_<k>``); ``kernel_matches``: K str, a kernel's best
    known match from a matches table, or ``""``.
    """

    motif_weights: np.ndarray
    motif_widths: np.ndarray
    motif_range: np.ndarray
    motif_names: list
    motif_ids: list
    kernel_weights: np.ndarray | None
    kernel_bias: np.ndarray | None
    kernel_names: list
    kernel_matches: list


def _log_odds(motif, pseudocount: float = 0.1) -> np.ndarray:
    """(W, 4) log2(p / background), A, C, G, T, p with `pseudocount` spread by the background."""
    return np.log2(motif.probabilities(pseudocount) / motif.background)


def _with_reverse(mats: list) -> tuple[np.ndarray, np.ndarray]:
    """(2M, 4, Wmax) forward then reverse-complement matrices from M (W_m, 4) arrays."""
    W = max(m.shape[0] for m in mats)
    out = np.zeros((2 * len(mats), 4, W), dtype=np.float32)
    for i, m in enumerate(mats):
        out[i, :, :len(m)] = m.T
        out[len(mats) + i, :, :len(m)] = m[::-1, ::-1].T
    widths = np.array([len(m) for m in mats] * 2, dtype=np.int64)
    return out, widths


def _read_annotation(spec) -> tuple[list, dict]:
    """Known motifs and kernel -> best match names from a motif file/name or a matches table."""
    from .jaspar import load_motifs

    p = Path(str(spec))
    first = ""
    if p.is_file():
        with open(p, encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
    if not first.startswith("Query_ID"):
        return load_motifs(spec), {}
    import pandas as pd

    db = None
    for line in p.read_text(encoding="utf-8").splitlines():
        if line.startswith("# database:"):
            db = line.split(":", 1)[1].strip()
    check(db is not None, f"{p}: a matches table needs its '# database:' line (written by extract-motifs --match)")
    table = pd.read_csv(p, sep="\t", comment="#")
    check({"Query_ID", "Target_ID", "E-value"} <= set(table.columns), f"{p}: missing Query_ID, Target_ID or E-value")
    known = {m.id: m for m in load_motifs(db)}
    table = table[table["Target_ID"].isin(known)].sort_values("E-value")
    check(len(table) > 0, f"{p}: no Target_ID of the table is in its database {db}")
    best = table.drop_duplicates("Query_ID")
    names = {q: known[t].name or t for q, t in zip(best["Query_ID"], best["Target_ID"])}
    return [known[t] for t in dict.fromkeys(table["Target_ID"])], names


def make_annotator(spec, model=None) -> Annotator:
    """Prepare the annotation scan from a motif file or a matches table, and the model's kernels.

    Parameters
    ----------
    spec : str or os.PathLike
        A MEME or JASPAR file or bundled name (``jaspar2024``, ``jaspar2024:CTCF,REST``): these are
        the known motifs; or a ``matches.tsv`` from ``motifq extract-motifs --match``: the known
        motifs are the matched ones of its database, and each kernel is labelled with its best
        match.
    model : torch.nn.Module or None
        Its first convolution ``model.conv`` (weight (K, 4, Wk), A, C, G, T) gives the kernels.
        Default is None: no kernel columns.

    Returns
    -------
    Annotator
    """
    motifs, matches = _read_annotation(spec)
    check(len(motifs) > 0, f"{spec}: no motifs")
    log_odds = [_log_odds(m) for m in motifs]
    weights, widths = _with_reverse(log_odds)
    score_range = np.array([[lo.min(axis=1).sum(), lo.max(axis=1).sum()] for lo in log_odds])
    conv = getattr(model, "conv", None) if model is not None else None
    kw = kb = None
    names, labels = [], []
    if conv is not None:
        w = conv.weight.detach().cpu().numpy().astype(np.float32)          # (K, 4, Wk)
        b = conv.bias.detach().cpu().numpy() if conv.bias is not None else np.zeros(len(w), np.float32)
        kw = np.concatenate([w, w[:, ::-1, ::-1]])                           # reverse complements
        kb = np.concatenate([b, b]).astype(np.float32)
        names = [f"kernel_{k}" for k in range(len(w))]
        labels = [matches.get(n, "") for n in names]
    return Annotator(weights, widths, score_range, [m.name or m.id for m in motifs], [m.id for m in motifs], kw, kb, names, labels)


def _best_sites(weights, bias, widths, tokens, span) -> np.ndarray:
    """Best score over both strands of the sites that overlap each sequence's allele span.

    weights : (2M, 4, W) float32, forward then reverse; bias : (2M,) or None; widths : (2M,);
    tokens : (B, S) uint8 segment; span : (B, 2) allele [start, end) in segment coordinates.
    Returns (B, M) float32 (-inf where no site fits).
    """
    import torch
    import torch.nn.functional as F

    from .models import one_hot_tokens

    x = one_hot_tokens(torch.from_numpy(np.ascontiguousarray(tokens)))                 # (B, 4, S)
    w = torch.from_numpy(weights)
    b = torch.from_numpy(bias) if bias is not None else None
    with torch.no_grad():
        s = F.conv1d(x, w, b).numpy()                                                   # (B, 2M, P)
    p = np.arange(s.shape[2])
    ok = (p[None, None, :] < span[:, None, 1:2]) & (p[None, None, :] + widths[None, :, None] > span[:, None, 0:1])
    ok &= p[None, None, :] + widths[None, :, None] <= tokens.shape[1]
    best = np.where(ok, s, -np.inf).max(axis=2)                                         # (B, 2M)
    M = weights.shape[0] // 2
    return np.maximum(best[:, :M], best[:, M:]).astype(np.float32)


def _segments(tokens, span, W: int):
    """Cut the part of each window where a W-wide site can overlap the allele: (B, S), spans."""
    L = tokens.shape[1]
    lo = max(0, int(span[:, 0].min()) - W + 1)
    hi = min(L, int(span[:, 1].max()) + W - 1)
    return tokens[:, lo:hi], span - lo


def _top_change(ref, alt, eligible=None):
    """Index of the largest |alt - ref| per row and the delta; among the `eligible` columns of a
    row when it has any (B, M) bool, else among all. -inf pairs count as no change."""
    delta = np.where(np.isfinite(ref) & np.isfinite(alt), alt - ref, 0.0)
    size = np.abs(delta)
    if eligible is not None:
        size = np.where(eligible | ~eligible.any(axis=1, keepdims=True), size, -1.0)
    top = np.argmax(size, axis=1)
    return top, delta[np.arange(len(ref)), top]


def annotate_windows(annotator: Annotator, windows: Windows):
    """Which known motif and which kernel change most at each scored allele.

    A site counts when it overlaps the allele (the REF bases in the reference window, the ALT
    bases, or the junction of a deletion, in the alternative window), on either strand.

    Parameters
    ----------
    annotator : Annotator
        From :func:`make_annotator`.
    windows : Windows
        From :func:`allele_windows`.

    Returns
    -------
    pandas.DataFrame
        One row per allele: ``motif``, ``motif_id``, ``motif_score_ref``, ``motif_score_alt``
        (best log2-odds site, bits), ``motif_delta`` (alt - ref), ``motif_site`` (True when that
        best site reaches :data:`SITE_RELATIVE_SCORE` of the motif's score range in the reference
        or the alternative; only such motifs are ranked when a variant has any); with kernels also ``kernel``,
        ``kernel_match``, ``kernel_ref``, ``kernel_alt`` (largest ReLU activation) and
        ``kernel_delta``. Empty (NaN/None) for unscored alleles.
    """
    import pandas as pd

    B = len(windows.status)
    out = {c: np.full(B, np.nan) for c in ("motif_score_ref", "motif_score_alt", "motif_delta")}
    out["motif"] = np.full(B, None, dtype=object)
    out["motif_id"] = np.full(B, None, dtype=object)
    out["motif_site"] = np.full(B, None, dtype=object)
    kernels = annotator.kernel_weights is not None
    if kernels:
        out.update({c: np.full(B, np.nan) for c in ("kernel_ref", "kernel_alt", "kernel_delta")})
        out["kernel"] = np.full(B, None, dtype=object)
        out["kernel_match"] = np.full(B, None, dtype=object)
    idx = np.flatnonzero(windows.status == "scored")
    if len(idx):
        alt_span = windows.alt_span[idx].copy()
        alt_span[:, 1] += (alt_span[:, 1] - alt_span[:, 0] < windows.ref_span[idx, 1] - windows.ref_span[idx, 0])
        _annotate_motifs(annotator, windows.ref[idx], windows.alt[idx], windows.ref_span[idx], alt_span, idx, out)
        if kernels:
            _annotate_kernels(annotator, windows.ref[idx], windows.alt[idx], windows.ref_span[idx], alt_span, idx, out)
    order = ["motif", "motif_id", "motif_site", "motif_score_ref", "motif_score_alt", "motif_delta"]
    order += ["kernel", "kernel_match", "kernel_ref", "kernel_alt", "kernel_delta"] if kernels else []
    return pd.DataFrame({c: out[c] for c in order})


def _annotate_motifs(an: Annotator, ref, alt, ref_span, alt_span, idx, out) -> None:
    W = an.motif_weights.shape[2]
    r = _best_sites(an.motif_weights, None, an.motif_widths, *_segments(ref, ref_span, W))
    a = _best_sites(an.motif_weights, None, an.motif_widths, *_segments(alt, alt_span, W))
    lo, hi = an.motif_range[:, 0], an.motif_range[:, 1]
    relative = (np.maximum(r, a) - lo) / np.maximum(hi - lo, 1e-9)
    site = relative >= SITE_RELATIVE_SCORE
    top, delta = _top_change(r, a, site)
    rows = np.arange(len(idx))
    out["motif_site"][idx] = site[rows, top]
    out["motif"][idx] = np.asarray(an.motif_names, dtype=object)[top]
    out["motif_id"][idx] = np.asarray(an.motif_ids, dtype=object)[top]
    out["motif_score_ref"][idx] = r[rows, top]
    out["motif_score_alt"][idx] = a[rows, top]
    out["motif_delta"][idx] = delta


def _annotate_kernels(an: Annotator, ref, alt, ref_span, alt_span, idx, out) -> None:
    W = an.kernel_weights.shape[2]
    widths = np.full(len(an.kernel_weights), W, dtype=np.int64)
    r = np.maximum(_best_sites(an.kernel_weights, an.kernel_bias, widths, *_segments(ref, ref_span, W)), 0)
    a = np.maximum(_best_sites(an.kernel_weights, an.kernel_bias, widths, *_segments(alt, alt_span, W)), 0)
    top, delta = _top_change(r, a)
    rows = np.arange(len(idx))
    out["kernel"][idx] = np.asarray(an.kernel_names, dtype=object)[top]
    out["kernel_match"][idx] = np.asarray(an.kernel_matches, dtype=object)[top]
    out["kernel_ref"][idx] = r[rows, top]
    out["kernel_alt"][idx] = a[rows, top]
    out["kernel_delta"][idx] = delta


# ---------------------------------------------------------------------------------------------
# the whole run: stream the VCF in chunks, score, write
# ---------------------------------------------------------------------------------------------
_INFO = [("MQ_STATUS", "String", "motifq score-variants: scored, ref_mismatch, symbolic or too_long"),
         ("MQ_MAX_TARGET", "String", "motifq: the target with the largest |logit_diff|"),
         ("MQ_MAX_LOGIT_DIFF", "Float", "motifq: logit(p_alt) - logit(p_ref) of that target"),
         ("MQ_MOTIF", "String", "motifq --annotate: the known motif whose best site score changes most"),
         ("MQ_MOTIF_DELTA", "Float", "motifq --annotate: its best site score, alt - ref (log2 odds)"),
         ("MQ_KERNEL", "String", "motifq --annotate: the first-layer kernel whose activation changes most"),
         ("MQ_KERNEL_DELTA", "Float", "motifq --annotate: its largest ReLU activation, alt - ref")]
_INFO_COLUMNS = {"MQ_STATUS": "status", "MQ_MAX_TARGET": "max_target", "MQ_MAX_LOGIT_DIFF": "max_logit_diff",
                 "MQ_MOTIF": "motif", "MQ_MOTIF_DELTA": "motif_delta", "MQ_KERNEL": "kernel",
                 "MQ_KERNEL_DELTA": "kernel_delta"}


def _vcf_header(header_text: str, fasta, columns) -> str:
    """The input header with motifq's INFO lines (Number=A) and any missing ##contig lines."""
    lines = header_text.rstrip("\n").split("\n")
    have = {ln.split("ID=", 1)[1].split(",")[0].rstrip(">") for ln in lines if ln.startswith("##contig=<")}
    extra = [f"##contig=<ID={c},length={n}>" for c, n in zip(fasta.references, fasta.lengths) if c not in have]
    extra += [f'##INFO=<ID={k},Number=A,Type={t},Description="{d}">' for k, t, d in _INFO
              if _INFO_COLUMNS[k] in columns]
    return "\n".join(lines[:-1] + extra + lines[-1:]) + "\n"


def _info_value(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "."
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return re.sub(r"[\s;=,]", "_", str(v))


def _vcf_lines(records, table) -> str:
    """The records as VCF text with motifq's INFO fields (one value per ALT) appended."""
    keys = [k for k, _, _ in _INFO if _INFO_COLUMNS[k] in table.columns]
    values = {k: table[_INFO_COLUMNS[k]].tolist() for k in keys}
    out, row = [], 0
    for _, rec in records:
        n = len(rec.alts or (".",))
        fields = str(rec).rstrip("\n").split("\t")
        given = [(k, [_info_value(v) for v in values[k][row:row + n]]) for k in keys]
        ours = ";".join(f"{k}=" + ",".join(v) for k, v in given if any(x != "." for x in v))
        if ours:
            fields[7] = ours if fields[7] == "." else f"{fields[7]};{ours}"
        out.append("\t".join(fields) + "\n")
        row += n
    return "".join(out)


class _Run(NamedTuple):
    """What :func:`score_vcf` threads through its chunks."""

    model: object
    fasta: object
    length: int
    chosen: list
    names: list
    batch_size: int
    device: object
    ignore_ref_mismatch: bool
    annotator: Annotator | None


def _score_chunk(run: _Run, alleles):
    """The effect table (wide, with annotation columns) of one chunk of alleles."""
    import pandas as pd

    win = allele_windows(run.fasta, alleles, run.length, run.ignore_ref_mismatch)
    T = len(run.chosen)
    p_ref = np.full((len(alleles), T), np.nan, dtype=np.float32)
    p_alt = p_ref.copy()
    idx = np.flatnonzero(win.status == "scored")
    if len(idx):
        r, a = predict_pairs(run.model, win.ref[idx], win.alt[idx], run.batch_size, run.device)
        p_ref[idx], p_alt[idx] = r[:, run.chosen], a[:, run.chosen]
    table = effect_table(alleles, win, p_ref, p_alt, run.names)
    if run.annotator is not None:
        extra = annotate_windows(run.annotator, win)
        table = pd.concat([table.iloc[:, :10], extra, table.iloc[:, 10:]], axis=1)
    return table


def score_vcf(model, vcf, genome, output, targets=None, long: bool = False, vcf_out=None, annotate=None,
              ignore_ref_mismatch: bool = False, window: int | None = None, batch_size: int = 256,
              chunk_size: int = 4096, device=None, progress: bool = False, model_targets=None) -> dict:
    """Score every variant of a VCF with a model and write the effect table (and an annotated VCF).

    Everything is checked first (:func:`check_vcf`); then the VCF is streamed `chunk_size`
    records at a time, so memory stays bounded; outputs appear atomically.

    Parameters
    ----------
    model : torch.nn.Module
        A motifq model; its input length ``model.config.length`` is the window.
    vcf : str or os.PathLike
        VCF or BCF, plain or gzip (1-based POS).
    genome : str or os.PathLike
        Indexed FASTA, plain or bgzip (see :func:`motifq.data.genome.open_genome`).
    output : str or os.PathLike
        TSV of effects (see :func:`effect_table`; :func:`long_table` with `long`).
    targets : str or list or None
        Target names or 0-based indices (comma-separated string allowed). Default is None: all.
    long : bool
        One row per allele and target instead of one per allele. Default is False.
    vcf_out : str or os.PathLike or None
        Also write the VCF, bgzip-compressed and tabix-indexed (``.tbi``), with INFO fields
        ``MQ_STATUS``, ``MQ_MAX_TARGET``, ``MQ_MAX_LOGIT_DIFF`` (and ``MQ_MOTIF``, ``MQ_MOTIF_DELTA``,
        ``MQ_KERNEL``, ``MQ_KERNEL_DELTA`` with `annotate`), one value per ALT. The VCF must be
        sorted. Default is None.
    annotate : str or os.PathLike or None
        Motifs or a matches table (see :func:`make_annotator`). Default is None.
    ignore_ref_mismatch : bool
        Score alleles whose REF differs from the genome. Default is False.
    window : int or None
        The window asked for; must equal the model's input length. Default is None: the model's.
    batch_size : int
        Windows per forward pass (reference and alternative count separately). Default is 256.
    chunk_size : int
        VCF records read, scored and written at a time. Default is 4096.
    device : str or torch.device or None
        Default is None: the model's device.
    progress : bool
        Show a progress bar. Default is False.
    model_targets : list of str or None
        The model's target names (a checkpoint's ``targets``). Default is None: ``target_<i>``.

    Returns
    -------
    dict
        ``records``, ``alleles``, ``scored``, ``ref_mismatch`` (REF differs from the genome,
        scored or not), ``symbolic``, ``too_long``.
    """
    from tqdm.auto import tqdm

    length = int(model.config.length)
    check(window is None or window == length,
          f"window: the model takes {length}-bp inputs, but a {window}-bp window was asked for")
    check(batch_size >= 1 and chunk_size >= 1, "batch-size and chunk-size: must be at least 1")
    all_targets = list(model_targets or [f"target_{i}" for i in range(model.config.n_targets)])
    chosen = resolve_targets(targets, all_targets)
    fasta = open_genome(genome)
    annotator = make_annotator(annotate, model) if annotate is not None else None
    counts = check_vcf(vcf, fasta, length, require_sorted=vcf_out is not None)
    run = _Run(model, fasta, length, chosen, [all_targets[i] for i in chosen], batch_size, device,
               ignore_ref_mismatch, annotator)
    summary = dict(counts, scored=0, ref_mismatch=0, symbolic=0, too_long=0)
    with atomic_write(output) as fh, _vcf_out(vcf_out, vcf, fasta) as vw, \
            tqdm(total=counts["alleles"], disable=not progress, desc="score-variants", unit="allele") as bar:
        first = True
        for records in read_records(vcf, chunk_size):
            alleles = split_alleles(records)
            table = _score_chunk(run, alleles)
            _count(summary, table)
            (long_table(table, run.names) if long else table).to_csv(
                fh, sep="\t", index=False, header=first, float_format="%.6g", na_rep="NA")
            if vw is not None:
                vw.write(records, table)
            first = False
            bar.update(len(alleles))
        if first:
            (long_table(_score_chunk(run, []), run.names) if long else _score_chunk(run, [])).to_csv(
                fh, sep="\t", index=False)
    return summary


def _count(summary: dict, table) -> None:
    for s in ("scored", "symbolic", "too_long"):
        summary[s] += int((table["status"] == s).sum())
    summary["ref_mismatch"] += int((~table["ref_match"].astype(bool) & ~table["status"].isin(["symbolic", "too_long"])).sum())


class _VcfOut:
    """The annotated VCF being written: its text file handle and whether the header is out."""

    def __init__(self, fh, fasta):
        self.fh, self.fasta, self.header = fh, fasta, False

    def write(self, records, table) -> None:
        if not self.header:
            self.fh.write(_vcf_header(str(records[0][1].header), self.fasta, table.columns))
            self.header = True
        self.fh.write(_vcf_lines(records, table))


@contextlib.contextmanager
def _vcf_out(path, vcf, fasta):
    """Yield a :class:`_VcfOut` (None without `path`); on success bgzip the text and index it with
    tabix, and rename both files onto ``path`` and ``path.tbi``."""
    if path is None:
        yield None
        return
    import pysam

    with atomic_path(path) as gz, atomic_path(f"{path}.tbi") as tbi:
        text = gz.with_name(gz.name + ".txt")
        try:
            with open(text, "x", encoding="utf-8") as fh:   # exclusive: never through a planted link
                out = _VcfOut(fh, fasta)
                yield out
                if not out.header:   # no records: the header alone
                    fh.write(_vcf_header(_header_text(vcf), fasta, []))
            pysam.tabix_compress(str(text), str(gz), force=True)
            try:
                pysam.tabix_index(str(gz), preset="vcf", force=True, index=str(tbi))
            except (OSError, ValueError) as exc:
                raise MotifqError(f"{path}: cannot be indexed with tabix ({exc})") from None
        finally:
            text.unlink(missing_ok=True)


def _header_text(vcf) -> str:
    import pysam

    with _readable(Path(vcf)) as src, pysam.VariantFile(str(src)) as vf:
        return str(vf.header)
