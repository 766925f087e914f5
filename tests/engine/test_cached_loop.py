# Copyright (c) m2df_mmaction contributors.
"""CachedEpisodicTestLoop/ValLoop give the plain loops' predictions."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from m2df_mmaction.datasets import EpisodicDataset, find_random_transforms
from m2df_mmaction.engine.loops import cached_episodic_loop, feature_cache
from m2df_mmaction.engine.loops.cache_checks import (DATASET_MEMBERS,
                                                     check_dataset_members)
from m2df_mmaction.models.heads import BaseFewShotHead, class_prototypes

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NUM_EPISODES = 10
NUM_FRAMES = 8


class CollectPredictions(Hook):
    """Keep every episode's predictions, keyed by episode index."""

    def __init__(self):
        self.preds = {}

    def _collect(self, outputs):
        for sample in outputs:
            self.preds[sample.metainfo['episode_idx']] = (
                sample.pred_score.cpu(), sample.pred_label.cpu())

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None):
        self._collect(outputs)

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None):
        self._collect(outputs)


def build_runner(root, work_dir, config='otam_demo_5w1s.py', num_workers=0,
                 num_episodes=NUM_EPISODES):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
    cfg.work_dir = str(work_dir)
    cfg.train_dataloader = None
    cfg.train_cfg = None
    cfg.optim_wrapper = None
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 100
    for split in ('val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.num_workers = num_workers
        loader.persistent_workers = False
        loader.batch_size = 3  # the last batch is partial
        episodic = loader.dataset
        episodic.num_episodes = num_episodes
        episodic.class_names = f'{root}/{split}_classes.txt'
        episodic.dataset.ann_file = f'{root}/{split}.txt'
        episodic.dataset.data_prefix = dict(video=root)
    cfg.val_cfg = dict(type='ValLoop')
    cfg.test_cfg = dict(type='TestLoop')
    runner = Runner.from_cfg(cfg)
    collector = CollectPredictions()
    runner.register_hook(collector)
    return runner, collector


def count_calls(monkeypatch, runner):
    """Count frames through the backbone and videos decoded."""
    counts = dict(frames=0, videos=0)
    backbone = runner.model.backbone
    # OpenCLIPSide runs its tower (and side network) in _tower, which its
    # forward calls too
    method = '_tower' if hasattr(backbone, '_tower') else 'forward'
    forward = getattr(backbone, method)

    def counting_forward(x, *args, **kwargs):
        counts['frames'] += x.shape[0]
        return forward(x, *args, **kwargs)

    monkeypatch.setattr(backbone, method, counting_forward)
    load_video = EpisodicDataset.load_video

    def counting_load(self, index, *args, **kwargs):
        counts['videos'] += 1
        return load_video(self, index, *args, **kwargs)

    monkeypatch.setattr(EpisodicDataset, 'load_video', counting_load)
    return counts


def run_loop(runner, collector, counts, loop):
    collector.preds = {}
    counts.update(frames=0, videos=0)
    runner._test_loop = dict(type=loop)
    metrics = runner.test()
    return metrics, dict(collector.preds), dict(counts)


def assert_same(plain, cached, num_episodes=NUM_EPISODES):
    assert sorted(plain) == sorted(cached) == list(range(num_episodes))
    for idx in plain:
        torch.testing.assert_close(cached[idx][0], plain[idx][0])
        assert torch.equal(cached[idx][1], plain[idx][1])


def distinct_videos(runner):
    dataset = runner.test_dataloader.dataset
    return len({
        int(v)
        for i in range(len(dataset)) for v in
        dataset.episode_video_indices(dataset.sample_episode(i))
    })


@pytest.mark.parametrize('config', [
    'otam_demo_5w1s.py', 'm2df_demo_5w1s.py', 'trx_demo_5w1s.py',
    'hyrsm_demo_5w1s.py', 'd2st_demo_5w1s.py', 'tsfsar_demo_5w1s.py',
    'mixing/d2st_r18_demo_5w1s.py'
])
def test_cached_matches_plain(tiny_benchmark, tmp_path, monkeypatch, config):
    runner, collector = build_runner(tiny_benchmark, tmp_path, config)
    counts = count_calls(monkeypatch, runner)
    plain_metrics, plain, plain_counts = run_loop(runner, collector, counts,
                                                  'TestLoop')
    cached_metrics, cached, cached_counts = run_loop(
        runner, collector, counts, 'CachedEpisodicTestLoop')

    assert_same(plain, cached)
    assert cached_metrics == pytest.approx(plain_metrics)
    videos = distinct_videos(runner)
    assert plain_counts['videos'] == NUM_EPISODES * 10
    # each distinct video once, plus the determinism trial of the pipeline
    # (video 0 under 3 seeds, datasets/pipeline_check.py)
    assert cached_counts['videos'] == videos + 3 < NUM_EPISODES * 10
    assert cached_counts['frames'] == videos * NUM_FRAMES
    assert plain_counts['frames'] == NUM_EPISODES * 10 * NUM_FRAMES


@pytest.mark.parametrize('mode', ['pool', 'union'])
@pytest.mark.parametrize('num_workers', [0, 2])
def test_pool_and_union_modes(tiny_benchmark, tmp_path, monkeypatch, mode,
                              num_workers):
    """Encoding every video an episode can draw (while the episodes are
    drawn, in workers if any) or only the videos drawn: both give the plain
    loop's predictions; each encodes what it says."""
    monkeypatch.setattr(feature_cache, 'MAX_UNUSED_SHARE',
                        1.0 if mode == 'pool' else 0.0)
    runner, collector = build_runner(
        tiny_benchmark, tmp_path, num_workers=num_workers, num_episodes=2)
    counts = count_calls(monkeypatch, runner)
    _, plain, _ = run_loop(runner, collector, counts, 'TestLoop')
    _, cached, cached_counts = run_loop(runner, collector, counts,
                                        'CachedEpisodicTestLoop')
    assert_same(plain, cached, num_episodes=2)
    dataset = runner.test_dataloader.dataset
    pool, used = len(dataset.video_pool()), distinct_videos(runner)
    assert used < pool  # 2 episodes of 10 videos leave some of the 24 out
    if num_workers == 0:  # decoding in workers is not counted here
        assert cached_counts['videos'] == \
            (pool if mode == 'pool' else used) + 3
    assert cached_counts['frames'] == \
        (pool if mode == 'pool' else used) * NUM_FRAMES


@pytest.mark.parametrize('num_episodes,mode', [(2, 'union'), (40, 'pool')])
def test_mode_is_chosen_by_expected_coverage(tiny_benchmark, tmp_path,
                                             monkeypatch, num_episodes,
                                             mode):
    """Pool mode encodes before drawing (the draws then run meanwhile, in
    the workers); union mode draws first. 40 episodes leave
    24 * (1 - 5/6 * 2/4) ** 40 = 1e-8 videos out, 2 episodes ~9."""
    runner, collector = build_runner(tiny_benchmark, tmp_path,
                                     num_episodes=num_episodes)
    dataset = runner.test_dataloader.dataset
    expected = dataset.expected_unused_videos(num_episodes)
    assert (expected < 1e-6) if mode == 'pool' else (expected > 5)
    events = []
    sample_episode = EpisodicDataset.sample_episode
    encode_videos = cached_episodic_loop.CachedEpisodicTestLoop.encode_videos

    def draw(self, index):
        events.append(('draw', index))
        return sample_episode(self, index)

    def encode(self, video_ids):
        events.append(('encode', len(video_ids)))
        return encode_videos(self, video_ids)

    monkeypatch.setattr(EpisodicDataset, 'sample_episode', draw)
    monkeypatch.setattr(cached_episodic_loop.CachedEpisodicTestLoop,
                        'encode_videos', encode)
    runner._test_loop = dict(type='CachedEpisodicTestLoop')
    runner.test()
    kinds = [kind for kind, _ in events]
    assert kinds.count('encode') == 1
    assert sorted(i for kind, i in events if kind == 'draw') == \
        list(range(num_episodes))  # each episode drawn once
    first = kinds.index('encode')
    if mode == 'pool':
        assert first == 0 and events[0][1] == len(dataset.video_pool())
    else:
        assert first == num_episodes


def test_episode_video_outside_the_pool_is_named(tiny_benchmark, tmp_path,
                                                 monkeypatch):
    """A dataset whose episodes draw a video its video_pool() leaves out
    (e.g. a subclass drawing otherwise) is refused, naming the episode."""
    monkeypatch.setattr(feature_cache, 'MAX_UNUSED_SHARE', 1.0)
    runner, _ = build_runner(tiny_benchmark, tmp_path, num_episodes=2)
    dataset = runner.test_dataloader.dataset
    first, second = (set(dataset.episode_video_indices(
        dataset.sample_episode(i)).tolist()) for i in (0, 1))
    left_out = min(second - first)  # drawn by episode 1 only
    pool = dataset.video_pool()
    monkeypatch.setattr(EpisodicDataset, 'video_pool',
                        lambda self: pool[pool != left_out])
    runner._test_loop = dict(type='CachedEpisodicTestLoop')
    with pytest.raises(RuntimeError,
                       match=f'episode 1 draws video {left_out}, which is '
                       'not among the encoded videos'):
        runner.test()


def test_cached_with_workers_and_val(tiny_benchmark, tmp_path):
    runner, collector = build_runner(
        tiny_benchmark, tmp_path, 'm2df_demo_5w1s.py', num_workers=2)
    runner._test_loop = dict(type='TestLoop')
    plain_metrics = runner.test()
    plain = dict(collector.preds)
    collector.preds = {}
    runner._test_loop = dict(
        type='CachedEpisodicTestLoop', video_batch_size=7)
    cached_metrics = runner.test()
    assert_same(plain, collector.preds)
    assert cached_metrics == pytest.approx(plain_metrics)

    collector.preds = {}
    plain_metrics = runner.val()
    plain = dict(collector.preds)
    collector.preds = {}
    runner._val_loop = dict(type='CachedEpisodicValLoop')
    cached_metrics = runner.val()
    assert_same(plain, collector.preds)
    assert cached_metrics == pytest.approx(plain_metrics)


def test_find_random_transforms():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets', 'synthetic_5w1s.py'))
    assert find_random_transforms(cfg.test_pipeline) == []
    assert find_random_transforms(cfg.train_pipeline) == [
        'SampleFrames (test_mode=False)'
    ]
    random = find_random_transforms([
        dict(type='RandomResizedCrop'),
        dict(type='Flip', flip_ratio=0.0),
        dict(type='Flip', flip_ratio=0.5),
        dict(type='MultiScaleCrop', input_size=224),
        dict(type='ColorJitter'),
        dict(type='CenterCrop', crop_size=224),
    ])
    assert random == [
        'RandomResizedCrop', 'Flip (flip_ratio=0.5)', 'MultiScaleCrop',
        'ColorJitter'
    ]


@pytest.mark.parametrize('loop, message', [
    (dict(type='CachedEpisodicTestLoop'), 'SampleFrames (test_mode=False)'),
    (dict(type='CachedEpisodicTestLoop', deterministic_backbone=False),
     'deterministic_backbone=False'),
])
def test_refuses_to_cache(tiny_benchmark, tmp_path, loop, message):
    runner, _ = build_runner(tiny_benchmark, tmp_path)
    if 'deterministic_backbone' not in loop:
        dataset = copy.deepcopy(runner._test_dataloader['dataset'])
        dataset.dataset.pipeline[1].test_mode = False
        runner._test_dataloader['dataset'] = dataset
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(
            ')', r'\)')):
        runner.build_test_loop(loop)


def test_refuses_a_custom_random_transform_by_trying(tiny_benchmark, tmp_path):
    """A transform no rule knows is caught by running the pipeline twice."""
    from mmaction.registry import TRANSFORMS
    from mmcv.transforms import BaseTransform

    @TRANSFORMS.register_module(force=True)
    class _JitterForTest(BaseTransform):

        def transform(self, results):
            results['imgs'] = [
                img + np.random.randint(0, 2, img.shape).astype(img.dtype)
                for img in results['imgs']
            ]
            return results

    runner, _ = build_runner(tiny_benchmark, tmp_path)
    dataset = copy.deepcopy(runner._test_dataloader['dataset'])
    pipeline = dataset.dataset.pipeline
    dataset.dataset.pipeline = [*pipeline[:-2], dict(type='_JitterForTest'),
                                *pipeline[-2:]]
    runner._test_dataloader['dataset'] = dataset
    with pytest.raises(ValueError, match='different tensors under different'):
        runner.build_test_loop(dict(type='CachedEpisodicTestLoop'))


def test_refuses_a_dataset_that_is_not_episodic(tiny_benchmark, tmp_path):
    """A plain video dataset as the test dataset: refused when the loop is
    built, naming the loop, the dataset class, every member it lacks and
    what to do."""
    runner, _ = build_runner(tiny_benchmark, tmp_path)
    episodic = runner._test_dataloader['dataset']
    runner._test_dataloader['dataset'] = copy.deepcopy(episodic.dataset)
    with pytest.raises(TypeError) as error:
        runner.build_test_loop(dict(type='CachedEpisodicTestLoop'))
    message = str(error.value)
    assert message.startswith(
        'CachedEpisodicTestLoop needs an EpisodicDataset as the test '
        'dataset, got VideoDataset, which lacks `dataset`, '
        '`episode_layout`, `sample_episode`, `episode_video_indices`, '
        '`video_pool`, `expected_unused_videos`, `load_video`, '
        '`build_data_sample` (the loop uses ')
    assert message.endswith("or test_cfg = dict(type='TestLoop').")


class _OldFourMembers:
    """Has the four members the loop used to probe for, and no others."""

    def sample_episode(self, index):
        raise AssertionError('not called')

    build_data_sample = load_video = episode_video_indices = sample_episode


def test_a_dataset_with_the_four_members_once_probed_is_refused():
    """Only the four members the loop used to probe for: refused, naming
    the other five it uses, before any work."""
    with pytest.raises(TypeError, match=(
            r'CachedEpisodicValLoop needs an EpisodicDataset as the val '
            r'dataset, got _OldFourMembers, which lacks `dataset`, '
            r'`__len__`, `episode_layout`, `video_pool`, '
            r'`expected_unused_videos` \(the loop uses .*\)\. Use an '
            r'EpisodicDataset \(or give the dataset these members\), or '
            r"val_cfg = dict\(type='ValLoop'\)\.$")):
        check_dataset_members(_OldFourMembers(), 'CachedEpisodicValLoop',
                              'val')


class _RecordingDataset(torch.utils.data.Dataset):
    """An episodic dataset that records which of its members are used."""

    def __init__(self, episodic):
        self.episodic = episodic
        self.used = set()

    def __len__(self):
        self.used.add('__len__')
        return len(self.episodic)

    def __getattr__(self, name):  # members not set in __init__
        if not name.startswith('__'):  # not the loaders' own probes
            self.used.add(name)
        return getattr(self.episodic, name)


def test_the_members_checked_are_the_members_used(tiny_benchmark, tmp_path,
                                                  monkeypatch):
    """Building and running the loop (the member check switched off) uses
    exactly the dataset members it declares, besides the ``metainfo``
    that MMEngine's own TestLoop reads; predictions are the plain loop's.
    """
    from m2df_mmaction.engine.loops import cache_checks
    runner, collector = build_runner(tiny_benchmark, tmp_path)
    runner._test_loop = dict(type='TestLoop')
    runner.test()
    plain = dict(collector.preds)
    collector.preds = {}
    loader = runner.test_dataloader
    dataset = _RecordingDataset(loader.dataset)
    recording = torch.utils.data.DataLoader(
        dataset, batch_size=loader.batch_size, sampler=loader.sampler,
        collate_fn=loader.collate_fn)
    monkeypatch.setattr(cache_checks, 'check_dataset_members',
                        lambda *args: None)
    runner._test_loop = cached_episodic_loop.CachedEpisodicTestLoop(
        runner, recording, runner.cfg.test_evaluator)
    runner.test()
    assert dataset.used - {'metainfo'} == set(DATASET_MEMBERS)
    assert_same(plain, collector.preds)
    assert dataset.episode_layout == (5, 1, 1)


@MODELS.register_module(force=True)
class _RichFeatureProbeHead(BaseFewShotHead):
    """A head that reads spatial maps and last-layer tokens (or the raw
    frames): the cached loop must cache what it declares, or refuse."""
    token_layers = (-1, )

    def __init__(self, raw: bool = False, **kwargs):
        super().__init__(init_scale=10.0, **kwargs)
        self.raw = raw

    @property
    def needs(self):
        kinds = {'frames', 'spatial', 'tokens'}
        return frozenset(kinds | {'raw_frames'} if self.raw else kinds)

    def score(self, episode):
        def video_vector(part):
            spatial = episode.extra('spatial')[part].mean((-1, -2))
            tokens = episode.extra('tokens/-1')[part].mean(-2)
            pooled = getattr(episode, part)
            feats = [pooled, spatial, tokens]
            if self.raw:
                feats.append(episode.extra('raw_frames')[part].mean(
                    (-1, -2)))
            return torch.cat([F.normalize(f.float().mean(2), dim=-1)
                              for f in feats], dim=-1)

        protos = class_prototypes(video_vector('support'), episode.num_ways)
        query = video_vector('query')
        return dict(logits=self.logit_scale * query @ protos.transpose(1, 2))


def _probe_runner(root, work_dir, raw=False):
    runner, collector = build_runner(root, work_dir)
    cfg = copy.deepcopy(runner.cfg)
    cfg.model.cls_head = dict(type='_RichFeatureProbeHead', raw=raw)
    return build_runner_from(cfg, collector)


def build_runner_from(cfg, collector):
    runner = Runner.from_cfg(cfg)
    runner.register_hook(collector)
    return runner, collector


def test_cached_loop_caches_the_kinds_the_head_declares(
        tiny_benchmark, tmp_path):
    """Spatial maps and intermediate tokens, cached once per video, give
    the plain loop's predictions."""
    runner, collector = _probe_runner(tiny_benchmark, tmp_path)
    assert runner.model.frame_request.kinds == {'frames', 'spatial',
                                                'tokens'}
    counts = dict(frames=0, videos=0)
    _, plain, _ = run_loop(runner, collector, counts, 'TestLoop')
    _, cached, _ = run_loop(runner, collector, counts,
                            'CachedEpisodicTestLoop')
    assert_same(plain, cached)


def test_cached_loop_refuses_a_head_that_reads_raw_frames(
        tiny_benchmark, tmp_path):
    runner, collector = _probe_runner(tiny_benchmark, tmp_path, raw=True)
    counts = dict(frames=0, videos=0)
    _, plain, _ = run_loop(runner, collector, counts, 'TestLoop')
    assert len(plain) == NUM_EPISODES  # the plain loop gives them
    with pytest.raises(ValueError, match=r'reads the raw frames.*'
                       r"test_cfg = dict\(type='TestLoop'\)"):
        run_loop(runner, collector, counts, 'CachedEpisodicTestLoop')


def test_cached_matches_plain_for_molo(tiny_benchmark, tmp_path):
    """MoLo reads spatial maps in evaluation (raw frames only for its
    training loss): the cached loop caches the maps and gives the plain
    loop's predictions."""
    runner, collector = build_runner(tiny_benchmark, tmp_path,
                                     'molo_tiny-clip-world_demo_5w1s.py')
    counts = dict(frames=0, videos=0)
    _, plain, _ = run_loop(runner, collector, counts, 'TestLoop')
    _, cached, _ = run_loop(runner, collector, counts,
                            'CachedEpisodicTestLoop')
    assert_same(plain, cached)
