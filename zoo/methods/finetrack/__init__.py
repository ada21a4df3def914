"""FineTrack (Ren et al., CVPR 2023): diverse fine-grained Re-ID features for BYTE association.

One file, one job: :mod:`.fafpn` (trunk + Flow Alignment FPN), :mod:`.mpmg` (part masks, embeddings,
classifiers), :mod:`.model` (the network), :mod:`.losses` (the objective), :mod:`.tracker` (online
tracking with the fused distance), :mod:`.module` (LightningModule, registered as ``finetrack``).
"""

from zoo.methods.finetrack.model import FineTrackNet, FineTrackOutput
from zoo.methods.finetrack.module import FineTrackModule
from zoo.methods.finetrack.tracker import FineTrackTracker, fused_distance

__all__ = ["FineTrackModule", "FineTrackNet", "FineTrackOutput", "FineTrackTracker", "fused_distance"]
