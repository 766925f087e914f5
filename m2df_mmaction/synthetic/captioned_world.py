# Copyright (c) m2df_mmaction contributors.
"""The captioned pretraining world: clips of compositions the few-shot
benchmark does not contain, each with a caption.

What is guaranteed (and tested in ``tests/synthetic/test_captioned_world``):

1. **No few-shot class is a pretraining clip.** Every class name of the
   benchmark (train, val *and* test, 48 classes) is parsed into its
   :class:`~.compositions.Composition`; the world draws compositions
   channel by channel and rejects every draw whose *motion key* (path,
   scale, visibility, rotation) is one of those 48 (:mod:`.motion_keys`).
   Speed and colour change are not part of the key, so neither "quickly
   moving right" nor "moving right while turning blue" is ever drawn: a
   pretraining clip differs from every few-shot class in at least one of
   path, size, opacity or rotation. Since the grammar's phrases are
   unambiguous (:func:`~.captions.clause_table`), no caption is a class
   name either, with or without :data:`~.captions.CLASS_TEMPLATE`.
2. **Every word of every class name is a pretraining word.** Each class
   name's clauses ("moving up-right", "orbiting clockwise", "still then
   shrinking", ...) occur in admissible compositions combined with other
   channels (e.g. "orbiting clockwise while growing"), and
   :meth:`CaptionedWorld.vocabulary` lists the words of every admissible
   caption.

A clip is a pure function of ``(seed, index)``: the same clips on any
machine, in any order, so a resumed pretraining run sees the same batches.
Clips are drawn like the benchmark's videos (same renderer, object sizes,
speeds, path offsets, backgrounds, clutter and noise), rendered at 64 px
only at the frame times a model samples (``SampleFrames`` with
``clip_len=1``) and resized to the model's 32 px as MMAction2's ``Resize``
does (bilinear; :mod:`.clip_rendering`).
"""
import dataclasses
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, NamedTuple, Optional, Set, Tuple

import numpy as np

from .captions import caption, caption_words, subject_phrase
from .clip_rendering import render_composition, sample_frame_indices
from .compositions import (ORBIT_SENSES, ROTATIONS, SCALES, SPEEDS,
                           TURN_ANGLES, VISIBILITIES, Composition, MotionKey,
                           rotate_direction)
from .motion_keys import (all_motion_keys, benchmark_compositions,
                          benchmark_motion_keys)
from .programs import DIRECTIONS
from .video_io import write_video
from .video_params import (COLOR_HUES, ORIENTED_SHAPES, SHAPE_NAMES, SHAPES,
                           VideoParams, named_color)

__all__ = [
    'WorldClip', 'CaptionedWorld', 'benchmark_compositions',
    'benchmark_motion_keys', 'all_motion_keys', 'sample_frame_indices',
    'write_world'
]

# Draw probabilities of the path kinds (the other channels: see
# CaptionedWorld.channel_probs).
_PATH_PROBS = {
    'static': 0.25,
    'straight': 0.2,
    'turn': 0.2,
    'still_then_move': 0.1,
    'move_then_still': 0.1,
    'orbit': 0.15,
}


class WorldClip(NamedTuple):
    """One captioned clip.

    Attributes:
        frames (np.ndarray): uint8 ``[T, H, W, 3]`` RGB.
        caption (str): e.g. ``'a red arrow moving up while fading out'``.
        composition (Composition): The motion.
        color (str): Name of the object's (start) colour.
        shape (str): Name of the object's shape.
    """
    frames: np.ndarray
    caption: str
    composition: Composition
    color: str
    shape: str


@dataclass(frozen=True)
class CaptionedWorld:
    """Seeded clips of admissible compositions with their captions.

    Args:
        exclude (frozenset): Motion keys never drawn. Defaults to the 48
            benchmark classes' keys.
        num_frames (int): Length of the full clip that frame times refer to
            (the benchmark's videos have 16). Defaults to 16.
        num_samples (int): Frames rendered per clip. Defaults to 8.
        render_size (int): Drawing resolution (the benchmark's videos have
            64 px). Defaults to 64.
        out_size (int): Resolution of the returned frames (bilinear resize).
            Defaults to 32 (TinyCLIP's input).
        trail (int): Ghosts behind the object, as in the benchmark.
            Defaults to 0 (the benchmark's default).
        trail_alpha (float): Opacity of the first ghost. Defaults to 0.4.
        radius, amp (tuple[float, float]): Object radius and travel
            distance ranges, as in ``write_benchmark``.
        jitter (float): Max path offset. Defaults to 0.06.
        clutter (int): Max clutter blobs. Defaults to 2.
        noise (float): Max pixel noise std. Defaults to 4.
        channel_probs (dict): Probability that a clip changes its
            ``scale``, ``visibility``, ``rotation``, ``color_change``
            (each independently), and that a moving path is ``slow`` or
            ``fast``.
        color_word_prob (float): Probability that the caption names the
            colour. Defaults to 0.25.
        shape_word_prob (float): Probability that it names the shape
            (else "shape"). Defaults to 0.25. (With 0.5 / 0.5 the tiny
            CLIP spent more of its 64 dimensions on appearance: the prompt
            selector picked the true class for 45.6% of test queries instead
            of 53.5%; docs/tiny_clip.md.)
    """

    exclude: FrozenSet[MotionKey] = field(
        default_factory=benchmark_motion_keys)
    num_frames: int = 16
    num_samples: int = 8
    render_size: int = 64
    out_size: int = 32
    trail: int = 0
    trail_alpha: float = 0.4
    radius: Tuple[float, float] = (0.09, 0.13)
    amp: Tuple[float, float] = (0.5, 0.6)
    jitter: float = 0.06
    clutter: int = 2
    noise: float = 4.0
    channel_probs: Dict[str, float] = field(
        default_factory=lambda: dict(
            scale=0.4, visibility=0.3, rotation=0.3, color_change=0.1,
            slow=0.2, fast=0.2))
    color_word_prob: float = 0.25
    shape_word_prob: float = 0.25

    def settings(self) -> Dict:
        """The world's parameters (without ``exclude``), JSON-friendly."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name != 'exclude'}
        out['exclude'] = f'{len(self.exclude)} motion keys'
        return json.loads(json.dumps(out))

    def __post_init__(self) -> None:
        if not 1 <= self.num_samples <= self.num_frames:
            raise ValueError(f'num_samples must be in [1, num_frames='
                             f'{self.num_frames}], got {self.num_samples}')
        missing = {'scale', 'visibility', 'rotation', 'color_change', 'slow',
                   'fast'} - set(self.channel_probs)
        if missing:
            raise ValueError(f'channel_probs lacks {sorted(missing)}')

    # ------------------------------------------------------------------
    # compositions and captions
    # ------------------------------------------------------------------
    def admissible(self, comp: Composition) -> bool:
        """Whether the world may draw ``comp`` (its motion key is not
        excluded)."""
        return comp.motion_key not in self.exclude

    def sample_composition(self, rng: np.random.Generator) -> Composition:
        """Draw an admissible composition (rejection sampling).

        Args:
            rng (np.random.Generator): Source of randomness.

        Returns:
            Composition: A composition whose motion key is not excluded.
        """
        kinds = list(_PATH_PROBS)
        probs = np.array([_PATH_PROBS[k] for k in kinds])
        cp = self.channel_probs
        for _ in range(1000):
            kind = kinds[int(rng.choice(len(kinds), p=probs / probs.sum()))]
            if kind == 'static':
                path: Tuple[str, ...] = ('static', )
            elif kind == 'orbit':
                path = ('orbit', ORBIT_SENSES[int(rng.integers(2))])
            else:
                d = list(DIRECTIONS)[int(rng.integers(len(DIRECTIONS)))]
                if kind == 'turn':
                    a = TURN_ANGLES[int(rng.integers(len(TURN_ANGLES)))]
                    path = ('turn', d, rotate_direction(d, a))
                else:
                    path = (kind, d)

            def pick(values, p):
                if rng.random() >= p:
                    return values[0]
                return values[1 + int(rng.integers(len(values) - 1))]

            scale = pick(SCALES, cp['scale'])
            visibility = pick(VISIBILITIES, cp['visibility'])
            rotation = pick(ROTATIONS, cp['rotation'])
            u = rng.random()
            speed = 'normal'
            if kind != 'static':
                if u < cp['slow']:
                    speed = 'slow'
                elif u < cp['slow'] + cp['fast']:
                    speed = 'fast'
            color_change = None
            if rng.random() < cp['color_change']:
                names = list(COLOR_HUES)
                color_change = names[int(rng.integers(len(names)))]
            comp = Composition(path, scale, visibility, rotation, speed,
                               color_change)
            if self.admissible(comp):
                return comp
        raise RuntimeError('no admissible composition in 1000 draws; is '
                           'everything excluded?')

    def admissible_keys(self) -> List[MotionKey]:
        """Every motion key the world can draw."""
        return [k for k in all_motion_keys() if k not in self.exclude]

    def vocabulary(self) -> Set[str]:
        """Every word of every caption the world can draw.

        Computed from the grammar: the motion phrases of all admissible
        motion keys at every speed their path allows, the colour-change
        clause and every subject.
        """
        phrases = []
        for path, scale, vis, rot in self.admissible_keys():
            speeds = SPEEDS if path[0] != 'static' else ('normal', )
            for speed in speeds:
                comp = Composition(path, scale, vis, rot, speed)
                phrases.append(caption(comp))
        phrases += [f'turning {c}' for c in COLOR_HUES]
        phrases += [subject_phrase(c, s) for c in (None, *COLOR_HUES)
                    for s in (None, *SHAPE_NAMES)]
        return caption_words(phrases)

    # ------------------------------------------------------------------
    # clips
    # ------------------------------------------------------------------
    def sample_clip(self,
                    rng: np.random.Generator,
                    test_mode: bool = False) -> WorldClip:
        """Draw and render one clip.

        Args:
            rng (np.random.Generator): Source of randomness.
            test_mode (bool): Sample frames as ``SampleFrames(test_mode=
                True)`` does (segment middles) instead of randomly.

        Returns:
            WorldClip: ``[num_samples, out_size, out_size, 3]`` frames and
            the caption.
        """
        comp = self.sample_composition(rng)
        names = list(COLOR_HUES)
        if comp.color_change is None:
            color = names[int(rng.integers(len(names)))]
        else:
            others = [c for c in names if c != comp.color_change]
            color = others[int(rng.integers(len(others)))]
        if comp.oriented:
            shape = int(rng.choice(ORIENTED_SHAPES))
        else:
            shape = int(rng.integers(len(SHAPES)))
        rgb = named_color(rng, color)
        end_rgb = (named_color(rng, comp.color_change)
                   if comp.color_change is not None else None)
        bg = tuple(int(v) for v in rng.integers(0, 70, size=3))
        blobs = []
        for _ in range(int(rng.integers(0, self.clutter + 1))):
            c = tuple(
                int(v) for v in (np.array(bg) + rng.integers(20, 60, 3)))
            blobs.append((float(rng.uniform(0.05, 0.95)),
                          float(rng.uniform(0.05, 0.95)),
                          float(rng.uniform(0.04, 0.09)), c))
        params = VideoParams(
            shape=shape,
            color=rgb,
            radius=float(rng.uniform(*self.radius)),
            amp=float(rng.uniform(*self.amp)),
            offset=(float(rng.uniform(-self.jitter, self.jitter)),
                    float(rng.uniform(-self.jitter, self.jitter))),
            angle0=float(rng.uniform(0, 2 * np.pi)),
            spin=float(rng.uniform(0.45, 0.7) * np.pi),
            bg=bg,  # type: ignore[arg-type]
            clutter=tuple(blobs),
            noise=float(rng.uniform(0, self.noise)),
            noise_seed=int(rng.integers(2**31)))
        name_color = color if rng.random() < self.color_word_prob else None
        name_shape = (SHAPE_NAMES[shape]
                      if rng.random() < self.shape_word_prob else None)
        idx = sample_frame_indices(None if test_mode else rng,
                                   self.num_frames, self.num_samples)
        frames = self.render(comp, params, idx, end_rgb)
        return WorldClip(frames, caption(comp, name_color, name_shape), comp,
                         color, SHAPE_NAMES[shape])

    def render(self,
               comp: Composition,
               params: VideoParams,
               frame_indices: np.ndarray,
               end_color: Optional[Tuple[int, int, int]] = None
               ) -> np.ndarray:
        """Render frames ``frame_indices`` (in ``[0, num_frames)``) of a
        composition at the world's sizes and trail: uint8
        ``[len(frame_indices), out_size, out_size, 3]``; see
        :func:`~.clip_rendering.render_composition` for the arguments."""
        return render_composition(comp, params, frame_indices,
                                  self.num_frames, self.render_size,
                                  self.out_size, self.trail,
                                  self.trail_alpha, end_color)

    def clip(self, seed: int, index: int,
             test_mode: bool = False) -> WorldClip:
        """Clip ``index`` of the stream of ``seed`` (a pure function)."""
        rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
        return self.sample_clip(rng, test_mode)

    def batch(self, seed: int, step: int,
              batch_size: int) -> Tuple[np.ndarray, List[str]]:
        """Clips ``step * batch_size ...`` of the stream of ``seed``.

        Returns:
            tuple: uint8 frames ``[B, T, H, W, 3]`` and ``B`` captions.
        """
        clips = [
            self.clip(seed, step * batch_size + i) for i in range(batch_size)
        ]
        return (np.stack([c.frames for c in clips]),
                [c.caption for c in clips])


def write_world(out_dir: str,
                num_clips: int,
                seed: int = 0,
                world: Optional[CaptionedWorld] = None,
                fps: float = 8.0) -> str:
    """Write clips of the world as full-length mp4 files, for inspection.

    Args:
        out_dir (str): Output folder; gets ``videos/<index>.mp4`` and
            ``captions.txt`` (``<path> <caption>`` per line).
        num_clips (int): Clips ``0 .. num_clips - 1`` of the stream.
        seed (int): Stream seed. Defaults to 0.
        world (CaptionedWorld, optional): The world; written with all its
            frames at its drawing resolution. Defaults to the default world.
        fps (float): Frame rate stored. Defaults to 8.

    Returns:
        str: Path of ``captions.txt``.
    """
    world = world or CaptionedWorld()
    world = dataclasses.replace(
        world, num_samples=world.num_frames, out_size=world.render_size)
    lines = []
    for i in range(num_clips):
        clip = world.clip(seed, i, test_mode=True)
        rel = f'videos/{i}.mp4'
        write_video(osp.join(out_dir, rel), clip.frames, fps)
        lines.append(f'{rel} {clip.caption}')
    path = osp.join(out_dir, 'captions.txt')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path
