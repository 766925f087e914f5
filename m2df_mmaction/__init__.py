# Copyright (c) m2df_mmaction contributors.
"""CLIP-M2DF few-shot action recognition as an MMAction2 plugin.

Importing the package applies the small compatibility fixes in
:mod:`m2df_mmaction.utils.compat` and registers every component into
MMAction2's own registries (``mmaction.registry``).
"""
# isort: off
from .utils import compat  # noqa: F401  (must run before mmaction.models)
# isort: on
from .datasets import *  # noqa: F401,F403,E402
from .engine import *  # noqa: F401,F403,E402
from .evaluation import *  # noqa: F401,F403,E402
from .models import *  # noqa: F401,F403,E402
from .version import __version__  # noqa: E402

__all__ = ['__version__']
