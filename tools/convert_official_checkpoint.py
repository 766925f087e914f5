# Copyright (c) m2df_mmaction contributors.
"""Convert a checkpoint of the official CLIP-M2DF / CLIP-FSAR / TRX / HyRSM /
HyRSM++ / MoLo / D2ST-Adapter / TS-FSAR code.

    python tools/convert_official_checkpoint.py OFFICIAL_CKPT CONFIG OUT
        [--method m2df|clip_fsar|trx|hyrsm|molo|d2st|tsfsar]
        [--cfg-options KEY=VALUE ...]

The config's model is built (its CLIP weights give the frozen text encoder,
which official checkpoints do not hold), the official weights are renamed
(m2df_mmaction/models/official_weights.py documents the mapping) and loaded
strictly for everything else, and ``OUT`` is written as an MMEngine
checkpoint that ``tools/test.py CONFIG OUT`` and the inference API load.
Offline, point the config's CLIP weights at a local file with
``--cfg-options model.backbone.pretrained=PATH
model.text_encoder.pretrained=PATH``.
"""
import argparse
import os.path as osp
import pickle
import re
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmengine.config import Config, DictAction

import m2df_mmaction  # noqa: F401  (compat fixes + registration)
from m2df_mmaction.models.official_weights import convert_official_state_dict
from m2df_mmaction.utils import (UserInputError, UserKeyError,
                                 check_cfg_options, check_checkpoint_file,
                                 registry_hints, run_main)
from m2df_mmaction.utils.errors import DEBUG_HELP

# Kept from the built model: the frozen text tower (not in official
# checkpoints), the fixed logit scale (the official heads have none) and
# the activation the CLIP was built with; D2ST-Adapter's ViT deletes CLIP's
# projection, which its encoder (project=False) does not use.
_FROM_CONFIG = ('text_encoder.', 'cls_head.log_scale', 'backbone.quick_gelu',
                'backbone.visual.proj')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official CLIP-M2DF/CLIP-FSAR checkpoint')
    parser.add_argument('checkpoint', help='official checkpoint file')
    parser.add_argument('config', help='the config of the converted model')
    parser.add_argument('out', help='output checkpoint file (.pth)')
    parser.add_argument(
        '--method',
        choices=['m2df', 'clip_fsar', 'trx', 'hyrsm', 'molo', 'd2st',
                 'tsfsar'],
        help='official code that wrote the checkpoint (default: from the '
        "config's head)")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as key=value pairs (e.g. '
        'model.backbone.pretrained=PATH model.text_encoder.pretrained=PATH '
        'for local CLIP weights)')
    parser.add_argument('--debug', action='store_true', help=DEBUG_HELP)
    return parser.parse_args(argv)


def _official_state_dict(path: str) -> dict:
    check_checkpoint_file(path, 'official checkpoint')
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:  # objects of the official code
        found = re.search(r'Unsupported global: GLOBAL (\S+)', str(error))
        what = f' (e.g. {found.group(1)})' if found else ''
        raise UserInputError(
            f'official checkpoint {path} holds pickled Python objects'
            f'{what} besides the weights, which torch.load(weights_only='
            'True) refuses to run; where the official code is installed, '
            're-save the weights alone: torch.save(ckpt["model_state"], '
            'path) (CLIP-FSAR) or torch.save(model.state_dict(), path).'
        ) from error
    except (RuntimeError, EOFError) as error:
        raise UserInputError(
            f'official checkpoint {path} cannot be loaded; it is probably '
            'truncated or corrupt (torch: '
            f'{str(error).strip().splitlines()[0]}).') from error
    # CLIP-FSAR saves {'model_state': ..., 'optimizer_state': ...}
    for key in ('model_state', 'state_dict', 'model'):
        if isinstance(checkpoint, dict) and isinstance(
                checkpoint.get(key), dict):
            return checkpoint[key]
    return checkpoint


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} not found.')
    out_dir = osp.dirname(osp.abspath(args.out))
    if not osp.isdir(out_dir):
        raise FileNotFoundError(f'out {args.out}: the folder {out_dir} does '
                                'not exist.')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    head_type = cfg.model.cls_head.type
    method = args.method or dict(
        M2DFHead='m2df', CLIPFSARHead='clip_fsar',
        TRXHead='trx', HyRSMHead='hyrsm', MoLoHead='molo',
        D2STHead='d2st', TSFSARHead='tsfsar').get(head_type)
    if method is None:
        raise ValueError(f'{args.config}: the head {head_type} has no '
                         'official checkpoint format; pass --method.')
    # the official file first: it is cheaper to read than the model to build
    converted, dropped = convert_official_state_dict(
        _official_state_dict(args.checkpoint), method)
    with registry_hints():
        model = MODELS.build(cfg.model)
    if getattr(model, 'text_encoder', None) is not None:
        model.text_encoder.init_weights()  # its CLIP weights load here
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
        lines = [f'{args.checkpoint} does not fit the model of {args.config}'
                 ' (after renaming the official keys):']
        for title, keys in (('missing keys', missing),
                            ('unexpected keys', unexpected),
                            ('shape mismatches', shapes)):
            if keys:
                more = f' (+{len(keys) - 8} more)' if len(keys) > 8 else ''
                lines.append(f'  {len(keys)} {title}: '
                             f'{", ".join(keys[:8])}{more}')
        lines.append('Is it the same method, backbone and shots?')
        raise UserKeyError('\n'.join(lines))
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
    sys.exit(run_main(main))
