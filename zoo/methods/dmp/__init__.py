"""DMP (Zhou et al., arXiv 2504.21692): self-supervised mask and keypoint propagation with a dynamic
reference memory.

One file, one job: :mod:`.encoder` (stride-4 timm ResNet + projection), :mod:`.affinity` (local-window
affinity, restrictions, propagation), :mod:`.clustering` (frame region clustering), :mod:`.memory` (the
Reference Frame Memory Engine), :mod:`.model` (the network, the colour-reconstruction objective and the
bidirectional fusion), :mod:`.tracker` (label propagation: the VOS protocol), :mod:`.module`
(LightningModule registered as ``dmp``).
"""

from zoo.methods.dmp.model import DMPNet, DMPSettings
from zoo.methods.dmp.module import DMPModule
from zoo.methods.dmp.tracker import DMPTracker

__all__ = ["DMPModule", "DMPNet", "DMPSettings", "DMPTracker"]
