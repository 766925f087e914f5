# Copyright (c) m2df_mmaction contributors.
"""Readable class names, indexed by dataset label."""
from typing import List, Sequence, Union

from mmengine.fileio import get_text

__all__ = ['load_class_names']


def load_class_names(source: Union[str, Sequence[str]]) -> List[str]:
    """Load class names from a file (one per line, line i = label i).

    Args:
        source (str | Sequence[str]): A text file, or the names themselves.

    Returns:
        list[str]: The names, stripped of surrounding white space.

    Raises:
        ValueError: On an empty name (naming the file and line) or a
            repeated name.
    """
    if isinstance(source, str):
        lines = get_text(source).splitlines()
        while lines and not lines[-1].strip():  # a trailing newline is fine
            lines.pop()
        origin = source
    else:
        lines = [str(name) for name in source]
        origin = 'class_names'
    names = []
    first_seen = {}
    for lineno, line in enumerate(lines, start=1):
        name = line.strip()
        if not name:
            raise ValueError(f'{origin}, line {lineno}: empty class name.')
        if name in first_seen:
            raise ValueError(
                f'{origin}, line {lineno}: class name {name!r} repeats '
                f'line {first_seen[name]}.')
        first_seen[name] = lineno
        names.append(name)
    if not names:
        raise ValueError(f'{origin}: no class names.')
    return names
