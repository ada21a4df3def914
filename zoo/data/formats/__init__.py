"""Benchmark file formats: readers and writers with validation.

Every reader raises :class:`FormatError` (file + line/frame + what is wrong) for malformed input. Boxes
leave the readers as float64 0-based ``xyxy`` (``zoo.core.boxes``); writers convert back to each format.
"""

from zoo.data.formats.davis import (
    DAVIS_PALETTE,
    load_davis,
    read_imageset,
    read_palette_mask,
    write_imageset,
    write_palette_mask,
)
from zoo.data.formats.errors import FormatError
from zoo.data.formats.got10k import (
    load_got10k,
    read_meta_info,
    read_results,
    write_groundtruth,
    write_labels,
    write_list,
    write_meta_info,
    write_results,
)
from zoo.data.formats.jhmdb import load_jhmdb, read_joint_positions
from zoo.data.formats.lasot import load_lasot
from zoo.data.formats.motchallenge import (
    load_sequence,
    load_split,
    read_mot_file,
    read_seqinfo,
    read_seqmap,
    write_mot_file,
    write_seqinfo,
    write_seqmap,
)
from zoo.data.formats.otb import OTB_FRAME_RANGES, load_otb, read_otb_boxes, write_otb_boxes
from zoo.data.formats.trackingnet import load_trackingnet

__all__ = [
    "DAVIS_PALETTE",
    "OTB_FRAME_RANGES",
    "FormatError",
    "load_davis",
    "load_got10k",
    "load_jhmdb",
    "load_lasot",
    "load_otb",
    "load_sequence",
    "load_split",
    "load_trackingnet",
    "read_imageset",
    "read_joint_positions",
    "read_meta_info",
    "read_mot_file",
    "read_otb_boxes",
    "read_palette_mask",
    "read_results",
    "read_seqinfo",
    "read_seqmap",
    "write_groundtruth",
    "write_imageset",
    "write_labels",
    "write_list",
    "write_meta_info",
    "write_mot_file",
    "write_otb_boxes",
    "write_palette_mask",
    "write_results",
    "write_seqinfo",
    "write_seqmap",
]
