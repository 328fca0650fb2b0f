"""motifq: train DanQ models on chromatin-profiling data and see which motifs they learned.

The package is a pipeline of modules, each one stage (imports flow one way):
``sequence`` -> ``models`` -> ``train`` -> ``evaluate``/``extract`` -> ``compare`` -> ``cluster``
-> ``plot``, with ``cli`` on top. Heavy dependencies (torch, matplotlib) are imported by the
modules that need them, so ``import motifq`` stays light.
"""
__version__ = "0.1.0"

from .errors import MotifqError, check  # noqa: E402
from .motif import Motif  # noqa: E402
from .formats import read_meme, write_meme, read_jaspar, write_jaspar, read_motifs, write_motifs  # noqa: E402
from .jaspar import load_motifs, load_bundled  # noqa: E402

__all__ = ["__version__", "MotifqError", "check", "Motif", "read_meme", "write_meme", "read_jaspar",
           "write_jaspar", "read_motifs", "write_motifs", "load_motifs", "load_bundled"]
