# Copyright (c) m2df_mmaction contributors.
import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.models.heads import class_prototypes
from m2df_mmaction.testing import episode_data_samples, random_episode


def make_episode(batch=2, ways=3, shots=2, queries=2, frames=4, dim=16):
    return random_episode(ways, shots, queries, frames, dim,
                          batch_size=batch)


def test_class_prototypes_way_major():
    support = torch.arange(6.).view(1, 6, 1)  # 3 ways x 2 shots
    protos = class_prototypes(support, 3)
    assert protos.view(-1).tolist() == [0.5, 2.5, 4.5]
    with pytest.raises(ValueError, match='do not split'):
        class_prototypes(support, 4)


@pytest.mark.parametrize('head_type', ['ProtoNetHead', 'OTAMHead'])
def test_loss_and_predict(head_type):
    head = MODELS.build(dict(type=head_type))
    episode = make_episode()
    losses = head.loss(episode)
    assert set(losses) == {'loss_cls', 'acc'}
    assert losses['loss_cls'].dim() == 0 and losses['loss_cls'] > 0
    assert 0 <= float(losses['acc']) <= 1
    out = head.predict(episode, episode_data_samples(episode))
    for sample in out:
        assert sample.pred_score.shape == (6, 3)
        assert torch.allclose(sample.pred_score.sum(-1), torch.ones(6))
        assert sample.pred_label.shape == (6, )


def test_queries_equal_to_prototypes_are_recognised():
    episode = make_episode(shots=1, queries=1)
    episode = episode.replace(query=episode.support.clone())
    for head_type in ('ProtoNetHead', 'OTAMHead'):
        head = MODELS.build(dict(type=head_type))
        out = head.predict(episode, episode_data_samples(episode))
        for sample in out:
            assert sample.pred_label.tolist() == [0, 1, 2]


def test_otam_is_order_sensitive_protonet_is_not():
    episode = make_episode(shots=1, queries=1, frames=6)
    same_episode = episode.replace(query=episode.support.clone())
    flipped_episode = episode.replace(query=episode.support.flip(2))
    proto = MODELS.build(dict(type='ProtoNetHead'))
    otam = MODELS.build(dict(type='OTAMHead'))
    same = proto(same_episode)['logits']
    flipped = proto(flipped_episode)['logits']
    assert torch.allclose(same, flipped, atol=1e-5)
    same = otam(same_episode)['logits']
    flipped = otam(flipped_episode)['logits']
    assert not torch.allclose(same, flipped, atol=1e-3)
    # a query aligned with its own class in order scores highest
    diag = same.diagonal(dim1=1, dim2=2)
    assert (diag >= same.max(-1).values - 1e-6).all()


def test_clip_fsar_video_text_labels_stay_integers_under_bf16():
    """Class ids must not pass through the activations' dtype: in bf16,
    257 would become 256."""
    head = MODELS.build(dict(type='CLIPFSARHead', embed_dims=8))
    seen = {}

    def record(videos, text, labels):
        seen['labels'] = labels
        return videos.float().sum() * 0

    head.loss_video_text.forward = record
    episode = random_episode(2, 1, 1, 2, 8).replace(
        class_ids=torch.tensor([[257, 3]]), num_classes=300)
    outputs = dict(
        videos=torch.randn(1, 4, 8, dtype=torch.bfloat16),
        class_text=torch.randn(300, 8))
    head.extra_losses(outputs, episode)
    assert seen['labels'].dtype == torch.long
    assert seen['labels'].tolist() == [257, 3, 257, 3]


@pytest.mark.parametrize('head_type', ['CLIPFSARHead', 'M2DFHead'])
def test_video_text_loss_on_eval_outputs_is_a_clear_error(head_type):
    """loss_by_feat on the outputs of an eval-mode forward: a message that
    says what to do, not ``KeyError: 'videos'``."""
    cfg = dict(type=head_type, embed_dims=8)
    if head_type == 'M2DFHead':
        cfg.update(loss_video_text=dict(type='VideoTextLoss'),
                   loss_distill=None)
    head = MODELS.build(cfg)
    episode = random_episode(2, 1, 1, 2, 8, text_dims=8)
    eval_outputs = dict(logits=torch.randn(1, 2, 2))
    with pytest.raises(ValueError,
                       match=r'loss_video_text needs .*model\.train\(\)'):
        head.loss_by_feat(eval_outputs, episode)
