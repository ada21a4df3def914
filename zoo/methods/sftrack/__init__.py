"""SFTrack++ (Burceanu, 2020): learnable multi-channel spectral refinement over a tracker of trackers.

Parts: :mod:`.spectral` (Eq. 1 by 3-D filtering), :mod:`.unet` (NN_feat2seg / NN_seg2box), :mod:`.model`
(channel combination, the network, mask -> box), :mod:`.tracker` (online, SOT protocol), :mod:`.module`
(the three training phases).
"""

from zoo.methods.sftrack.module import SFTrackModule

__all__ = ["SFTrackModule"]
