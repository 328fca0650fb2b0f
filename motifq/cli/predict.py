"""Commands that run a model on sequences: ``predict`` (FASTA, or genome tracks with ``--bed``)
and ``score-variants``."""
from __future__ import annotations

from .common import _COUNT, _add_output, _device, _write_or_print, log


def add_predict(sub) -> None:
    p = sub.add_parser("predict", help="per-sequence probabilities per target from a trained model")
    p.add_argument("model", metavar="MODEL", help="checkpoint written by motifq train")
    p.add_argument("fasta", metavar="SEQS.fa", nargs="?", help="sequences of the model's input length (or --bed)")
    _add_output(p, "file", metavar="preds.tsv", help="TSV (name, then one column per target); default: stdout")
    p.add_argument("--batch-size", type=_COUNT, default=1000, metavar="N", help="default: 1000")
    p.add_argument("--no-rc", action="store_true", help="forward strand only (default: mean of both strands)")
    p.add_argument("--device", type=_device, default="auto", metavar="DEV", help="auto, cpu, cuda or cuda:N (default: auto)")
    _add_predict_tracks(p)
    p.set_defaults(func=run_predict, more_outputs=_predict_outputs)


def _predict_outputs(args) -> list:
    """The folder of a track prefix (--bigwig/--bedgraph PREFIX)."""
    from pathlib import Path

    prefix = args.bigwig if args.bigwig is not None else args.bedgraph
    return [] if prefix is None else [(Path(prefix).parent, "dir")]


def run_predict(args) -> int:
    import numpy as np

    from ..errors import check
    from ..sequence import read_fasta, tokenize

    if args.bed is not None or args.genome is not None:
        return _run_predict_tracks(args)
    check(args.fasta is not None, "predict: give SEQS.fa, or --bed and --genome for genome tracks")
    names, seqs = read_fasta(args.fasta)   # the FASTA first: a bad file is reported before torch loads
    tokens = [tokenize(s, name=f"{args.fasta}: record {n!r}") for n, s in zip(names, seqs)]
    import pandas as pd

    from ..models import load_checkpoint, predict, resolve_device

    model, ckpt = load_checkpoint(args.model, device=resolve_device(args.device))
    L = model.config.length
    for name, t in zip(names, tokens):
        check(len(t) == L, f"{args.fasta}: record {name!r} has {len(t)} bases; the model takes {L}")
    probs = predict(model, np.stack(tokens), batch_size=args.batch_size, rc=not args.no_rc, progress=not args.quiet)
    table = pd.DataFrame(probs, columns=ckpt["targets"])
    table.insert(0, "name", names)
    _write_or_print(args.output, table.to_csv(sep="\t", index=False, float_format="%.6g"))
    if args.output:
        log.info(f"wrote {len(names)} x {len(ckpt['targets'])} probabilities to {args.output}")
    return 0


# ---------------------------------------------------------------------------------------------
# predict --bed --genome: genome tracks
# ---------------------------------------------------------------------------------------------
def _add_predict_tracks(p) -> None:
    g = p.add_argument_group("genome tracks", "tile windows over BED regions and write one track per target")
    g.add_argument("--bed", metavar="REGIONS.bed", help="regions to tile (0-based half-open; instead of SEQS.fa)")
    g.add_argument("--genome", metavar="GENOME.fa", help="indexed genome FASTA (.fai; bgzip also .gzi)")
    g.add_argument("--step", type=_COUNT, default=50, metavar="BP", help="tiling step and bin width (default: 50)")
    out = g.add_mutually_exclusive_group()
    out.add_argument("--bigwig", metavar="PREFIX", help="write PREFIX.<target>.bw")
    out.add_argument("--bedgraph", metavar="PREFIX", help="write PREFIX.<target>.bedGraph")
    g.add_argument("--targets", metavar="NAMES", help="comma-separated target names or 0-based indices (default: all)")
    g.add_argument("--window", type=_COUNT, metavar="BP", help="window length; must equal the model's (default: the model's)")


def _run_predict_tracks(args) -> int:
    from ..errors import check

    check(args.fasta is None, "predict: give either SEQS.fa or --bed with --genome, not both")
    check(args.bed is not None and args.genome is not None, "predict: genome tracks need both --bed and --genome")
    check(args.bigwig is not None or args.bedgraph is not None, "predict: genome tracks need --bigwig or --bedgraph PREFIX")
    check(not args.no_rc, "predict: genome tracks always average both strands (--no-rc is for SEQS.fa)")
    from ..models import load_checkpoint, resolve_device
    from ..tracks import write_tracks

    device = resolve_device(args.device)
    model, ckpt = load_checkpoint(args.model, device=device)
    fmt, prefix = ("bigwig", args.bigwig) if args.bigwig is not None else ("bedgraph", args.bedgraph)
    paths = write_tracks(model, args.bed, args.genome, prefix, step=args.step, fmt=fmt, targets=args.targets,
                         model_targets=ckpt["targets"], window=args.window, batch_size=args.batch_size,
                         device=device, progress=not args.quiet)
    log.info(f"wrote {len(paths)} {fmt} tracks: {', '.join(paths)}")
    return 0


# ---------------------------------------------------------------------------------------------
# score-variants
# ---------------------------------------------------------------------------------------------
def add_score_variants(sub) -> None:
    p = sub.add_parser("score-variants", help="effects of VCF variants on every target: ref vs alt windows from a genome",
                       description="For each VCF variant (each ALT of a multi-allelic record) predict the model's "
                                   "window centred on it with the reference and with the alternative allele "
                                   "(forward + reverse-complement mean) and write per target ref_prob, alt_prob, "
                                   "diff (alt - ref) and logit_diff, plus the target with the largest |logit_diff|.")
    p.add_argument("model", metavar="MODEL", help="checkpoint written by motifq train")
    p.add_argument("--vcf", required=True, metavar="V.vcf[.gz]", help="variants: VCF or BCF, plain or gzip (1-based POS)")
    p.add_argument("--genome", required=True, metavar="GENOME.fa", help="indexed genome FASTA (.fai; bgzip also .gzi)")
    _add_output(p, "file", required=True, metavar="effects.tsv", help="effects table (TSV)")
    p.add_argument("--targets", metavar="NAMES", help="comma-separated target names or 0-based indices (default: all)")
    p.add_argument("--long", action="store_true", help="one row per variant and target (default: one row per variant)")
    p.add_argument("--vcf-out", metavar="annotated.vcf.gz",
                   help="also write the VCF with MQ_* INFO fields, bgzipped and tabix-indexed (needs a sorted VCF)")
    p.add_argument("--annotate", metavar="MOTIFS|matches.tsv",
                   help="motif file or bundled name (jaspar2024), or matches.tsv from extract-motifs --match: "
                        "the known motif and the learned kernel that change most at each variant")
    p.add_argument("--ignore-ref-mismatch", action="store_true",
                   help="also score variants whose REF differs from the genome (default: listed, not scored)")
    p.add_argument("--window", type=_COUNT, metavar="BP", help="window length; must equal the model's (default: the model's)")
    p.add_argument("--batch-size", type=_COUNT, default=256, metavar="N", help="windows per forward pass (default: 256)")
    p.add_argument("--device", type=_device, default="auto", metavar="DEV", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.set_defaults(func=run_score_variants, more_outputs=_score_variants_outputs)


def _score_variants_outputs(args) -> list:
    """--vcf-out and its tabix index."""
    return [] if args.vcf_out is None else [(args.vcf_out, "file"), (f"{args.vcf_out}.tbi", "file")]


def run_score_variants(args) -> int:
    from ..models import load_checkpoint, resolve_device
    from ..variants import score_vcf

    device = resolve_device(args.device)
    model, ckpt = load_checkpoint(args.model, device=device)
    s = score_vcf(model, args.vcf, args.genome, args.output, targets=args.targets, long=args.long,
                  vcf_out=args.vcf_out, annotate=args.annotate, ignore_ref_mismatch=args.ignore_ref_mismatch,
                  window=args.window, batch_size=args.batch_size, device=device, progress=not args.quiet,
                  model_targets=ckpt["targets"])
    if s["ref_mismatch"]:
        what = "scored anyway (--ignore-ref-mismatch)" if args.ignore_ref_mismatch else "not scored"
        log.warning(f"{s['ref_mismatch']} of {s['alleles']} variant alleles have a REF that differs from "
                    f"{args.genome}; {what}")   # a warning: shown even with --quiet
    skipped = [f"{s[k]} {k.replace('_', ' ')}" for k in ("symbolic", "too_long") if s[k]]
    log.info(f"scored {s['scored']} of {s['alleles']} alleles ({s['records']} records)"
             + (f"; not scored: {', '.join(skipped)}" if skipped else "") + f"; wrote {args.output}"
             + (f" and {args.vcf_out}" if args.vcf_out else ""))
    return 0
