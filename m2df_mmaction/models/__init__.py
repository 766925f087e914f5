# Copyright (c) m2df_mmaction contributors.
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
from .text import *  # noqa: F401,F403
from .adapters import *  # noqa: F401,F403
