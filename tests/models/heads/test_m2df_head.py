# Copyright (c) m2df_mmaction contributors.
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

DIM = 32


def episodes(batch, ways, shots, queries, frames, dim=DIM, first_idx=0):
    feats = dict(
        support=torch.randn(batch, ways * shots, frames, dim),
        query=torch.randn(batch, ways * queries, frames, dim),
        text=torch.randn(batch, ways, dim),
        class_text=torch.randn(12, dim))
    samples = []
    for b in range(batch):
        sample = ActionDataSample()
        sample.set_gt_label(torch.arange(ways).repeat_interleave(queries))
        sample.set_metainfo(
            dict(
                num_ways=ways,
                num_shots=shots,
                num_queries=queries,
                episode_idx=first_idx + b,
                class_ids=list(range(b, b + ways))))
        samples.append(sample)
    return feats, samples


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
        out = head(**feats, data_samples=samples)
        assert out['logits'].shape == (1, ways * queries, ways)
        losses = head.loss(feats, samples)
        assert all(torch.isfinite(v) for v in losses.values())


def test_logits_are_minus_the_sum_of_view_distances():
    feats, samples = episodes(2, 5, 1, 2, 8)
    head = small_m2df().eval()
    out = head(**feats, data_samples=samples)
    assert torch.allclose(out['logits'],
                          -(out['distance_local'] + out['distance_global']))
    assert out['text_similarity_local'].shape == (2, 10, 5)


def test_loss_terms_follow_the_config():
    feats, samples = episodes(1, 5, 1, 2, 8)
    both = small_m2df().loss(feats, samples)
    assert set(both) == {'loss_cls', 'loss_distill', 'acc'}
    single = small_m2df(views=['global']).loss(feats, samples)
    assert set(single) == {'loss_cls', 'acc'}  # distillation needs 2 views
    off = small_m2df(loss_distill=None).loss(feats, samples)
    assert set(off) == {'loss_cls', 'acc'}
    with_vt = small_m2df(loss_video_text=dict(type='VideoTextLoss'))
    assert with_vt.uses_class_text
    assert 'loss_video_text' in with_vt.loss(feats, samples)
    with pytest.raises(ValueError, match='views'):
        small_m2df(views=['local', 'middle'])


def test_single_view_uses_only_its_distance():
    feats, samples = episodes(1, 5, 1, 2, 8)
    head = small_m2df(views=['local']).eval()
    out = head(**feats, data_samples=samples)
    assert 'distance_global' not in out
    assert torch.allclose(out['logits'], -out['distance_local'])


def test_no_prompt_selector_ablation_gives_zero_query_prompts():
    feats, samples = episodes(1, 5, 1, 2, 8)
    head = small_m2df(
        prompt_selector=dict(type='ProbabilityPromptSelector',
                             mode='none')).eval()
    selection = head.select_prompts(feats['query'], feats['text'], samples)
    assert torch.count_nonzero(selection.prompt) == 0


def test_test_time_prompts_are_seeded_per_episode():
    """Same episode -> same predictions, alone or in a batch, any order."""
    torch.manual_seed(0)
    head = small_m2df(prompt_selector=dict(
        type='ProbabilityPromptSelector', temperature=1.0)).eval()
    feats, samples = episodes(3, 5, 1, 2, 8, first_idx=10)
    batch = head.predict(feats, samples)
    for b in range(3):
        single = {k: v[b:b + 1] if k != 'class_text' else v
                  for k, v in feats.items()}
        _, one = episodes(1, 5, 1, 2, 8, first_idx=10 + b)
        torch.manual_seed(123 + b)  # global RNG must not matter
        pred = head.predict(single, one)[0]
        assert torch.allclose(pred.pred_score, batch[b].pred_score,
                              atol=1e-6)


def test_text_projection_for_other_text_dims():
    feats, samples = episodes(1, 5, 1, 1, 4)
    feats['text'] = torch.randn(1, 5, 48)
    head = small_m2df(text_dims=48)
    assert head.loss(feats, samples)['loss_cls'] > 0
    with pytest.raises(ValueError, match='text_encoder'):
        head(feats['support'], feats['query'], None, data_samples=samples)


def test_clip_fsar_merge_before_and_video_text_loss():
    feats, samples = episodes(1, 5, 5, 1, 8)
    for merge in (False, True):
        head = MODELS.build(
            dict(type='CLIPFSARHead', embed_dims=DIM, merge_before=merge))
        losses = head.loss(feats, samples)
        assert set(losses) == {'loss_cls', 'loss_video_text', 'acc'}
        assert head.uses_class_text
    head = MODELS.build(
        dict(type='CLIPFSARHead', embed_dims=DIM, loss_video_text=None))
    assert set(head.loss(feats, samples)) == {'loss_cls', 'acc'}
