# Copyright (c) m2df_mmaction contributors.
"""Tests of the captioned pretraining world and its caption grammar.

The two guarantees that make zero-shot figures on the few-shot benchmark
mean something are tested here: no few-shot class (train, val or test) is
ever a pretraining clip or caption, and every word of every class name is a
pretraining word.
"""
import decord
import numpy as np
import pytest
from open_clip import get_tokenizer

from m2df_mmaction.synthetic import motion_benchmark as B
from m2df_mmaction.synthetic.captioned_world import (CaptionedWorld,
                                                     all_motion_keys,
                                                     benchmark_compositions,
                                                     benchmark_motion_keys,
                                                     sample_frame_indices,
                                                     write_world)
from m2df_mmaction.synthetic.captions import (CLASS_TEMPLATE, caption,
                                              caption_words, clause_table,
                                              motion_phrase, parse_caption,
                                              parse_motion_phrase)
from m2df_mmaction.synthetic.compositions import Composition, composition_state

ALL_CLASSES = [c for s in B.SPLITS for c in B.get_split_classes(s)]
# The stream the pretraining tool reads (world seed 0), first clips.
STREAM_CLIPS = 400


@pytest.fixture(scope='module')
def world():
    return CaptionedWorld()


@pytest.fixture(scope='module')
def stream(world):
    return [world.clip(0, i) for i in range(STREAM_CLIPS)]


# ---------------------------------------------------------------------------
# The benchmark's class names are phrases of the grammar
# ---------------------------------------------------------------------------
def test_class_names_are_grammar_phrases():
    comps = benchmark_compositions()
    assert len(comps) == 48
    assert len({c.motion_key for c in comps.values()}) == 48
    for cls in ALL_CLASSES:
        comp = comps[cls.name]
        assert motion_phrase(comp) == cls.name
        # the time-reversal partner is the reversed composition
        assert comps[cls.partner] == comp.reversed()
        assert comp.oriented == cls.oriented
        assert comp.speed == 'normal' and comp.color_change is None


def _trajectories(states: np.ndarray) -> dict:
    """Channels of a state sequence ``[T, 5]`` relative to their start."""
    return dict(
        x=states[:, 0] - states[0, 0],
        y=states[:, 1] - states[0, 1],
        scale=states[:, 2],
        angle=states[:, 3] - states[0, 3],
        alpha=states[:, 4])


@pytest.mark.parametrize('cls', ALL_CLASSES, ids=lambda c: c.name)
def test_class_program_and_composition_move_alike(cls):
    """A word means the same thing in a class name and in a caption: the
    benchmark's hand-written program and the grammar's program of the
    parsed name change position, size, angle and opacity alike."""
    comp = benchmark_compositions()[cls.name]
    params = B.sample_video_params(np.random.default_rng(1), cls)
    ts = np.linspace(0, 1, 16)
    bench = np.array([cls.program(1 - t if cls.reverse else t, params)
                      for t in ts])
    world = np.array([composition_state(comp, t, params) for t in ts])
    a, b = _trajectories(bench), _trajectories(world)
    if comp.path[0] == 'orbit':
        # same sense of rotation about the path centre (phases differ)
        def turned(s):
            c = np.array([0.5 + params.offset[0], 0.5 + params.offset[1]])
            ang = np.unwrap(np.arctan2(s[:, 1] - c[1], s[:, 0] - c[0]))
            return ang[-1] - ang[0]

        assert np.sign(turned(bench)) == np.sign(turned(world)) != 0
        keys = ('scale', 'angle', 'alpha')
    else:
        keys = ('x', 'y', 'scale', 'angle', 'alpha')
    for key in keys:
        u, v = a[key], b[key]
        moving_u, moving_v = np.ptp(u) > 1e-6, np.ptp(v) > 1e-6
        assert moving_u == moving_v, (cls.name, key)
        if moving_u:
            assert np.corrcoef(u, v)[0, 1] > 0.9, (cls.name, key)


# ---------------------------------------------------------------------------
# Disjointness: no few-shot class is a pretraining clip or caption
# ---------------------------------------------------------------------------
def test_admissible_keys_exclude_exactly_the_benchmark(world):
    keys = set(world.admissible_keys())
    bench = benchmark_motion_keys()
    assert not keys & bench
    assert len(keys) == len(all_motion_keys()) - len(bench)
    for comp in benchmark_compositions().values():
        assert not world.admissible(comp)
        for speed in ('slow', 'fast'):  # speed variants are excluded too
            if comp.moving:
                assert not world.admissible(
                    Composition(*comp.motion_key, speed=speed))
        assert not world.admissible(
            Composition(*comp.motion_key, color_change='blue'))


def test_no_class_is_a_pretraining_composition_or_caption(world, stream):
    names = {c.name for c in ALL_CLASSES}
    forbidden_texts = names | {CLASS_TEMPLATE.format(n) for n in names}
    bench = benchmark_motion_keys()
    rng = np.random.default_rng(0)
    draws = [world.sample_composition(rng) for _ in range(20000)]
    assert not {c.motion_key for c in draws} & bench
    for clip in stream:
        assert clip.composition.motion_key not in bench
        assert clip.caption not in forbidden_texts
        # the caption says what the clip shows, so no caption can be a
        # class name in disguise
        comp, color, shape = parse_caption(clip.caption)
        assert comp == clip.composition
        assert color in (None, clip.color) and shape in (None, clip.shape)
        assert motion_phrase(comp) not in names


def test_world_covers_all_channels(world):
    """Every channel value is drawn (the world is not a thin slice)."""
    rng = np.random.default_rng(0)
    draws = [world.sample_composition(rng) for _ in range(20000)]
    seen = {field: {getattr(c, field) for c in draws}
            for field in ('scale', 'visibility', 'rotation', 'speed')}
    assert len(seen['scale']) == 7 and len(seen['visibility']) == 5
    assert len(seen['rotation']) == 7 and len(seen['speed']) == 3
    assert len({c.path for c in draws}) == 51
    assert len({c.motion_key for c in draws}) > 4000


# ---------------------------------------------------------------------------
# Every class-name word (and token) is a pretraining word
# ---------------------------------------------------------------------------
def test_every_class_word_is_a_pretraining_word(world, stream):
    class_words = caption_words(c.name for c in ALL_CLASSES)
    class_words |= caption_words([CLASS_TEMPLATE.format('')])
    assert class_words <= world.vocabulary()
    # and it actually occurs in the first clips the tool trains on
    missing = class_words - caption_words(c.caption for c in stream)
    assert not missing, missing


def test_every_class_token_is_a_pretraining_token(stream):
    tokenizer = get_tokenizer('TinyCLIP-ViT-32')

    def tokens(texts):
        return set(tokenizer(list(texts)).flatten().tolist())

    prompts = [CLASS_TEMPLATE.format(c.name) for c in ALL_CLASSES]
    assert tokens(prompts) <= tokens(c.caption for c in stream)


# ---------------------------------------------------------------------------
# Grammar
# ---------------------------------------------------------------------------
def test_grammar_round_trip(world):
    table = clause_table()
    assert len(table) == len(set(table))
    rng = np.random.default_rng(3)
    for _ in range(2000):
        comp = world.sample_composition(rng)
        phrase = motion_phrase(comp)
        assert parse_motion_phrase(phrase) == comp
        for color, shape in ((None, None), ('red', None), (None, 'arrow'),
                             ('cyan', 'disk')):
            assert parse_caption(caption(comp, color, shape)) == (comp, color,
                                                                  shape)
    assert caption(Composition(), 'red', 'arrow') == \
        'a red arrow standing still'
    assert caption(Composition(('straight', 'up')), None, 'arrow') == \
        'an arrow moving up'


@pytest.mark.parametrize('text,match', [
    ('moving sideways', "'moving sideways' is not a clause"),
    ('growing while shrinking', 'scale given twice'),
])
def test_parse_errors_name_the_clause(text, match):
    with pytest.raises(ValueError, match=match):
        parse_motion_phrase(text)


def test_parse_caption_needs_a_subject():
    with pytest.raises(ValueError, match='subject'):
        parse_caption('moving up')
    with pytest.raises(ValueError, match='article'):
        parse_caption('a arrow moving up')


@pytest.mark.parametrize('kwargs,match', [
    (dict(path=('turn', 'right', 'down-right')), 'turn'),
    (dict(path=('straight', 'sideways')), 'direction'),
    (dict(path=('static', ), speed='fast'), 'no speed'),
    (dict(scale='huge'), 'scale'),
    (dict(color_change='beige'), 'colour'),
    (dict(path=('orbit', 'left')), 'orbit'),
])
def test_composition_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Composition(**kwargs)


# ---------------------------------------------------------------------------
# Clips
# ---------------------------------------------------------------------------
def test_clips_are_pure_functions_of_seed_and_index(world, stream):
    a, b = world.clip(0, 7), world.clip(0, 7)
    assert np.array_equal(a.frames, b.frames) and a.caption == b.caption
    assert np.array_equal(a.frames, stream[7].frames)
    c = world.clip(1, 7)
    assert not np.array_equal(a.frames, c.frames)
    assert a.frames.shape == (8, 32, 32, 3) and a.frames.dtype == np.uint8
    frames, captions = world.batch(0, 2, 3)
    assert frames.shape == (3, 8, 32, 32, 3)
    assert captions == [s.caption for s in stream[6:9]]


def test_frames_show_the_motion(world):
    """A moving clip's frames differ; a clip that appears starts empty."""
    comp = Composition(('straight', 'left'), visibility='appear')
    params = B.sample_video_params(np.random.default_rng(0), comp)
    frames = world.render(comp, params, np.arange(16))
    assert frames.shape == (16, 32, 32, 3)
    still = world.render(Composition(), params, np.arange(16))
    assert np.abs(frames[0].astype(int) - still[0]).mean() > 0  # no object
    assert np.abs(frames[-1].astype(int) - frames[8]).mean() > 1  # moves


def test_frame_indices_match_mmaction_sample_frames():
    from mmaction.datasets.transforms import SampleFrames
    test = SampleFrames(clip_len=1, frame_interval=1, num_clips=8,
                        test_mode=True)
    out = test(dict(total_frames=16, start_index=0))['frame_inds']
    assert np.array_equal(sample_frame_indices(None, 16, 8), out)
    train = SampleFrames(clip_len=1, frame_interval=1, num_clips=8)
    support = {tuple(train(dict(total_frames=16, start_index=0))
                     ['frame_inds']) for _ in range(200)}
    rng = np.random.default_rng(0)
    ours = {tuple(sample_frame_indices(rng, 16, 8)) for _ in range(200)}
    seg = np.arange(8) * 2
    for inds in support | ours:
        assert np.all((np.array(inds) - seg >= 0) & (np.array(inds) - seg
                                                     < 2))


def test_write_world(tmp_path):
    path = write_world(str(tmp_path), 3, seed=0)
    lines = open(path).read().splitlines()
    assert len(lines) == 3
    rel, text = lines[0].split(' ', 1)
    assert text == CaptionedWorld().clip(0, 0).caption
    vr = decord.VideoReader(str(tmp_path / rel))
    assert len(vr) == 16 and vr[0].shape == (64, 64, 3)


def test_make_synthetic_world_option(tmp_path, capsys):
    import importlib.util
    import os.path as osp
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    spec = importlib.util.spec_from_file_location(
        'make_synthetic', osp.join(root, 'tools', 'data', 'make_synthetic.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / 'world'
    assert mod.main(['--world', '2', '--out', str(out)]) == 0
    lines = (out / 'captions.txt').read_text().splitlines()
    assert [line.split(' ', 1)[1] for line in lines] == [
        CaptionedWorld().clip(0, i).caption for i in range(2)]
    (tmp_path / 'bench').mkdir()
    (tmp_path / 'bench' / 'manifest.json').write_text('{}')
    assert mod.main(['--world', '2', '--out', str(tmp_path / 'bench')]) == 1
    assert 'holds a benchmark' in capsys.readouterr().err
