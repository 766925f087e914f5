# Copyright (c) m2df_mmaction contributors.
"""The head contract, checked on every head the project ships and on the
worked example of docs/adding_a_method.md."""
import importlib
import os.path as osp
import sys

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from m2df_mmaction.structures import (HEAD_NEEDS, Episode, episode_layout,
                                      episode_targets)
from m2df_mmaction.testing import episode_data_samples, random_episode

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
DIM = 16


def _two_view_example():
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    importlib.import_module('docs.examples.two_view_head')
    return dict(type='TwoViewOTAMHead')


HEADS = {
    'ProtoNetHead': lambda: dict(type='ProtoNetHead'),
    'OTAMHead': lambda: dict(type='OTAMHead'),
    'CLIPFSARHead': lambda: dict(type='CLIPFSARHead', embed_dims=DIM),
    'CLIPFSARHead-no-vt': lambda: dict(
        type='CLIPFSARHead', embed_dims=DIM, loss_video_text=None),
    'M2DFHead': lambda: dict(
        type='M2DFHead', embed_dims=DIM,
        fusion=dict(type='CrossTransformerFusion', ffn_dims=32)),
    'M2DFHead-vt': lambda: dict(
        type='M2DFHead', embed_dims=DIM,
        fusion=dict(type='CrossTransformerFusion', ffn_dims=32),
        loss_video_text=dict(type='VideoTextLoss')),
    'TRXHead': lambda: dict(
        type='TRXHead', embed_dims=DIM, num_frames=5,
        transformer=dict(type='TemporalCrossTransformer', out_dims=32)),
    'TwoViewOTAMHead (docs example)': _two_view_example,
    'HyRSMHead': lambda: dict(type='HyRSMHead', embed_dims=DIM,
                              num_classes=7),
    'HyRSMHead-hyrsm++-prototypes': lambda: dict(
        type='HyRSMHead', embed_dims=DIM, num_classes=7,
        prototype_before_relation=True,
        loss_temporal=dict(type='TemporalCoherenceLoss')),
    'D2STHead': lambda: dict(type='D2STHead', embed_dims=DIM, num_classes=7),
}
VIEWS = {
    'ProtoNetHead': set(), 'OTAMHead': {'otam'}, 'CLIPFSARHead': {'otam'},
    'CLIPFSARHead-no-vt': {'otam'}, 'M2DFHead': {'local', 'global'},
    'M2DFHead-vt': {'local', 'global'}, 'TRXHead': {'tuples2', 'tuples3'},
    'TwoViewOTAMHead (docs example)': {'frames', 'motion'},
    'HyRSMHead': {'bimhm'}, 'HyRSMHead-hyrsm++-prototypes': {'bimhm'},
    'D2STHead': {'bimhm'},
}


def _only_needs(episode: Episode, needs) -> Episode:
    """The episode with every optional field the head did not declare
    removed, as the recognizer builds it."""
    optional = ('text', 'class_text', 'class_ids', 'keys')
    return episode.replace(**{
        name: None
        for name in optional if name not in needs
    })


@pytest.mark.parametrize('name', sorted(HEADS))
def test_head_keeps_the_contract(name):
    torch.manual_seed(0)
    head = MODELS.build(HEADS[name]()).eval()
    assert set(head.needs) <= set(HEAD_NEEDS)
    assert 'frames' in head.needs and head.cacheable
    ways, shots, queries, frames = 3, 2, 2, 5
    full = random_episode(ways, shots, queries, frames, DIM, text_dims=DIM,
                          num_classes=7, batch_size=2, seed=1)
    episode = _only_needs(full, head.needs)
    with torch.no_grad():
        out = head(episode)
    # logits [B, M, N], and the same for an episode alone as in a batch
    assert out['logits'].shape == (2, ways * queries, ways)
    alone = episode.replace(
        support=episode.support[1:], query=episode.query[1:],
        query_labels=episode.query_labels[1:],
        **{k: getattr(episode, k)[1:]
           for k in ('text', 'class_ids', 'keys')
           if getattr(episode, k) is not None})
    with torch.no_grad():
        single = head(alone)['logits']
    torch.testing.assert_close(single[0], out['logits'][1], atol=1e-5,
                               rtol=1e-5)
    # the alignment views: explained by their layer, shapes of the inputs
    assert set(head.match_views()) == VIEWS[name]
    distances = head.view_distances(out)
    for view, matches in head.explain(out).items():
        key = head.match_views()[view].frame_distances
        assert matches.path.shape == out[key].shape
        assert matches.path.dtype == torch.bool
        assert matches.soft.shape == out[key].shape
        assert distances[view].shape == (2, ways * queries, ways)
        # every support frame is matched by some query frame
        assert matches.path.any(-2).all()
    # losses (with what the head reads in training) and predictions
    head.train()
    losses = head.loss(_only_needs(full, head.needs))
    assert torch.isfinite(losses['loss_cls'])
    samples = head.eval().predict(episode, episode_data_samples(episode))
    assert samples[0].pred_score.shape == (ways * queries, ways)
    # each declared optional input is checked before any work
    for need in ('text', 'class_text', 'class_ids', 'keys'):
        if need in head.needs:
            with pytest.raises(ValueError, match=f'needs `{need}`'):
                head(episode.replace(**{need: None}))


def test_recognizer_refuses_a_head_whose_needs_it_cannot_meet():
    cfg = dict(
        type='FewShotRecognizer',
        backbone=dict(type='OpenCLIPVisual', arch='TinyCLIP-ViT-32'),
        cls_head=dict(type='CLIPFSARHead', loss_video_text=None))
    with pytest.raises(ValueError, match=r"CLIPFSARHead needs \['text'\].*"
                       'text_encoder'):
        MODELS.build(cfg)


def _sample(n=3, k=2, q=1, **meta):
    sample = ActionDataSample()
    sample.set_gt_label(torch.arange(n).repeat_interleave(q))
    info = dict(num_ways=n, num_shots=k, num_queries=q, episode_idx=4,
                class_ids=list(range(10, 10 + n)),
                all_class_names=[f'c{i}' for i in range(20)])
    info.update(meta)
    sample.set_metainfo({k: v for k, v in info.items() if v is not None})
    return sample


def test_layout_is_read_in_one_place_and_checked():
    assert episode_layout([_sample(), _sample()]) == (3, 2, 1)
    with pytest.raises(ValueError, match='share N, K and Q'):
        episode_layout([_sample(), _sample(k=1)])
    with pytest.raises(ValueError, match=r"lacks \['num_shots'\]"):
        episode_layout([_sample(num_shots=None)])
    # K is not re-derived from shapes: a support count that disagrees
    # with N*K is refused
    with pytest.raises(ValueError, match=r'\[B, N\*K, \.\.\.\] = \[B, 6'):
        Episode(3, 2, torch.zeros(1, 5, 4, 8), torch.zeros(1, 3, 4, 8))


def test_targets_and_missing_episode_key():
    targets = episode_targets([_sample()], 'cpu', need_class_ids=True,
                              need_keys=True)
    assert targets.class_ids.tolist() == [[10, 11, 12]]
    assert targets.keys.tolist() == [4] and targets.num_classes == 20
    assert targets.query_labels.dtype == torch.long
    with pytest.raises(ValueError, match='episode_idx'):
        episode_targets([_sample(episode_idx=None)], 'cpu', need_keys=True)


def test_global_ids_of_supports_and_queries():
    episode = random_episode(3, 2, 2, 4, 8).replace(
        class_ids=torch.tensor([[7, 1, 5]]))
    assert episode.support_class_ids().tolist() == [[7, 7, 1, 1, 5, 5]]
    assert episode.query_class_ids().tolist() == [[7, 7, 1, 1, 5, 5]]
    with pytest.raises(ValueError, match='has no class_ids'):
        episode.replace(class_ids=None).support_class_ids()


def test_worked_example_of_the_docs():
    """The test printed in docs/adding_a_method.md, as printed."""
    _two_view_example()
    head = MODELS.build(dict(type='TwoViewOTAMHead'))
    episode = random_episode(num_ways=3, num_shots=2, num_queries=2,
                             num_frames=6, dims=16)
    out = head(episode)
    assert out['logits'].shape == (1, 6, 3)
    assert set(head.loss(episode)) == {'loss_cls', 'loss_distill', 'acc'}
    matches = head.explain(out)
    assert matches['motion'].path.shape == (1, 6, 3, 5, 5)
    head.predict(episode, episode_data_samples(episode))


def test_recognizer_refuses_frame_kinds_its_encoder_cannot_give():
    """Checked when the model is built, naming head, encoder and kind."""
    from m2df_mmaction.models.heads import BaseFewShotHead

    @MODELS.register_module(force=True)
    class _NeedsSpatialHead(BaseFewShotHead):
        needs = frozenset({'frames', 'spatial'})

        def score(self, episode):
            raise AssertionError('never reached')

    cfg = dict(
        type='FewShotRecognizer',
        backbone=dict(type='MobileNetV2', widen_factor=0.25),
        cls_head=dict(type='_NeedsSpatialHead'))
    with pytest.raises(ValueError, match=r"_NeedsSpatialHead needs "
                       r"\['spatial'\] .*MobileNetV2 cannot provide"):
        MODELS.build(cfg)
    cfg['backbone'] = dict(type='OpenCLIPVisual', arch='TinyCLIP-ViT-32')
    model = MODELS.build(cfg)
    feats = model.encode_videos(torch.randn(1, 2, 3, 3, 32, 32))
    assert feats['frames'].shape == (1, 2, 3, 64)
    assert feats['spatial'].shape[:3] == (1, 2, 3)
