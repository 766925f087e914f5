# Copyright (c) m2df_mmaction contributors.
__all__ = []
