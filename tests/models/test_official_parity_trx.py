# Copyright (c) m2df_mmaction contributors.
"""TRXHead reproduces the official ``CNN_TRX`` numbers.

``tests/data/parity/alibaba`` holds what the official head
(alibaba-mmai-research/MoLo ``models/base/few_shot.py`` ``CNN_TRX``, at
``f7f73b6``) computed on fixed random frame features with its own seeded
initial weights: logits, per-cardinality logits, the losses and the
gradients (README there; no official code is in this repository). Each case
runs through ``TRXHead`` with its defaults (the official values: tuples of
2 and 3 frames, width 1152, PE x 0.1 of length ``int(1.5 T)``), the
official state dict loaded through ``convert_official_state_dict(sd,
'trx')``.

Layouts and reductions: the official loader shuffles supports and queries;
our head takes way-major supports (``support_waymajor_perm``) and the
queries in the recorded order. The recorded features are already scaled
by 0.1 (README ``feature_scale``), the scale at which TRX's logits are
O(10). The official loss is the mean CE divided by ``TRAIN.BATCH_SIZE`` = 4
(``runs/train_net_few_shot.py`` L137, no ``USE_CLASSIFICATION``; eval L355
the same): here that factor is the optimizer wrapper's accumulation, so
the test divides our per-episode loss by 4 before comparing.
"""
import os.path as osp
from itertools import combinations

import pytest
import torch
from mmaction.registry import MODELS
from torch import nn

from m2df_mmaction.models.official_weights import convert_official_state_dict
from m2df_mmaction.structures import Episode

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(ROOT, 'tests', 'data', 'parity', 'alibaba')
TOL = 1e-5  # the goal; measured maxima in the closing note
BATCH_SIZE = 4  # official TRAIN.BATCH_SIZE of the recorded cfg
CASES = ('trx_1shot_train', 'trx_1shot_eval', 'trx_5shot_eval')


def _official_state_dict(name='trx_state_dict'):
    """The official state dict, decoded exactly (README: int8 grid)."""
    sd = torch.load(osp.join(DATA, f'{name}.pt'))
    return {
        k: sd['tensors'][k] if k in sd['tensors'] else
        sd['int8_tensors'][k]['q'].float() * sd['int8_tensors'][k]['scale']
        for k in sd['keys']
    }


def _head(official_sd):
    head = MODELS.build(dict(type='TRXHead', embed_dims=512))
    converted, dropped = convert_official_state_dict(official_sd, 'trx')
    # 102 keys: 12 renamed; 28 + 56 tuples, 2 PE tables, 4 norm_v dropped
    assert len(converted) == 12 and len(dropped) == 90
    weights = {k[len('cls_head.'):]: v for k, v in converted.items()}
    result = head.load_state_dict(weights, strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys == ['log_scale']  # fixed at 1: no scale
    return head


def _episode(case):
    s, inputs = case['settings'], case['inputs']
    return Episode(
        num_ways=s['way'],
        num_shots=s['shot'],
        support=inputs['support_features'][
            inputs['support_waymajor_perm']][None],
        query=inputs['target_features'][None],
        query_labels=inputs['target_labels'][None])


def _close(ours, official, what, tol=TOL):
    diff = (ours.detach().double() - official.double()).abs().max().item()
    print(f'parity {what}: {diff:.2g}')  # figures: pytest -s -k parity
    assert diff <= tol, f'{what}: max abs difference {diff:.3g}'
    return diff


def _relative(ours, official, what, scale=None):
    """Norms and sums of a partially recorded gradient: to 1e-5 of their
    largest value (of ``scale`` if given)."""
    official = torch.as_tensor(official, dtype=torch.float64)
    diff = (ours - official).abs().max().item()
    scale = official.abs().max().item() if scale is None else scale
    print(f'parity {what}: {diff:.2g} (relative {diff / scale:.2g})')
    assert diff <= TOL * scale + 1e-9, f'{what}: {diff:.3g} of {scale:.3g}'


def _grads(head, case):
    expected, _ = convert_official_state_dict(case['grads_of_total'], 'trx')
    assert len(expected) == len(case['grads_of_total']) == 12
    params = dict(head.named_parameters())
    for key, record in expected.items():
        grad = params[key[len('cls_head.'):]].grad
        if not isinstance(record, dict):
            # v_linear.bias: analytic zero, recorded as rounding noise
            _close(grad, record, f'gradient of {key}')
            if 'v_linear.bias' not in key:
                _relative(grad.double(), record.double(),
                          f'gradient of {key} (relative)')
            continue
        _close(grad[record['row_index']], record['rows'],
               f'gradient of {key} (recorded rows)')
        _relative(grad.double().norm(dim=1), record['row_l2'],
                  f'row norms of the gradient of {key}')
        _relative(grad.double().norm(dim=0), record['col_l2'],
                  f'column norms of the gradient of {key}')
        _relative(grad.double().norm(), record['l2'],
                  f'L2 norm of the gradient of {key}')
        # a sum of ~1e6 float32 terms that cancel (1e-7 of a 0.03 norm):
        # its rounding is relative to the sum of |g|
        _relative(grad.double().sum(), record['sum'],
                  f'sum of the gradient of {key}',
                  scale=grad.double().abs().sum().item())
    # the official norm_v gets no gradient (never used): not built here
    assert all('norm_v' in k for k in case['params_without_grad'])


@pytest.mark.parametrize('name', CASES)
def test_trx_official_numerics(name):
    case = torch.load(osp.join(DATA, f'{name}.pt'))
    official_sd = _official_state_dict()
    head = _head(official_sd)
    # the rebuilt PE tables and tuples are the official ones (the tables to
    # the last bit of CPU sin/cos)
    for i, size in enumerate((2, 3)):
        layer = head.transformers[i]
        _close(layer.pe, official_sd[f'transformers.{i}.pe.pe'][0],
               f'PE table of cardinality {size}', tol=1e-7)
        assert layer.tuples.tolist() == [
            official_sd[f'transformers.{i}.tuples.{j}'].tolist()
            for j in range(len(list(combinations(range(8), size))))
        ]
    episode = _episode(case)
    official = case['losses']
    labels = episode.query_labels[0]
    if case['settings']['mode'] == 'eval':  # eval_epoch: eval(), no_grad
        head.eval()
        with torch.no_grad():
            out = head(episode)
    else:
        head.train()
        for module in head.modules():  # recorded with every p = 0
            if isinstance(module, nn.Dropout):
                module.p = 0.0
        out = head(episode)
    _close(out['logits'][0], case['outputs']['logits'], 'logits')
    _close(-out['distance_2'][0], case['internals']['logits_pairs'],
           'logits of the pairs')
    _close(-out['distance_3'][0], case['internals']['logits_triples'],
           'logits of the triples')
    losses = head.loss_by_feat(out, episode)
    _close(losses['loss_cls'], official['CE'], 'CE (mean)')
    _close(losses['loss_cls'] / BATCH_SIZE, official['total'],
           f'total (CE / {BATCH_SIZE})')
    assert torch.equal(losses['loss_cls'],
                       head.loss_cls(out['logits'][0], labels))
    if 'grads_of_total' in case:
        head.zero_grad()
        (losses['loss_cls'] / BATCH_SIZE).backward()
        _grads(head, case)


def test_key_mapping_of_a_whole_official_trx_checkpoint():
    """Wrappers stripped, the torchvision backbone renamed onto MMAction2's
    ResNet, the rebuilt tuples and PE tables checked, then dropped."""
    import torchvision
    from mmaction.models.backbones import ResNet

    official_sd = _official_state_dict()
    resnet = torchvision.models.resnet18()
    official_backbone = nn.Sequential(*list(resnet.children())[:-1])
    checkpoint = {f'module.head.{k}': v for k, v in official_sd.items()}
    checkpoint.update({
        f'module.head.backbone.{k}': v
        for k, v in official_backbone.state_dict().items()
    })
    converted, dropped = convert_official_state_dict(checkpoint, 'trx')
    ours = ResNet(depth=18, pretrained=None).state_dict()
    backbone = {k: v for k, v in converted.items()
                if k.startswith('backbone.')}
    assert set(backbone) == {f'backbone.{k}' for k in ours}
    assert all(v.shape == ours[k[len('backbone.'):]].shape
               for k, v in backbone.items())
    assert torch.equal(backbone['backbone.layer2.0.downsample.bn.weight'],
                       resnet.layer2[0].downsample[1].weight)
    assert len(dropped) == 90 and 'transformers.1.norm_v.bias' in dropped

    swapped = dict(official_sd)
    swapped['transformers.0.tuples.0'] = torch.tensor([1, 0])
    with pytest.raises(ValueError, match=r'transformers.0.tuples.\* of the '
                       'checkpoint are not the official tuples'):
        convert_official_state_dict(swapped, 'trx')
    rescaled = dict(official_sd)
    rescaled['transformers.1.pe.pe'] = official_sd['transformers.1.pe.pe'] * 2
    with pytest.raises(ValueError, match='not the official TRX positional'):
        convert_official_state_dict(rescaled, 'trx')
    with pytest.raises(ValueError, match='not keys of the official trx'):
        convert_official_state_dict(
            {**official_sd, 'context2.layers.0.0.norm.weight': torch.ones(1)},
            'trx')


def test_official_trx_checkpoint_converts_with_the_tool(tmp_path):
    """An official ``CNN_TRX`` checkpoint (torchvision ResNet-18 backbone,
    CLIP-FSAR-style ``model_state``) through
    tools/convert_official_checkpoint.py loads into a TRX model with
    MMAction2's ResNet."""
    import importlib.util

    import torchvision
    from mmengine.config import Config

    from m2df_mmaction.utils import check_checkpoint_matches

    config = tmp_path / 'trx_r18.py'
    config.write_text(
        f"_base_ = ['{ROOT}/configs/trx_demo_5w1s.py']\n"
        "model = dict(backbone=dict(_delete_=True, type='ResNet', depth=18,"
        " pretrained=None))\n")
    resnet = torchvision.models.resnet18()
    official = {f'head.{k}': v for k, v in _official_state_dict().items()}
    official.update({
        f'head.backbone.{k}': v for k, v in nn.Sequential(
            *list(resnet.children())[:-1]).state_dict().items()
    })
    source = str(tmp_path / 'official.pyth')
    torch.save(dict(model_state=official), source)
    out = str(tmp_path / 'converted.pth')
    spec = importlib.util.spec_from_file_location(
        'convert_official_checkpoint',
        osp.join(ROOT, 'tools', 'convert_official_checkpoint.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([source, str(config), out])  # method from the head: trx
    state = torch.load(out, map_location='cpu')
    assert state['meta']['method'] == 'trx'
    assert len(state['meta']['dropped_keys']) == 90
    weights = state['state_dict']
    assert torch.equal(weights['cls_head.transformers.1.v_linear.weight'],
                       official['head.transformers.1.v_linear.weight'])
    assert torch.equal(weights['backbone.layer4.1.conv2.bn.running_var'],
                       resnet.layer4[1].bn2.running_var)
    check_checkpoint_matches(
        MODELS.build(Config.fromfile(str(config)).model), out)
