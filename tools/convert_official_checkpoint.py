# Copyright (c) m2df_mmaction contributors.
"""Convert a checkpoint of the official CLIP-M2DF / CLIP-FSAR code.

    python tools/convert_official_checkpoint.py OFFICIAL_CKPT CONFIG OUT
        [--method m2df|clip_fsar]

The config's model is built (its CLIP weights give the frozen text encoder,
which official checkpoints do not hold), the official weights are renamed
(m2df_mmaction/models/official_weights.py documents the mapping) and loaded
strictly for everything else, and ``OUT`` is written as an MMEngine
checkpoint that ``tools/test.py CONFIG OUT`` and the inference API load.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmengine.config import Config

import m2df_mmaction  # noqa: F401  (compat fixes + registration)
from m2df_mmaction.models.official_weights import convert_official_state_dict

# Kept from the built model: the frozen text tower (not in official
# checkpoints) and the fixed logit scale (the official heads have none).
_FROM_CONFIG = ('text_encoder.', 'cls_head.log_scale')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official CLIP-M2DF/CLIP-FSAR checkpoint')
    parser.add_argument('checkpoint', help='official checkpoint file')
    parser.add_argument('config', help='the config of the converted model')
    parser.add_argument('out', help='output checkpoint file (.pth)')
    parser.add_argument(
        '--method',
        choices=['m2df', 'clip_fsar'],
        help='official code that wrote the checkpoint (default: from the '
        "config's head)")
    return parser.parse_args(argv)


def _official_state_dict(path: str) -> dict:
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # pickled objects of the official code
        raise RuntimeError(
            f'{path} holds objects that torch.load(weights_only=True) '
            'refuses; where the official code is installed, re-save the '
            'weights alone: torch.save(ckpt["model_state"], path) '
            '(CLIP-FSAR) or torch.save(model.state_dict(), path).') from error
    # CLIP-FSAR saves {'model_state': ..., 'optimizer_state': ...}
    for key in ('model_state', 'state_dict', 'model'):
        if isinstance(checkpoint, dict) and isinstance(
                checkpoint.get(key), dict):
            return checkpoint[key]
    return checkpoint


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    head_type = cfg.model.cls_head.type
    method = args.method or dict(
        M2DFHead='m2df', CLIPFSARHead='clip_fsar').get(head_type)
    if method is None:
        raise ValueError(f'{args.config}: the head {head_type} has no '
                         'official checkpoint format; pass --method.')
    model = MODELS.build(cfg.model)
    converted, dropped = convert_official_state_dict(
        _official_state_dict(args.checkpoint), method)
    expected = model.state_dict()
    missing = [
        k for k in expected
        if k not in converted and not k.startswith(_FROM_CONFIG)
    ]
    unexpected = [k for k in converted if k not in expected]
    if 'cls_head.loss_video_text.scale' in unexpected:  # lambda0 = 0 (M2DF)
        unexpected.remove('cls_head.loss_video_text.scale')
        converted.pop('cls_head.loss_video_text.scale')
    shapes = [
        f'{k} {tuple(v.shape)} vs {tuple(expected[k].shape)}'
        for k, v in converted.items()
        if k in expected and v.shape != expected[k].shape
    ]
    if missing or unexpected or shapes:
        raise KeyError(
            f'{args.checkpoint} does not fit the model of {args.config}: '
            f'missing {missing[:8]}, unexpected {unexpected[:8]}, shapes '
            f'{shapes[:8]}. Is it the same method, backbone and shots?')
    model.load_state_dict(converted, strict=False)
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(
                converted_from=osp.abspath(args.checkpoint),
                method=method,
                config=osp.abspath(args.config),
                dropped_keys=dropped)), args.out)
    print(f'{args.out}: {len(converted)} official tensors, '
          f'{len(dropped)} dropped (unused or aliases), text encoder from '
          'the config.')


if __name__ == '__main__':
    main()
