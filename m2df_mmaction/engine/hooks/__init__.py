# Copyright (c) m2df_mmaction contributors.
from .finite_loss_hook import FiniteLossHook
from .iteration_seed_hook import IterationSeedHook

__all__ = ['FiniteLossHook', 'IterationSeedHook']
