# Copyright (c) m2df_mmaction contributors.
"""Captions of compositions: the phrase grammar, its parser, the subject
(appearance) of a caption and the text template of class names.

A caption is ``<subject> <motion phrase>``:

- the *subject* is ``'a shape'``, ``'a <colour> shape'``, ``'a <shape>'`` or
  ``'a <colour> <shape>'`` (``'an'`` before a vowel), e.g. ``'a red
  arrow'``;
- the *motion phrase* joins the phrases of the composition's channels with
  ``' while '``, in the order path, visibility, scale, rotation, colour
  change, e.g. ``'quickly moving left then up while fading out while
  growing'``. A composition with nothing moving is ``'standing still'``.

The few-shot benchmark's class names are motion phrases of this grammar
(``'moving right then up'``, ``'fading in while growing'``, ...), so a class
name put in :data:`CLASS_TEMPLATE` is exactly the caption that a clip of
that class with the generic subject would get: ``'a shape moving right then
up'``. Set ``OpenCLIPText(template=CLASS_TEMPLATE)`` for a tiny CLIP
pretrained on the captioned world.
"""
import re
from typing import Dict, Iterable, List, Optional, Set, Tuple

from .compositions import (ORBIT_SENSES, SCALES, SPEEDS, TURN_ANGLES,
                           Composition, rotate_direction)
from .programs import DIRECTIONS
from .video_params import COLOR_HUES, SHAPE_NAMES

__all__ = [
    'CLASS_TEMPLATE', 'GENERIC_NOUN', 'motion_phrase', 'subject_phrase',
    'caption', 'parse_motion_phrase', 'parse_caption', 'clause_table',
    'caption_words'
]

#: Text template of class names for a tiny CLIP pretrained on the world.
CLASS_TEMPLATE = 'a shape {}'
#: The noun of a subject without a shape name.
GENERIC_NOUN = 'shape'
_STILL = 'standing still'
_JOIN = ' while '

_SCALE_PHRASES = {
    'grow': 'growing',
    'shrink': 'shrinking',
    'grow_then_still': 'growing then still',
    'still_then_shrink': 'still then shrinking',
    'still_then_grow': 'still then growing',
    'shrink_then_still': 'shrinking then still',
}
_VISIBILITY_PHRASES = {
    'fade_in': 'fading in',
    'fade_out': 'fading out',
    'appear': 'appearing',
    'vanish': 'vanishing',
}
_ROTATION_PHRASES = {
    'cw': 'rotating clockwise',
    'ccw': 'rotating counter-clockwise',
    'cw_then_still': 'rotating clockwise then still',
    'still_then_ccw': 'still then rotating counter-clockwise',
    'still_then_cw': 'still then rotating clockwise',
    'ccw_then_still': 'rotating counter-clockwise then still',
}
_ADVERBS = {'normal': '', 'slow': 'slowly ', 'fast': 'quickly '}


def _path_phrase(path: Tuple[str, ...], speed: str) -> str:
    kind, dirs = path[0], path[1:]
    adv = _ADVERBS[speed]
    if kind == 'static':
        return ''
    if kind == 'orbit':
        return f'{adv}orbiting {dirs[0]}'
    if kind == 'straight':
        return f'{adv}moving {dirs[0]}'
    if kind == 'turn':
        return f'{adv}moving {dirs[0]} then {dirs[1]}'
    if kind == 'still_then_move':
        return f'still then {adv}moving {dirs[0]}'
    return f'{adv}moving {dirs[0]} then still'  # move_then_still


def motion_phrase(comp: Composition) -> str:
    """The motion phrase of a composition (class-name style).

    Example:
        >>> motion_phrase(Composition(('turn', 'right', 'up')))
        'moving right then up'
        >>> motion_phrase(Composition(scale='grow', visibility='fade_in'))
        'fading in while growing'
    """
    clauses = [
        _path_phrase(comp.path, comp.speed),
        _VISIBILITY_PHRASES.get(comp.visibility, ''),
        _SCALE_PHRASES.get(comp.scale, ''),
        _ROTATION_PHRASES.get(comp.rotation, ''),
        f'turning {comp.color_change}' if comp.color_change else '',
    ]
    clauses = [c for c in clauses if c]
    return _JOIN.join(clauses) if clauses else _STILL


def _article(word: str) -> str:
    return 'an' if word[0] in 'aeiou' else 'a'


def subject_phrase(color: Optional[str] = None,
                   shape: Optional[str] = None) -> str:
    """``'a shape'``, ``'a red shape'``, ``'an arrow'``, ``'a red arrow'``.

    Args:
        color (str, optional): A colour name of
            :data:`~.video_params.COLOR_HUES`, or None to leave it out.
        shape (str, optional): A shape name of
            :data:`~.video_params.SHAPE_NAMES`, or None for the generic noun.
    """
    words = [w for w in (color, shape or GENERIC_NOUN) if w]
    return f'{_article(words[0])} {" ".join(words)}'


def caption(comp: Composition,
            color: Optional[str] = None,
            shape: Optional[str] = None) -> str:
    """The caption of a clip: subject and motion phrase.

    Example:
        >>> caption(Composition(('orbit', 'clockwise'), scale='shrink'),
        ...         color='blue')
        'a blue shape orbiting clockwise while shrinking'
        >>> caption(Composition(('straight', 'up')), shape='arrow')
        'an arrow moving up'
    """
    return f'{subject_phrase(color, shape)} {motion_phrase(comp)}'


def clause_table() -> Dict[str, Tuple[str, object, str]]:
    """Every clause of the grammar: ``phrase -> (channel, value, speed)``.

    ``channel`` is ``'path'`` (value: the path tuple), ``'scale'``,
    ``'visibility'``, ``'rotation'`` or ``'color_change'``; ``speed`` is
    the path's speed (``'normal'`` for the other channels).

    Raises:
        AssertionError: Never, unless two clauses share a phrase (the
            grammar would be ambiguous).
    """
    table: Dict[str, Tuple[str, object, str]] = {}

    def add(phrase, entry):
        assert phrase not in table, f'ambiguous clause {phrase!r}'
        table[phrase] = entry

    paths: List[Tuple[str, ...]] = [('orbit', s) for s in ORBIT_SENSES]
    for d in DIRECTIONS:
        paths += [('straight', d), ('still_then_move', d),
                  ('move_then_still', d)]
        paths += [('turn', d, rotate_direction(d, a)) for a in TURN_ANGLES]
    for path in paths:
        for speed in SPEEDS:
            add(_path_phrase(path, speed), ('path', path, speed))
    for channel, phrases in (('scale', _SCALE_PHRASES),
                             ('visibility', _VISIBILITY_PHRASES),
                             ('rotation', _ROTATION_PHRASES)):
        for value, phrase in phrases.items():
            add(phrase, (channel, value, 'normal'))
    for color in COLOR_HUES:
        add(f'turning {color}', ('color_change', color, 'normal'))
    assert set(_SCALE_PHRASES) == set(SCALES[1:])
    return table


_CLAUSES = clause_table()
_SUBJECT = re.compile(r'^(a|an) (?:({colors}) )?({nouns}) (.+)$'.format(
    colors='|'.join(COLOR_HUES),
    nouns='|'.join((GENERIC_NOUN, ) + SHAPE_NAMES)))


def parse_motion_phrase(phrase: str) -> Composition:
    """The composition a motion phrase (e.g. a class name) describes.

    The inverse of :func:`motion_phrase`; clauses may come in any order.

    Args:
        phrase (str): e.g. ``'still then moving left'``.

    Returns:
        Composition: The motion.

    Raises:
        ValueError: The phrase is not in the grammar (an unknown clause, a
            channel given twice, ...).

    Example:
        >>> parse_motion_phrase('moving down while shrinking').motion_key
        (('straight', 'down'), 'shrink', 'visible', 'none')
    """
    if phrase == _STILL:
        return Composition()
    fields: Dict[str, object] = {}
    for clause in phrase.split(_JOIN):
        if clause not in _CLAUSES:
            raise ValueError(f'{phrase!r}: {clause!r} is not a clause of '
                             f'the caption grammar')
        channel, value, speed = _CLAUSES[clause]
        if channel in fields:
            raise ValueError(f'{phrase!r}: {channel} given twice')
        fields[channel] = value
        if channel == 'path':
            fields['speed'] = speed
    return Composition(**fields)  # type: ignore[arg-type]


def parse_caption(text: str) -> Tuple[Composition, Optional[str],
                                      Optional[str]]:
    """Split a caption into its composition, colour and shape names.

    Args:
        text (str): e.g. ``'a red arrow moving up'``.

    Returns:
        tuple: ``(composition, color or None, shape or None)``.

    Raises:
        ValueError: ``text`` is not a caption of the grammar.
    """
    m = _SUBJECT.match(text)
    if m is None:
        raise ValueError(f'{text!r} does not start with a subject '
                         f'("a shape", "a red arrow", ...)')
    article, color, noun, rest = m.groups()
    shape = None if noun == GENERIC_NOUN else noun
    if article != _article(color or noun):
        raise ValueError(f'{text!r}: wrong article')
    return parse_motion_phrase(rest), color, shape


def caption_words(texts: Iterable[str]) -> Set[str]:
    """The whitespace-separated words of some texts."""
    return {w for t in texts for w in t.split()}
