# Copyright (c) m2df_mmaction contributors.
"""Check an MMAction2 annotation file line by line before it is parsed."""
from mmengine.fileio import get_text

__all__ = ['check_annotation_file']

# Tokens per line and which of them are integers (by position from the end).
_FORMATS = {
    'VideoDataset': ('<video path> <label>', 2, (-1, )),
    'RawframeDataset': ('<frame dir> <total frames> <label>', 3, (-2, -1)),
}


def check_annotation_file(ann_file: str, dataset_type: str) -> int:
    """Refuse a malformed annotation file, naming the line.

    MMAction2's parsers split each line on white space and fail with a bare
    ``IndexError``/``ValueError`` (or silently take a wrong field) on a bad
    line; this check names the file, the line number and the expected form.

    Args:
        ann_file (str): Annotation file of a ``VideoDataset`` (``<path>
            <label>``) or ``RawframeDataset`` (``<dir> <frames> <label>``).
        dataset_type (str): ``'VideoDataset'`` or ``'RawframeDataset'``;
            other types are not checked.

    Returns:
        int: The number of annotation lines (0 if not checked).

    Raises:
        ValueError: On an empty file or a malformed line.
    """
    if dataset_type not in _FORMATS:
        return 0
    form, width, int_fields = _FORMATS[dataset_type]
    count = 0
    for lineno, line in enumerate(get_text(ann_file).splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        count += 1
        problem = None
        if len(tokens) != width:
            problem = f'{len(tokens)} fields, expected {width}'
        else:
            for pos in int_fields:
                if not tokens[pos].lstrip('-').isdigit() or \
                        int(tokens[pos]) < 0:
                    problem = f'{tokens[pos]!r} is not a non-negative integer'
                    break
        if problem:
            raise ValueError(
                f'{ann_file}, line {lineno}: {problem} ({line.strip()!r}); '
                f'each line of a {dataset_type} annotation file is "{form}" '
                '(paths without spaces).')
    if count == 0:
        raise ValueError(f'{ann_file}: the annotation file is empty.')
    return count
