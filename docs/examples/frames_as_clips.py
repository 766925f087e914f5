# Copyright (c) m2df_mmaction contributors.
"""Example: a video backbone (5D input) as a frame encoder.

MMAction2's ``VisionTransformer`` (VideoMAE) and ``TimeSformer`` take clips
``[M, C, T, H, W]``; :class:`FewShotRecognizer` feeds frames
``[M, C, H, W]``. This wrapper makes each frame a one-frame clip (build the
inner backbone with ``num_frames=1`` and, for the ViT, ``tubelet_size=1``)
and drops the time axis of a feature map. Import it with
``custom_imports = dict(imports=['m2df_mmaction',
'docs.examples.frames_as_clips'])``.
"""
from typing import Optional

from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

__all__ = ['FramesAsClips']


@MODELS.register_module()
class FramesAsClips(BaseModule):
    """Run a clip backbone on single frames.

    Args:
        backbone (dict): Config of an MMAction2 clip backbone built for
            one-frame clips.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Attributes:
        embed_dims (int | None): The inner backbone's ``embed_dims``, so that
            :class:`FewShotRecognizer` fills the head's ``embed_dims``.
    """

    def __init__(self, backbone: dict, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.embed_dims = getattr(self.backbone, 'embed_dims', None)

    def forward(self, x: Tensor) -> Tensor:
        """Encode frames.

        Args:
            x (Tensor): ``[M, C, H, W]``.

        Returns:
            Tensor: ``[M, D]``, or ``[M, D, H', W']`` for a backbone that
            returns feature maps ``[M, D, 1, H', W']``.
        """
        feats = self.backbone(x.unsqueeze(2))
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        return feats.squeeze(2) if feats.dim() == 5 else feats
