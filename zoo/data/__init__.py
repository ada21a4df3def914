"""Benchmarks: file formats, ZooSynth, datasets, samplers and LightningDataModules."""

from zoo.data.formats.errors import FormatError
from zoo.data.types import MOTRows, MOTSequence, SeqInfo, SOTSequence, VOSSequence

__all__ = ["FormatError", "MOTRows", "MOTSequence", "SOTSequence", "SeqInfo", "VOSSequence"]
