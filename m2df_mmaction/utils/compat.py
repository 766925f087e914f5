# Copyright (c) m2df_mmaction contributors.
"""Fixes for two defects of the pinned upstream stack, applied on import.

Importing :mod:`m2df_mmaction` runs this module first, so no user ever sets an
environment variable or patches ``site-packages``. Both fixes are idempotent
and do nothing where upstream is already right.

1. **mmaction2 1.2.0 wheel without ``localizers/drn``** (upstream issue
   #2714). ``mmaction/models/localizers/__init__.py`` imports
   ``.drn.drn.DRN``, a sub-package the PyPI wheel does not ship, so
   ``import mmaction.models`` (and with it ``register_all_modules()``, the
   Runner and every ``default_scope='mmaction'`` build) fails. When the
   folder is missing we put a placeholder module in ``sys.modules`` whose
   ``DRN`` raises a clear error if anyone actually builds it. Nothing else of
   MMAction2 depends on DRN.

2. **mmengine 0.10.7 and ``torch.load(weights_only=True)``**. Since torch
   2.6 ``torch.load`` defaults to ``weights_only=True``, and mmengine calls it
   without the argument, so it cannot read its own checkpoints: their
   ``message_hub`` holds :class:`~mmengine.logging.HistoryBuffer` objects
   backed by numpy arrays. Instead of turning the safety off (which would let
   any pickle run code), we add exactly the classes that MMEngine's own
   metadata is made of to torch's allow-list of safe globals. Weights,
   optimizer and scheduler states are tensors and plain containers, which
   the weights-only unpickler already accepts; a pickle that asks for any
   other global (``os.system``, say) is still refused.
   ``HistoryBuffer.__getstate__`` also pickles its statistics methods, as
   ``getattr(HistoryBuffer, 'mean')``; rather than allowing the builtin
   ``getattr`` (which would reach any attribute of any allowed object), the
   pickled name ``builtins.getattr`` resolves to
   :func:`_history_buffer_getattr`, which only returns those methods.
"""
import importlib.util
import os.path as osp
import pickle
import sys
import types
from typing import List

import numpy as np
import torch

__all__ = ['patch_missing_drn', 'allow_mmengine_checkpoint_globals']


def patch_missing_drn() -> bool:
    """Stand in for ``mmaction.models.localizers.drn`` if the wheel lacks it.

    Returns:
        bool: True if the placeholder was installed.
    """
    name = 'mmaction.models.localizers.drn'
    if name in sys.modules:
        return False
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return False
    root = list(spec.submodule_search_locations)[0]
    if osp.isdir(osp.join(root, 'models', 'localizers', 'drn')):
        return False

    class DRN:  # noqa: D101  (placeholder, see module docstring)

        def __init__(self, *args, **kwargs):
            raise ImportError(
                'DRN is not part of the installed mmaction2 wheel (upstream '
                'issue #2714); install mmaction2 from source to use it.')

    package = types.ModuleType(name)
    package.__path__ = []  # a package, so that `.drn.drn` resolves
    module = types.ModuleType(name + '.drn')
    module.DRN = DRN
    package.drn = module
    sys.modules[name] = package
    sys.modules[name + '.drn'] = module
    return True


def _history_buffer_getattr(owner: object, name: str) -> object:
    """``getattr`` restricted to the statistics methods of HistoryBuffer.

    Stands in for ``builtins.getattr`` while torch unpickles weights-only.
    """
    from mmengine.logging import HistoryBuffer

    if owner is HistoryBuffer and \
            name in HistoryBuffer._statistics_methods:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'weights-only load: getattr({owner!r}, {name!r}) is not allowed; '
        'only the statistics methods of mmengine HistoryBuffer are.')


def _mmengine_checkpoint_globals() -> List[object]:
    """The classes MMEngine's checkpoint metadata pickles, beyond tensors."""
    from mmengine.logging import HistoryBuffer

    # registers the default statistics methods (min, max, current, mean)
    HistoryBuffer()
    globals_ = [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        # numpy's pickle protocol: arrays and scalars are rebuilt by these.
        np.core.multiarray._reconstruct,
        np.core.multiarray.scalar,
    ]
    # One dtype class per concrete dtype (numpy >= 1.25 pickles dtypes by
    # their class, e.g. ``numpy.dtypes.Float64DType``).
    for char in '?bBhHiIlLqQefdgFDGSUV':
        globals_.append(type(np.dtype(char)))
    return globals_


def allow_mmengine_checkpoint_globals() -> bool:
    """Allow MMEngine's checkpoint metadata under weights-only loading.

    Returns:
        bool: True if torch has an allow-list (torch >= 2.4) and it was
        extended.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:  # torch < 2.4 loads without the check
        return False
    add_safe_globals(_mmengine_checkpoint_globals())
    return True


patch_missing_drn()
allow_mmengine_checkpoint_globals()
