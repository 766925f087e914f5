# Copyright (c) m2df_mmaction contributors.
__version__ = '0.1.0'
