# Copyright (c) m2df_mmaction contributors.
"""Known input errors and the error boundary of the command-line tools.

A bad input a person can fix (a missing file, a wrong option, a checkpoint
of another model) ends a tool with one line, ``<tool>: error: <message>``,
and exit status 1, instead of a traceback of 8-21 frames. The traceback is
shown with ``--debug`` (any tool) or the environment variable
``M2DF_DEBUG=1``, and always for errors that look like bugs.

What counts as a known input error (:func:`is_input_error`):

- :class:`UserInputError` (and :class:`UserKeyError`), raised anywhere;
- ``FileNotFoundError``, ``IsADirectoryError``, ``NotADirectoryError`` and
  ``PermissionError``, raised anywhere (they name the file);
- ``ValueError``, ``KeyError``, ``TypeError``, ``RuntimeError`` and
  ``FloatingPointError`` raised by a check of this project (the innermost
  frame of the traceback is in ``m2df_mmaction``, ``tools`` or ``demo``):
  the project's checks raise these with a message that names the culprit
  (see ``docs/troubleshooting.md``). The same types raised inside torch or
  MMEngine keep their traceback.

Example:
    >>> if __name__ == '__main__':
    ...     sys.exit(run_main(main))
"""
import ast
import os
import os.path as osp
import re
import sys
import traceback
from typing import Callable, List, Optional, Sequence, Tuple

__all__ = [
    'UserInputError', 'UserKeyError', 'is_input_error', 'error_message',
    'debug_requested', 'run_main', 'install_excepthook', 'DEBUG_HELP'
]

#: The help text of ``--debug`` (for a tool's ``argparse`` parser).
DEBUG_HELP = ('show the full traceback of an error (also: environment '
              'variable M2DF_DEBUG=1)')

_ENV = 'M2DF_DEBUG'
_ANYWHERE = (FileNotFoundError, IsADirectoryError, NotADirectoryError,
             PermissionError)
_FROM_PROJECT = (ValueError, KeyError, TypeError, RuntimeError,
                 FloatingPointError)
_PROJECT_DIRS = tuple(
    osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
             name) + os.sep for name in ('m2df_mmaction', 'tools', 'demo'))


class UserInputError(ValueError):
    """A bad input the user can fix; the message says which and how.

    Tools print it as one line without a traceback (:func:`run_main`).
    """


class UserKeyError(UserInputError, KeyError):
    """A :class:`UserInputError` that is also a ``KeyError`` (a key of a
    config or checkpoint); prints its message as written (``KeyError``
    itself would print the repr, with literal ``\\n``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


_WORKER_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+', re.M)


def _worker_error(error: BaseException) -> Optional[Tuple[str, str]]:
    """The file and message of the original error of a DataLoader worker.

    torch re-raises a worker's error in the main process as the same type
    with the worker's traceback as text ("Caught ValueError in DataLoader
    worker process 0. Original Traceback (most recent call last): ...").
    """
    text = str(error)
    if 'Original Traceback' not in text:
        return None
    frames = list(_WORKER_FRAME.finditer(text))
    if not frames:
        return None
    rest = text[frames[-1].end():].splitlines()[1:]
    # the innermost frame's source line(s) are indented, the error is not
    while rest and (rest[0].startswith(' ') or not rest[0].strip()):
        rest = rest[1:]
    message = '\n'.join(rest).strip()
    kind, _, text = message.partition(': ')
    if text and kind.replace('.', '').isidentifier():
        message = text  # without "ValueError: "
        if kind.endswith('KeyError'):  # printed as the repr of its message
            try:
                message = str(ast.literal_eval(text))
            except (ValueError, SyntaxError):
                pass
    return frames[-1].group('file'), message


def _raised_by_project(error: BaseException) -> bool:
    """Whether the innermost frame of ``error``'s traceback is ours."""
    worker = _worker_error(error)
    if worker is not None:
        return osp.abspath(worker[0]).startswith(_PROJECT_DIRS)
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return False
    return osp.abspath(frames[-1].filename).startswith(_PROJECT_DIRS)


def is_input_error(error: BaseException) -> bool:
    """Whether ``error`` is a known input error (see the module docstring).

    Args:
        error (BaseException): The error that ended a tool.

    Returns:
        bool: True if a one-line message serves the user better than a
        traceback.
    """
    if isinstance(error, (UserInputError, ) + _ANYWHERE):
        return True
    return isinstance(error, _FROM_PROJECT) and _raised_by_project(error)


def error_message(error: BaseException) -> str:
    """The message of ``error`` as written.

    A ``KeyError``'s ``str()`` is the repr of its argument (quotes and
    literal ``\\n``); this returns the argument itself. An ``OSError``
    with a file name and no message of its own gets the file name.
    """
    worker = _worker_error(error)
    if worker is not None and worker[1]:
        return worker[1]
    if isinstance(error, KeyError) and len(error.args) == 1:
        return str(error.args[0])
    if isinstance(error, OSError) and error.filename is not None and \
            error.strerror:
        return f'{error.filename}: {error.strerror}'
    return str(error) or type(error).__name__


def debug_requested(argv: Optional[Sequence[str]] = None) -> bool:
    """Whether ``--debug`` is in ``argv`` or ``M2DF_DEBUG`` is set (not
    empty, ``0``, ``false`` or ``no``)."""
    if argv is not None and '--debug' in argv:
        return True
    value = os.environ.get(_ENV, '').strip().lower()
    return value not in ('', '0', 'false', 'no')


def _report(error: BaseException, prog: str) -> None:
    print(f'{prog}: error: {error_message(error)}', file=sys.stderr)
    print(f'(--debug or {_ENV}=1 shows the traceback)', file=sys.stderr)


def run_main(main: Callable, argv: Optional[Sequence[str]] = None,
             prog: Optional[str] = None) -> int:
    """Run a tool's ``main(argv)`` inside the error boundary.

    ``--debug`` is taken out of ``argv`` (so every tool accepts it), and
    known input errors become one message on stderr and exit status 1.

    Args:
        main (Callable): The tool's ``main(argv)``; it may return an exit
            status, or anything else for 0 (``tools/test.py`` returns its
            metrics).
        argv (Sequence[str], optional): The arguments. Defaults to
            ``sys.argv[1:]``.
        prog (str, optional): The tool's name in the message. Defaults to
            the file name of ``sys.argv[0]``.

    Returns:
        int: The exit status.
    """
    argv: List[str] = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(argv)
    argv = [arg for arg in argv if arg != '--debug']
    prog = prog or osp.basename(sys.argv[0])
    try:
        status = main(argv)
    except Exception as error:  # noqa: B902  (the boundary itself)
        if debug or not is_input_error(error):
            raise
        _report(error, prog)
        return 1
    return status if isinstance(status, int) else 0


def install_excepthook(prog: Optional[str] = None) -> None:
    """The error boundary for a tool whose ``main()`` reads ``sys.argv``.

    Takes ``--debug`` out of ``sys.argv`` and installs a ``sys.excepthook``
    that prints a known input error as one message (exit status 1, as
    for any uncaught error).

    Args:
        prog (str, optional): The tool's name in the message. Defaults to
            the file name of ``sys.argv[0]``.
    """
    debug = debug_requested(sys.argv[1:])
    sys.argv[1:] = [arg for arg in sys.argv[1:] if arg != '--debug']
    prog = prog or osp.basename(sys.argv[0])
    default_hook = sys.excepthook

    def hook(kind, error, tb):
        if debug or not isinstance(error, Exception) or \
                not is_input_error(error):
            default_hook(kind, error, tb)
        else:
            _report(error, prog)

    sys.excepthook = hook
