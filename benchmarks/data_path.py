"""Data-path benchmark: a synthetic DeepSEA ``train.mat`` in the real layout -> motifq cache.

Measures
1. conversion time and peak RSS of ``convert_split``, run in a child process: its peak resident
   set since exec (``VmHWM`` in /proc/self/status; ``getrusage``'s ru_maxrss is not used because
   Linux carries it over from the parent across fork + exec), and a /proc sampler's largest
   VmRSS as a cross-check;
2. cache read speed: random minibatches of 100 (tokens + unpacked labels) from the memory-mapped
   cache, as a training loop reads them.

The file is MATLAB v7.3 as h5py sees it: ``trainxdata`` (1000, 4, N) uint8 one-hot in A, G, C, T
order, ``traindata`` (919, N) uint8 (about 2 % positives), a 512-byte user block in front like
MATLAB's. It is written in chunks under ``benchmarks/_work/`` (git-ignored) and deleted afterwards
unless ``--keep``.

Usage::

    PYTHONPATH=. python benchmarks/data_path.py                 # 1,000,000 samples, contiguous
    PYTHONPATH=. python benchmarks/data_path.py --n 200000 --gzip   # chunked + gzip layout
    PYTHONPATH=. python benchmarks/data_path.py --v5 --n 455024     # a MATLAB v5 test.mat (appends)
    ... --targets predictor.names    # also apply DeepSEA's 919 target names to the cache

Writes ``benchmarks/results/data_path.md`` (or ``--out``); ``--append`` adds a section.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

L, T = 1000, 919
AGCT_OF_ACGT = np.array([0, 2, 1, 3])   # ACGT token -> AGCT channel


def _chunk(seed: int, i: int, j: int):
    """Tokens (c, L) ACGT and labels (c, T) for samples i..j-1, reproducible from (seed, i)."""
    rng = np.random.default_rng([seed, i])
    tokens = rng.integers(0, 4, size=(j - i, L), dtype=np.uint8)
    labels = (rng.random((j - i, T)) < 0.02).astype(np.uint8)
    return tokens, labels


def drop_page_cache(path: Path) -> None:
    """Ask the kernel to forget the file's cached pages (posix_fadvise DONTNEED; no root needed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def synthesise(path: Path, n: int, seed: int, gzip: bool, block: int = 20_000) -> float:
    import h5py

    t0 = time.perf_counter()
    kw = dict(chunks=(L, 4, 1000), compression="gzip", compression_opts=3) if gzip else {}
    with h5py.File(path, "w", userblock_size=512) as f:
        x = f.create_dataset("trainxdata", shape=(L, 4, n), dtype=np.uint8, **kw)
        y = f.create_dataset("traindata", shape=(T, n), dtype=np.uint8,
                             **(dict(chunks=(T, 1000), compression="gzip", compression_opts=3) if gzip else {}))
        for i in range(0, n, block):
            j = min(n, i + block)
            tokens, labels = _chunk(seed, i, j)
            oh = np.zeros((j - i, 4, L), dtype=np.uint8)
            np.put_along_axis(oh, AGCT_OF_ACGT[tokens][:, None, :], 1, axis=1)
            x[:, :, i:j] = oh.transpose(2, 1, 0)
            y[:, i:j] = labels.T
    with open(path, "r+b") as fh:   # MATLAB-like header text in the user block
        fh.write(b"MATLAB 7.3 MAT-file, synthetic motifq benchmark".ljust(116))
    return time.perf_counter() - t0


_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from motifq.data.deepsea import convert_split
t0 = time.perf_counter()
convert_split({bundle!r}, {split!r}, cache={cache!r}, progress=False)
dt = time.perf_counter() - t0
hwm = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
print(json.dumps({{"seconds": dt, "maxrss_kb": hwm, "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def _sample_rss(pid: int, out: list, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        out.append(int(line.split()[1]))
        except OSError:
            pass
        stop.wait(0.05)


def convert(bundle: Path, cache: Path, split: str = "train") -> dict:
    code = _CHILD.format(root=str(ROOT), bundle=str(bundle), cache=str(cache), split=split)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    samples, stop = [], threading.Event()
    th = threading.Thread(target=_sample_rss, args=(proc.pid, samples, stop), daemon=True)
    th.start()
    out, _ = proc.communicate()
    stop.set()
    th.join()
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"conversion failed with exit code {proc.returncode}")
    res = json.loads(out.strip().splitlines()[-1])
    res["wall_with_start"] = wall
    res["sampled_peak_kb"] = max(samples) if samples else None
    return res


def read_speed(cache: Path, batches: int, seed: int, cold: bool, split: str = "train") -> dict:
    from motifq.data import open_data

    if cold:
        for f in cache.glob("*.npy"):
            drop_page_cache(f)
    s = open_data(cache, split)
    rng = np.random.default_rng(seed + (1 if cold else 2))
    n = len(s)
    t0 = time.perf_counter()
    for _ in range(batches):
        idx = np.sort(rng.integers(0, n, 100))   # sorted: a sampler's indices, read in file order
        tok = np.asarray(s.tokens[idx])
        lab = s.labels(idx)
    dt = time.perf_counter() - t0
    assert tok.shape == (100, L) and lab.shape == (100, T)
    return {"batches": batches, "seconds": dt, "samples_per_s": batches * 100 / dt}


def verify(cache: Path, seed: int, n: int, block: int = 20_000, split: str = "train") -> int:
    """Compare a few stored samples with the generator (tokens and labels)."""
    from motifq.data import open_data

    s = open_data(cache, split)
    rng = np.random.default_rng(seed + 1)
    checked = 0
    for b in rng.choice(np.arange(0, n, block), size=min(3, (n + block - 1) // block), replace=False):
        j = min(n, b + block)
        tokens, labels = _chunk(seed, int(b), j)
        assert np.array_equal(s.tokens[b:j], tokens)
        assert np.array_equal(s.labels(slice(int(b), j)), labels)
        checked += j - b
    return checked


def synthesise_v5(path: Path, n: int, seed: int, block: int = 20_000) -> float:
    """A MATLAB v5 test.mat: testxdata (N, 4, L) uint8 AGCT, testdata (N, T) uint8 (scipy.io.savemat,
    uncompressed, as the real bundle's v5 files are; built in memory here, it is the reader under test)."""
    import scipy.io

    t0 = time.perf_counter()
    x = np.zeros((n, 4, L), dtype=np.uint8)
    y = np.empty((n, T), dtype=np.uint8)
    for i in range(0, n, block):
        j = min(n, i + block)
        tokens, y[i:j] = _chunk(seed, i, j)
        np.put_along_axis(x[i:j], AGCT_OF_ACGT[tokens][:, None, :], 1, axis=1)
    scipy.io.savemat(path, {"testxdata": x, "testdata": y})
    return time.perf_counter() - t0


def main_v5(a) -> int:
    work = Path(a.work) / f"bundle_v5_{a.n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        print(f"writing a synthetic MATLAB v5 test.mat with {a.n:,} samples ...", file=sys.stderr)
        synthesise_v5(work / "test.mat", a.n, a.seed)
        size = (work / "test.mat").stat().st_size
        drop_page_cache(work / "test.mat")
        conv = convert(work, work / "motifq-cache", "test")
        print(f"  {conv}", file=sys.stderr)
        checked = verify(work / "motifq-cache", a.seed, a.n, split="test")
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    lines = [
        f"## {a.n:,} samples, test.mat as MATLAB v5 (read in place)", "",
        f"Command: `PYTHONPATH=. python benchmarks/data_path.py --v5 --n {a.n}`  ",
        f"Machine: {os.cpu_count()} CPU cores (shared; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end), "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
        "| measure | value |", "| --- | --- |",
        f"| synthetic test.mat (v5: testxdata (N, 4, 1000) uint8, testdata (N, 919) uint8, uncompressed) | {size / 1e9:.2f} GB |",
        f"| conversion time (`convert_split(..., 'test')`, cold page cache) | {conv['seconds']:.1f} s ({a.n / conv['seconds']:,.0f} samples/s) |",
        f"| peak RSS of the converting process (VmHWM) | {conv['maxrss_kb'] / 2**20:.2f} GB (goal ≤ 4 GB; the file is {size / 2**30:.2f} GiB) |",
        f"| peak VmRSS seen by a 50 ms /proc sampler | {(conv['sampled_peak_kb'] or 0) / 2**20:.2f} GB |",
        f"| samples checked against the generator | {checked:,} (tokens and labels identical) |", "",
    ]
    out = Path(a.out)
    out.write_text(out.read_text() + "\n" + "\n".join(lines))
    print("\n".join(lines))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--gzip", action="store_true", help="chunked (1000, 4, 1000) + gzip-3 layout instead of contiguous")
    ap.add_argument("--batches", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default=str(ROOT / "benchmarks" / "_work"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "data_path.md"))
    ap.add_argument("--append", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--targets", help="a 919-line target names file (e.g. DeepSEA's predictor.names) to apply to the cache")
    ap.add_argument("--v5", action="store_true", help="instead: a MATLAB v5 test.mat (appended to --out)")
    a = ap.parse_args(argv)
    if a.v5:
        return main_v5(a)

    work = Path(a.work) / f"bundle_{a.n}{'_gzip' if a.gzip else ''}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        print(f"writing a synthetic train.mat with {a.n:,} samples ...", file=sys.stderr)
        t_write = synthesise(work / "train.mat", a.n, a.seed, a.gzip)
        size = (work / "train.mat").stat().st_size
        print(f"  {t_write:.1f} s, {size / 1e9:.2f} GB; converting ...", file=sys.stderr)
        drop_page_cache(work / "train.mat")   # convert from disk, not from the page cache
        conv = convert(work, work / "motifq-cache")
        cache_bytes = sum(p.stat().st_size for p in (work / "motifq-cache").glob("*.npy"))
        print(f"  {conv}", file=sys.stderr)
        checked = verify(work / "motifq-cache", a.seed, a.n)
        names = None
        if a.targets:
            from motifq.data import open_data

            names = open_data(work / "motifq-cache", "train", targets=a.targets).targets
            assert len(names) == T
        rd_cold = read_speed(work / "motifq-cache", a.batches, a.seed, cold=True)
        rd = read_speed(work / "motifq-cache", a.batches, a.seed, cold=False)
        print(f"  read cold: {rd_cold}\n  read warm: {rd}", file=sys.stderr)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    load = os.getloadavg()
    layout = "chunked (1000, 4, 1000) + gzip level 3" if a.gzip else "contiguous (no chunking)"
    peak_gb = conv["maxrss_kb"] / 2**20
    lines = [
        f"## {a.n:,} samples, train.mat {layout}",
        "",
        f"Command: `PYTHONPATH=. python benchmarks/data_path.py --n {a.n}{' --gzip' if a.gzip else ''}"
        f"{' --targets ' + Path(a.targets).name if a.targets else ''}`  ",
        f"Machine: {os.cpu_count()} CPU cores (shared with other jobs; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        f"at the end), Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| synthetic train.mat (h5py: trainxdata (1000, 4, N) uint8, traindata (919, N) uint8) | {size / 1e9:.2f} GB, written in {t_write:.0f} s |",
        f"| conversion time (`convert_split`, default chunk) | {conv['seconds']:.1f} s ({a.n / conv['seconds']:,.0f} samples/s) |",
        f"| peak RSS of the converting process (VmHWM) | {peak_gb:.2f} GB (goal ≤ 4 GB) |",
        f"| peak VmRSS seen by a 50 ms /proc sampler | {(conv['sampled_peak_kb'] or 0) / 2**20:.2f} GB |",
        f"| cache size (tokens + bit-packed labels) | {cache_bytes / 1e9:.2f} GB |",
        f"| samples checked against the generator | {checked:,} (tokens and labels identical) |",
        *([f"| target names from `{Path(a.targets).name}` via `open_data(targets=...)` | {len(names)} names, "
           f"first `{names[0]}`, last `{names[-1]}` |"] if names else []),
        f"| cache read, random minibatches of 100 (tokens + unpacked labels), {a.batches} batches, cold page cache | "
        f"{rd_cold['samples_per_s']:,.0f} samples/s (goal ≥ 2,300) |",
        f"| the same, warm page cache (the cache files already read once) | {rd['samples_per_s']:,.0f} samples/s |",
        "",
        "Cold: the file's pages were dropped from the page cache (`posix_fadvise(DONTNEED)` after `fsync`) just "
        "before the conversion and before the cold read, so those runs read the disk (a virtual disk on a shared "
        f"machine with {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB of RAM). "
        "Random indices are drawn with replacement and sorted within a batch (file order), as a shuffling sampler "
        "would hand them over.",
        "",
    ]
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    head = ["# Data path benchmark", "",
            "`benchmarks/data_path.py`: a synthetic DeepSEA train.mat in the real layout, converted into the motifq "
            "cache; conversion time, peak memory, random-minibatch read speed.", ""]
    text = (out.read_text() + "\n" if a.append and out.exists() else "\n".join(head) + "\n") + "\n".join(lines)
    out.write_text(text if text.endswith("\n") else text + "\n")
    print(out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
