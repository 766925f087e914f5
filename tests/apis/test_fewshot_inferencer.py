# Copyright (c) m2df_mmaction contributors.
"""The inference API against the episodic path, and its determinism."""
import os.path as osp

import pytest
import torch
from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample

from m2df_mmaction.apis import (FewShotInferencer, SupportSet,
                                inference_fewshot_recognizer,
                                init_fewshot_recognizer)

WAYS, SHOTS = 3, 2  # the support_dir fixture


@pytest.fixture(scope='module')
def fitted(checkpoints, support_dir):
    """One fitted inferencer per head, built on first use."""
    made = {}

    def get(name):
        if name not in made:
            cfg, ckpt = checkpoints(name)
            inferencer = FewShotInferencer(
                cfg, ckpt, device='cpu', show_progress=False)
            inferencer.fit(support_dir)
            made[name] = inferencer
        return made[name]

    return get


def decode_with_video_dataset(cfg, paths, tmp_path):
    """Decode clips as the benchmark does: MMAction2's ``VideoDataset``
    with the config's test pipeline."""
    ann = tmp_path / 'clips.txt'
    ann.write_text(''.join(f'{p} 0\n' for p in paths))
    dataset = DATASETS.build(
        dict(
            type='VideoDataset',
            ann_file=str(ann),
            data_prefix=dict(video=''),
            pipeline=cfg.test_dataloader.dataset.dataset.pipeline,
            test_mode=True))
    return torch.stack([dataset[i]['inputs'] for i in range(len(paths))])


def episode_sample(names, num_queries, episode_idx):
    """An episode's data sample, as ``EpisodicDataset`` writes it."""
    sample = ActionDataSample()
    sample.set_gt_label(torch.arange(len(names)).repeat_interleave(
        num_queries))
    sample.set_metainfo(
        dict(
            num_ways=len(names),
            num_shots=SHOTS,
            num_queries=num_queries,
            class_names=names,
            class_ids=list(range(len(names))),
            all_class_names=names,
            episode_idx=episode_idx))
    return sample


@pytest.mark.parametrize(
    'name',
    ['otam', 'protonet', 'clip_fsar', 'm2df_argmax', 'trx', 'hyrsm', 'molo',
     'd2st', 'tsfsar'])
def test_api_matches_one_episode_through_predict(name, fitted, novel_clips,
                                                 tmp_path):
    """The support clips and one query per class as one benchmark episode
    through ``FewShotRecognizer.predict`` give the API's probabilities."""
    inferencer = fitted(name)
    support = inferencer.support.support_set
    assert (support.num_ways, support.num_shots) == (WAYS, SHOTS)
    queries = [novel_clips[name][2] for name in support.class_names]
    api = inferencer.predict(queries)
    model = inferencer.model
    clips = [path for path, _ in support.clip_list()] + queries
    inputs = decode_with_video_dataset(model.cfg, clips, tmp_path)
    sample = episode_sample(support.class_names, 1, 0)
    with torch.no_grad():
        pred = model.test_step(dict(inputs=[inputs], data_samples=[sample]))
    episodic = pred[0].pred_score  # [N*Q, N]
    got = torch.tensor([list(p['scores'].values()) for p in api])
    diff = (got - episodic).abs().max().item()
    print(f'{name}: max |API - episodic| = {diff:.2e}')
    assert diff < 1e-5
    assert [p['pred_label'] for p in api] == episodic.argmax(-1).tolist()


def test_m2df_sampled_prompts_match_the_episode_of_the_same_key(
        fitted, queries, tmp_path):
    """With M2DF's sampled test-time prompts, query ``q``'s draw is keyed by
    its episode: the API's one-query episode keyed by the clip equals the
    benchmark path on an episode with that ``episode_idx`` (query slot 0;
    the slots are filled with copies so that it has ``N*Q`` queries)."""
    inferencer = fitted('m2df')
    support = inferencer.support.support_set
    api = inferencer.predict(queries[:2])
    model = inferencer.model
    supports = [path for path, _ in support.clip_list()]
    diffs = []
    for query in api:
        inputs = decode_with_video_dataset(
            model.cfg, supports + [query['video']] * WAYS, tmp_path)
        sample = episode_sample(support.class_names, 1, query['clip_key'])
        with torch.no_grad():
            pred = model.test_step(
                dict(inputs=[inputs], data_samples=[sample]))
        got = torch.tensor(list(query['scores'].values()))
        diffs.append((got - pred[0].pred_score[0]).abs().max().item())
    print(f'm2df (sampled prompts): max |API - episodic| = {max(diffs):.2e}')
    assert max(diffs) < 1e-5


def test_same_results_for_batch_sizes_positions_and_calls(fitted, queries):
    inferencer = fitted('m2df')
    one = inferencer.predict(queries, batch_size=1)
    eight = inferencer.predict(queries, batch_size=8)
    # the last three in reverse order, another batch size and position
    three = inferencer.predict(queries[:-4:-1], batch_size=3)[::-1]
    assert len(one) == len(eight) == 8 and len(three) == 3
    worst = 0.0
    for a, b, c in zip(one[-3:], eight[-3:], three):
        assert a['video'] == b['video'] == c['video']
        assert a['clip_key'] == b['clip_key'] == c['clip_key']
        assert a['pred_class'] == b['pred_class'] == c['pred_class']
        assert a['prompt_class'] == b['prompt_class'] == c['prompt_class']
        for other in (b, c):
            for k, v in a['scores'].items():
                worst = max(worst, abs(v - other['scores'][k]))
            for view, dists in a['distances'].items():
                assert other['distances'][view] == pytest.approx(
                    dists, abs=1e-4)
            for view, align in a['alignment'].items():
                assert other['alignment'][view]['path'] == align['path']
    for a, b in zip(one, eight):
        assert a['pred_class'] == b['pred_class']
        assert a['prompt_class'] == b['prompt_class']
        for k, v in a['scores'].items():
            worst = max(worst, abs(v - b['scores'][k]))
    print(f'max |p(batch 1) - p(batch 8 or 3, reversed)| = {worst:.2e}')
    assert worst < 1e-5
    again = inferencer.predict(queries[:2], batch_size=1)
    assert again == one[:2]  # bit-identical on a re-run


def test_m2df_results(fitted, queries):
    inferencer = fitted('m2df')
    names = inferencer.support.support_set.class_names
    result = inferencer(queries[:2], return_datasamples=True)
    sample = result['predictions'][0]
    assert result['visualization'] == []
    assert sample.pred_score.shape == (WAYS, )
    assert sample.metainfo['class_names'] == names
    assert sample.alignment_path_local.shape == (WAYS, 8, 8)
    assert sample.alignment_soft_global.shape == (WAYS, 8, 8)
    pred = inferencer.predict(queries[:1])[0]
    assert list(pred['scores']) == names
    assert sum(pred['scores'].values()) == pytest.approx(1, abs=1e-5)
    assert pred['pred_class'] == max(pred['scores'], key=pred['scores'].get)
    assert set(pred['distances']) == {'local', 'global'} == set(
        pred['alignment'])
    # the fused logits are -s * (d_local + d_global)
    logits = sample.logits
    fused = -(sample.distance_local + sample.distance_global)
    scale = inferencer.model.cls_head.logit_scale.item()
    assert torch.allclose(logits, scale * fused, atol=1e-4)
    path = torch.tensor(pred['alignment']['local']['path'])
    assert path.shape == (WAYS, 8, 8) and path.dtype == torch.bool
    assert (path.sum(-2)[:, 1:] == 1).all()  # one query frame per frame
    assert pred['prompt_class'] in names and len(pred['prompt_probs']) == 3


@pytest.mark.parametrize('name, views', [('otam', {'otam'}),
                                         ('protonet', set()),
                                         ('trx', {'tuples2', 'tuples3'}),
                                         ('hyrsm', {'bimhm'}),
                                         ('molo', {'appearance', 'motion'})])
def test_distances_and_alignment_per_head(name, views, fitted, queries):
    pred = fitted(name).predict(queries[:1])[0]
    assert set(pred['distances']) == views == set(pred['alignment'])
    assert 'prompt_class' not in pred


def test_functional_api_and_dict_support(checkpoints, novel_clips, queries):
    cfg, ckpt = checkpoints('otam')
    model = init_fewshot_recognizer(cfg, ckpt, device='cpu')
    assert not model.training and model.cfg is not None
    support = {name: clips[:1] for name, clips in
               list(novel_clips.items())[:2]}
    preds = inference_fewshot_recognizer(model, support, queries[:2])
    assert len(preds) == 2
    assert preds[0].metainfo['class_names'] == list(support)
    assert preds[0].metainfo['filename'] == queries[0]
    # a folder of queries stands for its clips, sorted
    folder = osp.dirname(queries[0])
    inferencer = FewShotInferencer(model, show_progress=False)
    inferencer.fit(SupportSet(support))
    listed = [p['video'] for p in inferencer.predict(folder)]
    assert listed == [osp.join(folder, f'{i}.mp4') for i in range(4)]
