# Copyright (c) m2df_mmaction contributors.
"""Clear errors for two common config mistakes.

MMEngine's ``merge_from_dict`` silently *adds* an unknown key given with
``--cfg-options`` (a typo then changes nothing), and a misspelled ``type``
fails with "X is not in the mmaction::model registry" without saying what
the registry does hold. These helpers turn both into errors that name the
key or type and the closest known names.
"""
import contextlib
import difflib
import re
from typing import Iterable, Iterator, List, Optional

from mmengine.config import Config

__all__ = ['check_cfg_options', 'explain_registry_error', 'registry_hints']


def _closest(name: str, candidates: Iterable[str], n: int = 5) -> List[str]:
    return difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.5)


def check_cfg_options(cfg: Config, options: Optional[dict]) -> None:
    """Refuse ``--cfg-options`` keys that the config does not have.

    A key may end in a new name inside an existing dict (``a.b.new=1`` adds
    an argument to ``a.b``; a misspelt argument then fails when the object
    is built), but every dict on the way, and a top-level key, must exist;
    list items are addressed by index (``param_scheduler.0.end``).

    Args:
        cfg (Config): The loaded config.
        options (dict, optional): ``{dotted.key: value}`` from the command
            line.

    Raises:
        KeyError: Naming the key, the missing part and the closest names.
    """
    for key in options or {}:
        if key == 'fewshot_dataset':  # a new key (utils/fewshot_dataset.py)
            continue
        node = cfg._cfg_dict if isinstance(cfg, Config) else cfg
        parts = key.split('.')
        walk = parts[:-1] if len(parts) > 1 else parts
        for depth, part in enumerate(walk):
            path = '.'.join(parts[:depth + 1])
            if isinstance(node, (list, tuple)):
                if not part.isdigit() or int(part) >= len(node):
                    raise KeyError(
                        f'--cfg-options {key}: {path} is not an index of a '
                        f'list of {len(node)} items.')
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                known = list(node) if isinstance(node, dict) else []
                hint = _closest(part, known)
                raise KeyError(
                    f'--cfg-options {key}: the config has no {path!r}'
                    + (f'; did you mean {", ".join(hint)}?' if hint else '.'))
            if len(parts) > 1 and not isinstance(node, (dict, list, tuple)):
                raise KeyError(f'--cfg-options {key}: {path} is a value, '
                               'not a dict or list.')


_REGISTRY_ERROR = re.compile(
    r'(?P<name>\S+) is not in the (?P<scope>[\w.]+)::(?P<registry>[\w ]+) '
    r'registry')


def explain_registry_error(error: BaseException) -> Optional[str]:
    """Closest known names for an unknown ``type`` in a config.

    Args:
        error (BaseException): The error a build raised.

    Returns:
        str, optional: A message naming the registry and the closest
        registered names, or None if ``error`` is not about an unknown type.
    """
    match = _REGISTRY_ERROR.search(str(error))
    if match is None:
        return None
    from mmaction import registry as mmaction_registry
    name = match.group('name').strip('\'"`')
    registry_name = match.group('registry')
    registry = None
    for value in vars(mmaction_registry).values():
        if getattr(value, 'name', None) == registry_name and getattr(
                value, 'scope', None) == match.group('scope'):
            registry = value
            break
    known = set()
    while registry is not None:
        known.update(registry.module_dict)
        registry = registry.parent
    hint = _closest(name, known)
    return (f'{name!r} is not a registered {registry_name} type '
            f'(registry {match.group("scope")}::{registry_name})'
            + (f'; closest known names: {", ".join(hint)}.' if hint else '.'))


@contextlib.contextmanager
def registry_hints() -> Iterator[None]:
    """Re-raise "not in the registry" errors with the closest known names.

    Example:
        >>> with registry_hints():
        ...     runner = Runner.from_cfg(cfg)
    """
    try:
        yield
    except KeyError as error:
        message = explain_registry_error(error)
        if message is None:
            raise
        raise KeyError(message) from error
