# Copyright (c) m2df_mmaction contributors.
"""Regression (issue 20): a model trained from a plain RN50 state dict (the
README's offline way) is rebuilt by the inference API with the activation
it was trained with.

Every published RN50 weight uses QuickGELU, so training decides QuickGELU
for a plain RN50 state dict (``decide_quick_gelu``, rule 5); the inference
API used to decide again, from the file alone, and chose GELU: same keys,
another network, no complaint. RN50's activations are in its text tower
(the visual ModifiedResNet has ReLUs only).
"""
import open_clip
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.config import Config
from open_clip.transformer import QuickGELU

from m2df_mmaction.apis import init_fewshot_recognizer

ARCH = 'RN50'


def activations(model: nn.Module) -> str:
    """``'text_encoder: 12 x QuickGELU'``: the activation modules."""
    found = {}
    for name, module in model.named_modules():
        if isinstance(module, (nn.GELU, QuickGELU)):
            key = (name.split('.')[0], type(module).__name__)
            found[key] = found.get(key, 0) + 1
    return ', '.join(f'{part}: {n} x {kind}'
                     for (part, kind), n in sorted(found.items()))


@pytest.fixture(scope='module')
def rn50_state_dict(tmp_path_factory):
    """A plain RN50 CLIP state dict (random values, fp16 to halve the
    file), as `torch.save(model.state_dict(), path)` writes OpenAI's."""
    torch.manual_seed(0)
    clip = open_clip.create_model(ARCH)
    path = str(tmp_path_factory.mktemp('rn50') / 'RN50.pt')
    torch.save({k: v.half() for k, v in clip.state_dict().items()}, path)
    return path


def test_train_and_inference_build_the_same_network(rn50_state_dict,
                                                    tmp_path):
    cfg = Config(
        dict(
            default_scope='mmaction',
            model=dict(
                type='FewShotRecognizer',
                backbone=dict(
                    type='OpenCLIPVisual', arch=ARCH,
                    pretrained=rn50_state_dict),
                text_encoder=dict(
                    type='OpenCLIPText', arch=ARCH,
                    pretrained=rn50_state_dict),
                cls_head=dict(type='OTAMHead'))))
    # the train path: the Runner builds the model and calls init_weights()
    trained = MODELS.build(cfg.model)
    trained.init_weights()
    ckpt = str(tmp_path / 'trained.pth')
    torch.save(dict(state_dict=trained.state_dict(), meta={}), ckpt)
    # the inference path
    rebuilt = init_fewshot_recognizer(cfg, ckpt, device='cpu')

    trained.eval()
    torch.manual_seed(1)
    inputs = dict(backbone=torch.randn(1, 3, 224, 224),
                  text_encoder=['jumping', 'running'])
    with torch.no_grad():
        outputs = {
            part: (getattr(rebuilt, part)(x), getattr(trained, part)(x))
            for part, x in inputs.items()
        }
    print(f'\ntrain path:     {activations(trained)}')
    print(f'inference path: {activations(rebuilt)}')
    for part, (out, expected) in outputs.items():
        diff = (out - expected).abs().max().item()
        print(f'{part}: max |inference - train| = {diff:.3g}')
    assert 'QuickGELU' in activations(trained)  # rule 5: all RN50 tags
    assert activations(rebuilt) == activations(trained)
    for out, expected in outputs.values():
        torch.testing.assert_close(out, expected, rtol=0, atol=0)
