"""How fast `motifq.data.simulate.simulate` makes data: wall time for a few sizes.

Run: PYTHONPATH=. python benchmarks/simulate.py   (writes benchmarks/results/simulate.md)
"""
import os
import platform
import time
from pathlib import Path

from motifq.data.simulate import simulate, write_simulation

OUT = Path(__file__).resolve().parent / "results" / "simulate.md"


def main():
    import tempfile

    rows = []
    for n_train, n_valid, n_test in ((10000, 1000, 2000), (20000, 2000, 4000), (40000, 4000, 8000)):
        t0 = time.perf_counter()
        sim = simulate(n_train, n_valid, n_test, length=1000, seed=0)
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as d:
            write_simulation(sim, d)
            t2 = time.perf_counter()
        n = n_train + n_valid + n_test
        rows.append((n, len(sim.instances["start"]), t1 - t0, t2 - t1))
        print(rows[-1], flush=True)
    lines = ["# simulate: wall time", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared with other jobs while measured), "
             f"Python {platform.python_version()}. Sequences of 1000 bp, default 8 motifs, seed 0.", "",
             "| sequences (train+valid+test) | planted instances | simulate (s) | write folder (s) |",
             "| --- | --- | --- | --- |"]
    lines += [f"| {n:,} | {k:,} | {a:.2f} | {b:.2f} |" for n, k, a, b in rows]
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
