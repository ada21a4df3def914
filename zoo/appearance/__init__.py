"""Per-detection appearance vectors for trackers that take features as input (graph trackers, any
association), from a configurable extractor, computed once per sequence and cached on disk."""

from zoo.appearance.cache import cache_key, default_cache_dir, sequence_features
from zoo.appearance.extractors import (
    EXTRACTOR_KINDS,
    AppearanceExtractor,
    PrecomputedFeatures,
    TimmCropExtractor,
    ZooModelExtractor,
    build_extractor,
    weights_digest,
)

__all__ = ["EXTRACTOR_KINDS", "AppearanceExtractor", "PrecomputedFeatures", "TimmCropExtractor",
           "ZooModelExtractor", "build_extractor", "cache_key", "default_cache_dir", "sequence_features",
           "weights_digest"]
