# Copyright (c) m2df_mmaction contributors.
"""MoLoHead reproduces the official ``CNN_BiMHM_MoLo``'s own numbers.

``tests/data/parity/alibaba`` holds what the public official head
(alibaba-mmai-research/MoLo ``f7f73b6``, ``models/base/few_shot.py``
L2390-L2656, loss of ``runs/train_net_few_shot.py`` L125) computed on
exactly expandable 7x7 maps and 224x224 frames with its own seeded
weights (README there: layouts, expansion, what each key holds). Each case
runs here through :class:`MoLoHead` built from the case's yaml values, with
the official state dict loaded through :func:`convert_official_state_dict`.

Layout: the official loader shuffles supports and queries; our head takes
way-major supports (the recorded ``support_waymajor_perm``) and queries in
any order (kept as recorded). The official train loss divides every term
by ``TRAIN.BATCH_SIZE`` = 4 except the reconstruction term; here 4 is the
optimizer wrapper's accumulation, so the test divides our per-episode
losses by it, and the head's reconstruction weight is ``0.1 * 4``.
"""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import nn

from m2df_mmaction.models.official_weights import convert_official_state_dict
from m2df_mmaction.structures import Episode

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(ROOT, 'tests', 'data', 'parity', 'alibaba')
TOL = 1e-5  # the goal
CASES = ('molo_1shot_train', 'molo_1shot_eval', 'molo_5shot_eval',
         'molo_k100_1shot_eval')


def _load(name):
    case = torch.load(osp.join(DATA, f'{name}.pt'))
    raw = torch.load(osp.join(DATA, case['state_dict_file']))
    state = {
        k: raw['tensors'][k] if k in raw['tensors'] else
        raw['int8_tensors'][k]['q'].float() * raw['int8_tensors'][k]['scale']
        for k in raw['keys']
    }
    return case, state


def _expand(encoded):
    """The README's exact expansion: maps ``[N, T, D, 7, 7]`` and frames
    ``[N, T, 3, 224, 224]``."""
    a1, a2 = (encoded[k].float() / 1024 for k in ('maps_A1', 'maps_A2'))
    p1, p2 = (encoded[k].float()[:, :, None] / 8
              for k in ('maps_P1', 'maps_P2'))
    maps = a1[..., None, None] * p1 + a2[..., None, None] * p2
    frames = (encoded['frames_lowres'].float() / 64).repeat_interleave(
        16, -2).repeat_interleave(16, -1)
    return maps, frames


def head_config(cfg):
    """Our head config from the official yaml values (``case['cfg']``)."""
    train = cfg['TRAIN']
    pe = dict(type='ScaledPositionalEncoding')
    if 'POSITION_A' in train and 'POSITION_B' in train:
        pe.update(a_scale=train['POSITION_A'], b_scale=train['POSITION_B'])
    return dict(
        type='MoLoHead',
        embed_dims=512,  # BACKBONE_NAME resnet18 (README: D = 512)
        num_classes=train['NUM_CLASS'],
        positional_encoding=pe,
        motion_weight=train.get('LOGIT_BALANCE_COFF', 0.3),
        loss_class=dict(
            type='CrossEntropyLoss',
            loss_weight=train['USE_CLASSIFICATION_VALUE']),
        loss_contrastive=dict(
            type='LongShortContrastiveLoss',
            loss_weight=train['USE_CONTRASTIVE_COFF']),
        loss_recons=dict(
            type='MotionReconstructionLoss',
            loss_weight=train['RECONS_COFF'] * train['BATCH_SIZE']))


def _build(case, state):
    head = MODELS.build(head_config(case['cfg']))
    converted, dropped = convert_official_state_dict(state, 'molo')
    assert dropped == []
    weights = {k[len('cls_head.'):]: v for k, v in converted.items()}
    result = head.load_state_dict(weights, strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys == ['log_scale']  # fixed at 1
    return head


def _episode(case):
    inputs, s = case['inputs'], case['settings']
    perm = inputs['support_waymajor_perm']
    s_maps, s_frames = _expand(inputs['support_encoded'])
    q_maps, q_frames = _expand(inputs['target_encoded'])
    return Episode(
        num_ways=s['way'],
        num_shots=s['shot'],
        support=s_maps[perm].mean((-2, -1))[None],
        query=q_maps.mean((-2, -1))[None],
        query_labels=inputs['target_labels'][None],
        class_ids=inputs['episode_class_ids'][None],
        num_classes=case['cfg']['TRAIN']['NUM_CLASS'],
        support_extra=dict(spatial=s_maps[perm][None],
                           raw_frames=s_frames[perm][None]),
        query_extra=dict(spatial=q_maps[None], raw_frames=q_frames[None]))


def _close(ours, official, what, tol=TOL):
    diff = (ours.detach().double() - official.double()).abs().max().item()
    print(f'parity {what}: {diff:.2g}')  # figures: pytest -s -k parity
    assert diff <= tol, f'{what}: max abs difference {diff:.3g}'
    return diff


def _rel(ours, official, what, tol=TOL):
    ours, official = torch.as_tensor(ours).double(), torch.as_tensor(
        official).double()
    diff = ((ours - official).abs().max() /
            official.abs().max().clamp_min(1e-12)).item()
    print(f'parity {what} (relative): {diff:.2g}')
    assert diff <= tol, f'{what}: max relative difference {diff:.3g}'


def _rows(ours_support, ours_query, case):
    """Our per-video rows in the official (loader) row order."""
    perm = case['inputs']['support_waymajor_perm']
    support = torch.empty_like(ours_support)
    support[perm] = ours_support  # official row perm[j] is our row j
    return torch.cat([support, ours_query])


def _capture(module, store, name):
    return module.register_forward_hook(
        lambda mod, args, out: store.__setitem__(name, out.detach()))


def _check_outputs(head, out, case, internals):
    official, s = case['outputs'], case['settings']
    nk = s['NK']
    for key in ('logits', 'logits_s2q', 'logits_q2s', 'logits_s2q_motion',
                'logits_q2s_motion'):
        _close(out[key][0], official[key], key)
    logits = out['class_logits'][0]
    _close(_rows(logits[:nk], logits[nk:], case),
           official['class_logits'], 'class_logits')
    for stream, key in (('appearance', 'appearance'), ('motion', 'motion')):
        ours = internals[stream]
        ordered = _rows(ours[:nk], ours[nk:], case)
        for side, start in (('support', 0), ('query', nk)):
            rows = case['internals'][f'{side}_{key}_rows']
            _close(ordered[start:start + rows],
                   case['internals'][f'{side}_{key}_pre_relu'],
                   f'{side} {key} transformer output (pre-ReLU)')


def _check_recons(recons, case, nk):
    """``recons`` ``[V, T-1, 3, H, W]`` against the recorded summaries."""
    rec = _rows(recons[:nk], recons[nk:], case).flatten(0, 1)
    rec = rec.detach().double()
    internals = case['internals']
    assert list(rec.shape) == internals['recons_shape']
    _close(rec.mean((-2, -1)), internals['recons_mean'], 'recons mean')
    _rel(rec.flatten(-2).norm(dim=-1), internals['recons_l2'], 'recons l2')
    _close(rec[..., 108:116, 108:116], internals['recons_crop_108_116'],
           'recons crop')


def _official_grads(head, case):
    """Compare our gradients, in the official layout, with the record."""
    params = dict(head.named_parameters())
    for key, expected in case['grads_of_total'].items():
        # where our copy of this official tensor lives (to_qkv: 3 parts)
        ours_keys, _ = convert_official_state_dict(
            {key: torch.zeros(3)}, 'molo')
        grads = [params[k[len('cls_head.'):]].grad for k in ours_keys]
        grad = torch.cat(grads) if len(grads) > 1 else grads[0]
        if not isinstance(expected, dict):
            _close(grad.reshape(expected.shape), expected,
                   f'gradient of {key}')
            continue
        grad = grad.reshape(expected['shape']).double()
        _close(grad[expected['row_index']], expected['rows'],
               f'gradient rows of {key}')
        _rel(grad.flatten(1).norm(dim=1), expected['row_l2'],
             f'gradient row L2 of {key}')
        _rel(grad.norm(dim=0), expected['col_l2'],
             f'gradient column L2 of {key}')
        _rel(grad.norm(), expected['l2'], f'gradient L2 of {key}')
        # a sum of ~1e6 float32 terms (up to 113): relative above 1
        _close(grad.sum(), torch.tensor(expected['sum']),
               f'gradient sum of {key}', TOL * max(1, abs(expected['sum'])))
    # every parameter of ours but the fixed logit scale was compared
    compared = set(convert_official_state_dict(
        dict.fromkeys(case['grads_of_total'], torch.zeros(3)), 'molo')[0])
    assert {f'cls_head.{k}' for k in params} - compared == \
        {'cls_head.log_scale'}


def _no_dropout(module: nn.Module) -> int:
    count = 0
    for m in module.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
            count += 1
    return count


@pytest.fixture
def one_thread():
    """Run as the numbers were recorded (README: one thread).

    The decoder's last convolution sums its weight gradient over 245
    images x 224 x 224 positions, and the BatchNorm after it makes the
    terms cancel: with 2 threads the summation order alone moves it by
    2.2e-5 (0.7 % of its largest entry), with 1 thread by 1.2e-7.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ~20 s per eval case, ~2 min and 8 GB peak for the train case (it
# decodes and backpropagates 245 frames at 224 px, as the official head)
@pytest.mark.slow
@pytest.mark.parametrize('name', CASES)
def test_molo_official_numerics(name, one_thread):
    case, state = _load(name)
    head = _build(case, state)
    episode = _episode(case)
    s, official = case['settings'], case['losses']
    nk = s['NK']
    internals = {}
    hooks = [_capture(head.transformer, internals, 'appearance'),
             _capture(head.transformer_motion, internals, 'motion')]
    if 'eval' in name:  # the official test path: eval(), no_grad
        head.eval()
        with torch.no_grad():
            out = head(episode)
            ce = head.loss_cls(out['logits'][0], episode.query_labels[0])
            # the official eval forward decodes too (its loss is 0)
            motion = head.motion(torch.cat(
                [episode.support_extra['spatial'],
                 episode.query_extra['spatial']], 1)[0])
            recons = head.decoder(motion.flatten(0, 1)).unflatten(
                0, motion.shape[:2])
        assert 'motion_recons' not in out  # not decoded for predictions
        _check_outputs(head, out, case, internals)
        _check_recons(recons, case, nk)
        _close(ce, official['CE'], 'CE')
        _close(ce / 4, official['total'], 'total')
        return
    head.train()
    assert _no_dropout(head) == s['n_dropout_modules_zeroed']
    out = head(episode)
    for hook in hooks:
        hook.remove()
    _check_outputs(head, out, case, internals)
    _check_recons(out['motion_recons'][0], case, nk)
    for key, value in case['internals']['bn_buffers_after_forward'].items():
        ours, _ = convert_official_state_dict({key: value}, 'molo')
        (ours_key, ) = ours
        _close(head.state_dict()[ours_key[len('cls_head.'):]].double(),
               value.double(), f'BatchNorm {key} after the forward')
    # the global ids of the episode are the official real labels
    ids = torch.cat([episode.support_class_ids(), episode.query_class_ids()],
                    1)[0]
    perm = case['inputs']['support_waymajor_perm']
    assert ids[:nk].tolist() == \
        case['inputs']['real_support_labels'][perm].tolist()
    assert ids[nk:].tolist() == case['inputs']['real_target_labels'].tolist()

    losses = head.loss_by_feat(out, episode)
    labels = episode.query_labels[0]
    _close(losses['loss_cls'], official['CE'], 'CE (mean)')
    _close(losses['loss_class'] / official['CLS_weight'], official['CLS'],
           'CLS')
    for key in ('s2q', 'q2s', 's2q_motion', 'q2s_motion'):
        _close(F.cross_entropy(out[f'logits_{key}'][0], labels),
               official[f'CE_{key}'], f'CE_{key}')
    weight = official['CONTRASTIVE_weight']
    _close(losses['loss_contrastive'],
           weight * (official['CE_s2q'] + official['CE_q2s']),
           'contrastive (appearance)')
    _close(losses['loss_contrastive_motion'],
           weight * (official['CE_s2q_motion'] + official['CE_q2s_motion']),
           'contrastive (motion)')
    # RECONS_COFF, not divided by BATCH_SIZE officially: x4 per episode
    batch = case['cfg']['TRAIN']['BATCH_SIZE']
    _close(losses['loss_recons'] / (official['RECONS_weight'] * batch),
           official['RECONS'], 'RECONS')
    total = sum(v for k, v in losses.items() if k.startswith('loss_')) / 4
    _close(total, official['total'], 'total')
    head.zero_grad()
    total.backward()
    _official_grads(head, case)
