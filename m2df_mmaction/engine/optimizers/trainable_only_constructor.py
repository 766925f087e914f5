# Copyright (c) m2df_mmaction contributors.
"""An optimizer of the trainable parameters only (frozen encoders)."""
from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

__all__ = ['TrainableOnlyOptimWrapperConstructor']


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TrainableOnlyOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """MMEngine's default constructor, never listing frozen parameters.

    MMEngine's constructor leaves parameters with ``requires_grad=False``
    out of the optimizer only on its per-parameter path (``paramwise_cfg``
    set); without ``paramwise_cfg`` it hands ``model.parameters()``, frozen
    ones included, to the optimizer (torch's optimizers then skip them, as
    they get no gradient, but they are listed: 86 M parameters of a frozen
    ViT-B/16 for a few million trained). This constructor always takes the
    per-parameter path, so the optimizer holds the trainable parameters
    alone, with the same options.

    Use: ``optim_wrapper = dict(optimizer=...,
    constructor='TrainableOnlyOptimWrapperConstructor')``.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: dict = None) -> None:
        # an empty custom_keys changes no option; it selects add_params,
        # which skips parameters that do not require grad
        super().__init__(optim_wrapper_cfg, paramwise_cfg or
                         dict(custom_keys={}))
