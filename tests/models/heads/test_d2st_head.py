# Copyright (c) m2df_mmaction contributors.
"""D2STHead beyond the official parity: needs, classifier, bad settings."""
import pytest
import torch
from mmaction.registry import MODELS

from m2df_mmaction.testing import random_episode


def test_needs_class_ids_in_training_only():
    head = MODELS.build(dict(type='D2STHead', embed_dims=8, num_classes=5))
    assert head.train().needs == {'frames', 'class_ids'}
    assert head.eval().needs == {'frames'}  # own clips have no class ids
    no_cls = MODELS.build(
        dict(type='D2STHead', embed_dims=8, loss_video_cls=None))
    assert no_cls.train().needs == {'frames'}
    assert no_cls.video_classifier is None


def test_video_classifier_scores_the_temporal_mean():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='D2STHead', embed_dims=8,
                             num_classes=6)).train()
    episode = random_episode(3, 2, 1, 4, 8, num_classes=6, seed=0)
    out = head(episode)
    videos = torch.cat([episode.support, episode.query], 1).mean(2)
    torch.testing.assert_close(out['video_logits'],
                               head.video_classifier(videos))
    ids = torch.cat([episode.support_class_ids(),
                     episode.query_class_ids()], 1)
    expected = torch.nn.functional.cross_entropy(
        out['video_logits'].flatten(0, 1), ids.flatten()) * 2.0
    losses = head.loss(episode)
    torch.testing.assert_close(losses['loss_video_cls'], expected)


def test_more_classes_than_the_classifier_is_refused():
    head = MODELS.build(dict(type='D2STHead', embed_dims=8,
                             num_classes=4)).train()
    episode = random_episode(3, 1, 1, 4, 8, num_classes=9, seed=0)
    with pytest.raises(ValueError, match='num_classes=4'):
        head.loss(episode)
