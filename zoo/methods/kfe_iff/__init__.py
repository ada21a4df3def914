"""KFE + IFF on SUSHI (arXiv 2501.10129; SUSHI: Cetintas et al., CVPR 2023): an offline hierarchical graph
tracker, its key-frame clips and its intra-frame feature fusion.

One file, one job: :mod:`.hierarchy` (nodes, pruned edges, edge features, labels, merges), :mod:`.mpn` (the
per-level message passing network), :mod:`.projector` (flow-constraint rounding: exact MILP or greedy),
:mod:`.losses` (focal loss), :mod:`.kfe` (Q-learning key-frame segmentation), :mod:`.iff` (GCN fusion),
:mod:`.model` (the network over one clip), :mod:`.tracker` (clips, merging, interpolation: the offline MOT
protocol), :mod:`.module` (LightningModules registered as ``kfe_iff`` and ``sushi``).
"""

from zoo.methods.kfe_iff.model import Clip, HierarchyConfig, SushiNet
from zoo.methods.kfe_iff.module import KfeIffModule, SushiModule
from zoo.methods.kfe_iff.tracker import SushiTracker

__all__ = ["Clip", "HierarchyConfig", "KfeIffModule", "SushiModule", "SushiNet", "SushiTracker"]
