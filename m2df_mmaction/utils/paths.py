# Copyright (c) m2df_mmaction contributors.
"""Files shipped inside the package, named in configs from the repository
root (``m2df_mmaction/synthetic/...``), found from any working directory."""
import os.path as osp

__all__ = ['shipped_path']

_PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))


def shipped_path(path: str) -> str:
    """``path`` if it exists; else, for a path starting with
    ``m2df_mmaction/``, the package's own file of that name (so a config
    run from another directory, or against an installed package, still
    finds the shipped weights and class descriptions); else ``path``."""
    path = osp.expanduser(str(path))
    if osp.exists(path) or not path.startswith('m2df_mmaction/'):
        return path
    shipped = osp.join(osp.dirname(_PACKAGE), path)
    return shipped if osp.exists(shipped) else path
