# Copyright (c) m2df_mmaction contributors.
import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.testing import episode_data_samples, random_episode

DIM = 32


def episodes(batch, ways, shots, queries, frames, dim=DIM, first_idx=0):
    """An episode batch with text (and the data samples for ``predict``)."""
    episode = random_episode(ways, shots, queries, frames, dim,
                             text_dims=dim, num_classes=12, batch_size=batch,
                             seed=first_idx, first_key=first_idx)
    return episode, episode_data_samples(episode)


def small_m2df(**kwargs):
    cfg = dict(
        type='M2DFHead',
        embed_dims=DIM,
        fusion=dict(type='CrossTransformerFusion', ffn_dims=64))
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('ways', [2, 5])
@pytest.mark.parametrize('shots', [1, 5])
@pytest.mark.parametrize('queries', [1, 5])
@pytest.mark.parametrize('frames', [4, 8])
def test_shapes(ways, shots, queries, frames):
    feats, samples = episodes(1, ways, shots, queries, frames)
    for head in (small_m2df(),
                 MODELS.build(dict(type='CLIPFSARHead', embed_dims=DIM))):
        out = head(feats)
        assert out['logits'].shape == (1, ways * queries, ways)
        losses = head.loss(feats)
        assert all(torch.isfinite(v) for v in losses.values())


def test_logits_are_minus_the_sum_of_view_distances():
    feats, samples = episodes(2, 5, 1, 2, 8)
    head = small_m2df().eval()
    out = head(feats)
    assert torch.allclose(out['logits'],
                          -(out['distance_local'] + out['distance_global']))
    assert out['text_similarity_local'].shape == (2, 10, 5)


def test_loss_terms_follow_the_config():
    feats, samples = episodes(1, 5, 1, 2, 8)
    both = small_m2df().loss(feats)
    assert set(both) == {'loss_cls', 'loss_distill', 'acc'}
    single = small_m2df(views=['global']).loss(feats)
    assert set(single) == {'loss_cls', 'acc'}  # distillation needs 2 views
    off = small_m2df(loss_distill=None).loss(feats)
    assert set(off) == {'loss_cls', 'acc'}
    with_vt = small_m2df(loss_video_text=dict(type='VideoTextLoss'))
    assert {'class_text', 'class_ids'} <= with_vt.needs
    assert 'class_text' not in small_m2df().needs
    assert 'loss_video_text' in with_vt.loss(feats)
    with pytest.raises(ValueError, match='views'):
        small_m2df(views=['local', 'middle'])


def test_single_view_uses_only_its_distance():
    feats, samples = episodes(1, 5, 1, 2, 8)
    head = small_m2df(views=['local']).eval()
    out = head(feats)
    assert 'distance_global' not in out
    assert torch.allclose(out['logits'], -out['distance_local'])


def test_no_prompt_selector_ablation_gives_zero_query_prompts():
    feats, samples = episodes(1, 5, 1, 2, 8)
    head = small_m2df(
        prompt_selector=dict(type='ProbabilityPromptSelector',
                             mode='none')).eval()
    selection = head.select_prompts(feats.query, feats.text, feats.keys)
    assert torch.count_nonzero(selection.prompt) == 0


def test_test_time_prompts_are_seeded_per_episode():
    """Same episode -> same predictions, alone or in a batch, any order."""
    torch.manual_seed(0)
    head = small_m2df(prompt_selector=dict(
        type='ProbabilityPromptSelector', temperature=1.0)).eval()
    feats, samples = episodes(3, 5, 1, 2, 8, first_idx=10)
    batch = head.predict(feats, samples)
    for b in range(3):
        single = feats.replace(
            **{k: getattr(feats, k)[b:b + 1]
               for k in ('support', 'query', 'text', 'query_labels',
                         'class_ids', 'keys')})
        torch.manual_seed(123 + b)  # global RNG must not matter
        pred = head.predict(single, episode_data_samples(single))[0]
        assert torch.allclose(pred.pred_score, batch[b].pred_score,
                              atol=1e-6)


def test_text_projection_for_other_text_dims():
    feats, samples = episodes(1, 5, 1, 1, 4)
    feats = feats.replace(text=torch.randn(1, 5, 48))
    head = small_m2df(text_dims=48)
    assert head.loss(feats)['loss_cls'] > 0
    with pytest.raises(ValueError, match='text_encoder'):
        head(feats.replace(text=None))


def test_clip_fsar_merge_before_and_video_text_loss():
    feats, samples = episodes(1, 5, 5, 1, 8)
    for merge in (False, True):
        head = MODELS.build(
            dict(type='CLIPFSARHead', embed_dims=DIM, merge_before=merge))
        losses = head.loss(feats)
        assert set(losses) == {'loss_cls', 'loss_video_text', 'acc'}
        assert 'class_text' in head.needs
    head = MODELS.build(
        dict(type='CLIPFSARHead', embed_dims=DIM, loss_video_text=None))
    assert set(head.loss(feats)) == {'loss_cls', 'acc'}
