# Copyright (c) m2df_mmaction contributors.
"""Check an MMAction2 annotation file line by line before it is parsed."""
from typing import List

from mmengine.fileio import get_text

__all__ = ['check_annotation_file']

# Tokens per line and which of them are integers (by position from the end).
_FORMATS = {
    'VideoDataset': ('<video path> <label>', 2, (-1, )),
    'RawframeDataset': ('<frame dir> <total frames> <label>', 3, (-2, -1)),
}
_MAX_LISTED = 10


def _blank_lines_error(ann_file: str, blank: List[int]) -> ValueError:
    """Name every blank line; MMAction2 would read each as a video."""
    if len(blank) == 1:
        where = f'line {blank[0]} is blank'
    else:
        shown = ', '.join(str(n) for n in blank[:_MAX_LISTED])
        more = f' (and {len(blank) - _MAX_LISTED} more)' \
            if len(blank) > _MAX_LISTED else ''
        where = f'lines {shown}{more} are blank'
    return ValueError(
        f'{ann_file}: {where} (empty or white space only). MMAction2 reads '
        'every line as a video, a blank one as the data_prefix folder '
        "itself (\"failed to load video '<data_prefix>/'\" when an episode "
        'draws it). Delete the blank lines, e.g. '
        f"`sed -i '/^[[:space:]]*$/d' {ann_file}` (the newline that ends "
        'the last line is fine).')


def check_annotation_file(ann_file: str,
                          dataset_type: str,
                          delimiter: str = ' ',
                          with_offset: bool = False) -> int:
    """Refuse a malformed annotation file, naming the line.

    MMAction2's parsers split each line and fail with a bare
    ``IndexError``/``ValueError``, or silently take a wrong field, on a bad
    line; a blank (or white-space-only) line even becomes a video named
    ``''``, i.e. the ``data_prefix`` folder, which fails only when an
    episode draws it. This check names the file, the line numbers and the
    expected form. Blank lines are refused, not skipped (wherever they are,
    the end of the file included): the dataset would not skip them.

    Args:
        ann_file (str): Annotation file of a ``VideoDataset`` (``<path>
            <label>``) or ``RawframeDataset`` (``<dir> <frames> <label>``,
            ``<dir> <offset> <frames> <label>`` with ``with_offset``).
        dataset_type (str): ``'VideoDataset'`` or ``'RawframeDataset'``;
            other types are not checked.
        delimiter (str): The ``VideoDataset``'s field separator, as it
            splits (exactly one per gap). Defaults to ``' '``.
        with_offset (bool): The ``RawframeDataset``'s ``with_offset``.
            Defaults to False.

    Returns:
        int: The number of annotation lines (0 if not checked).

    Raises:
        ValueError: On an empty file, blank lines or a malformed line.
    """
    if dataset_type not in _FORMATS:
        return 0
    form, width, int_fields = _FORMATS[dataset_type]
    if dataset_type == 'RawframeDataset' and with_offset:
        form, width, int_fields = (
            '<frame dir> <offset> <total frames> <label>', 4, (-3, -2, -1))
    # MMAction2's VideoDataset splits on each delimiter (two spaces make an
    # empty field); RawframeDataset on any run of white space.
    split_exactly = dataset_type == 'VideoDataset'
    count = 0
    blank = []
    for lineno, line in enumerate(get_text(ann_file).splitlines(), start=1):
        if not line.strip():
            blank.append(lineno)
            continue
        count += 1
        tokens = line.strip().split(delimiter) if split_exactly else \
            line.split()
        problem = None
        if split_exactly and delimiter.isspace() and tokens != line.split():
            problem = (f'fields must be separated by exactly one '
                       f'{delimiter!r} (MMAction2 splits on each one); '
                       'found tabs or repeated separators')
        elif len(tokens) != width:
            problem = f'{len(tokens)} fields, expected {width}'
        else:
            for pos in int_fields:
                token = tokens[pos].strip()
                if not token.lstrip('-').isdigit() or int(token) < 0:
                    problem = f'{tokens[pos]!r} is not a non-negative integer'
                    break
        if problem:
            paths = ' (paths without spaces)' if delimiter.isspace() else ''
            raise ValueError(
                f'{ann_file}, line {lineno}: {problem} ({line.strip()!r}); '
                f'each line of a {dataset_type} annotation file is "{form}"'
                f'{paths}.')
    if count == 0:
        raise ValueError(f'{ann_file}: the annotation file is empty.')
    if blank:
        raise _blank_lines_error(ann_file, blank)
    return count
