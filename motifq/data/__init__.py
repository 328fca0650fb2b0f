"""Data sets: the DeepSEA .mat bundle (streamed), motifq's own dataset folders, FASTA + labels,
and the simulator."""
