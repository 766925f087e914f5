# Copyright (c) m2df_mmaction contributors.
"""Fixes for defects of the pinned upstream stack, applied on import.

Importing :mod:`m2df_mmaction` runs this module first, so no user ever sets an
environment variable or patches ``site-packages``. The fixes are idempotent
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

3. **Noise a user reads as trouble.** mmcv-lite warns on every import of
   ``mmcv.cnn`` that it lacks ``MultiScaleDeformableAttention`` (a CUDA op
   of detection models, which nothing here uses): that one warning is
   filtered before anything imports ``mmcv.cnn``
   (:func:`silence_mmcv_lite_warning`). MMEngine's optimizer constructor
   warns once per frozen parameter ("text_encoder.* is skipped since its
   requires_grad=False", 17 lines for the tiny CLIP's frozen text tower,
   ~150 for ViT-B/16) whenever ``paramwise_cfg`` is set: those become one
   INFO line that counts them per module
   (:func:`summarize_frozen_parameters`). MMEngine's deprecation notices
   of ``FileClient`` and ``HardDiskBackend`` (MMAction2's loading
   transforms use them; a user cannot act on them) are dropped
   (:func:`silence_file_client_deprecation`).
"""
import functools
import importlib.util
import logging
import os.path as osp
import pickle
import re
import sys
import types
import warnings
from collections import Counter
from typing import List

import numpy as np
import torch

__all__ = [
    'patch_missing_drn', 'allow_mmengine_checkpoint_globals',
    'silence_mmcv_lite_warning', 'summarize_frozen_parameters',
    'silence_file_client_deprecation'
]


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


def silence_mmcv_lite_warning() -> None:
    """Filter mmcv-lite's ``MultiScaleDeformableAttention`` import warning
    (that warning only: its message is matched)."""
    warnings.filterwarnings(
        'ignore',
        message=r'Fail to import ``MultiScaleDeformableAttention``',
        category=UserWarning)


_FROZEN = re.compile(r'^(?P<name>\S+) is skipped since its '
                     r'requires_grad=False$')


class _FrozenParameters(logging.Filter):
    """Collects (and drops) MMEngine's per-parameter "skipped" warnings."""

    def __init__(self):
        super().__init__()
        self.names: List[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        match = _FROZEN.match(record.getMessage())
        if match is None:
            return True
        self.names.append(match.group('name').lstrip('.'))
        return False


def summarize_frozen_parameters() -> bool:
    """One log line instead of one warning per frozen parameter.

    Wraps ``DefaultOptimWrapperConstructor.__call__`` (subclasses that do
    not override it included): during the call a filter on MMEngine's
    current logger collects the "... is skipped since its
    requires_grad=False" warnings, and afterwards one INFO line says how
    many parameters of which modules are frozen.

    Returns:
        bool: True if the constructor was wrapped now.
    """
    from mmengine.logging import MMLogger, print_log
    from mmengine.optim import DefaultOptimWrapperConstructor

    original = DefaultOptimWrapperConstructor.__call__
    if getattr(original, '_m2df_frozen_summary', False):
        return False

    @functools.wraps(original)
    def __call__(self, model):
        collector = _FrozenParameters()
        logger = MMLogger.get_current_instance()
        logger.addFilter(collector)
        try:
            return original(self, model)
        finally:
            logger.removeFilter(collector)
            if collector.names:
                modules = Counter(n.split('.')[0] for n in collector.names)
                print_log(
                    f'Optimizer: {len(collector.names)} parameters are '
                    'frozen by the model (requires_grad=False) and not '
                    'optimised: '
                    + ', '.join(f'{m}.* ({c})' for m, c in modules.items()),
                    logger='current')

    __call__._m2df_frozen_summary = True
    DefaultOptimWrapperConstructor.__call__ = __call__
    return True


_FILE_CLIENT_NOTICES = ('"FileClient" will be deprecated',
                        '"HardDiskBackend" is the alias of "LocalBackend"')


def silence_file_client_deprecation() -> bool:
    """Drop MMEngine's two deprecation notices of ``FileClient``.

    ``mmengine.fileio.file_client`` logs them each time a ``FileClient``
    is made (every loading transform, in every worker); only that module's
    ``print_log`` is wrapped, and only those two messages are dropped.

    Returns:
        bool: True if the module's ``print_log`` was wrapped now.
    """
    from mmengine.fileio import file_client
    original = file_client.print_log
    if getattr(original, '_m2df_quiet', False):
        return False

    @functools.wraps(original)
    def print_log(msg, *args, **kwargs):
        if isinstance(msg, str) and msg.startswith(_FILE_CLIENT_NOTICES):
            return None
        return original(msg, *args, **kwargs)

    print_log._m2df_quiet = True
    file_client.print_log = print_log
    return True


silence_mmcv_lite_warning()
patch_missing_drn()
allow_mmengine_checkpoint_globals()
summarize_frozen_parameters()
silence_file_client_deprecation()
