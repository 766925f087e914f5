# Copyright (c) m2df_mmaction contributors.
"""The motion keys of the caption grammar, and those of the benchmark.

A composition's *motion key* is ``(path, scale, visibility, rotation)``
(:attr:`~.compositions.Composition.motion_key`). The captioned world
(:mod:`.captioned_world`) never draws the key of a class of the few-shot
benchmark: :func:`benchmark_motion_keys` is what it excludes, out of
:func:`all_motion_keys`.
"""
from typing import Dict, FrozenSet, List, Tuple

from .captions import parse_motion_phrase
from .compositions import (ORBIT_SENSES, ROTATIONS, SCALES, TURN_ANGLES,
                           VISIBILITIES, Composition, MotionKey,
                           rotate_direction)
from .motion_benchmark import CLASS_CATALOGUE, SPLITS
from .programs import DIRECTIONS

__all__ = [
    'benchmark_compositions', 'benchmark_motion_keys', 'all_motion_keys'
]


def benchmark_compositions() -> Dict[str, Composition]:
    """Class name -> composition, for all 48 classes of the benchmark.

    Raises:
        ValueError: A class name that the caption grammar cannot parse
            (the benchmark and the grammar would disagree).
    """
    return {
        c.name: parse_motion_phrase(c.name)
        for s in SPLITS for c in CLASS_CATALOGUE[s]
    }


def benchmark_motion_keys() -> FrozenSet[MotionKey]:
    """The motion keys of the 48 benchmark classes."""
    return frozenset(c.motion_key for c in benchmark_compositions().values())


def _all_paths() -> List[Tuple[str, ...]]:
    paths: List[Tuple[str, ...]] = [('static', )]
    for d in DIRECTIONS:
        paths += [('straight', d), ('still_then_move', d),
                  ('move_then_still', d)]
        paths += [('turn', d, rotate_direction(d, a)) for a in TURN_ANGLES]
    paths += [('orbit', s) for s in ORBIT_SENSES]
    return paths


def all_motion_keys() -> List[MotionKey]:
    """Every motion key of the grammar (51 paths x 7 x 5 x 7)."""
    return [(p, s, v, r) for p in _all_paths() for s in SCALES
            for v in VISIBILITIES for r in ROTATIONS]
