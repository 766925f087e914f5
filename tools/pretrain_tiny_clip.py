# Copyright (c) m2df_mmaction contributors.
"""Contrastive video-text pretraining of a tiny open_clip CLIP on the
captioned synthetic world (``m2df_mmaction.synthetic.captioned_world``).

Both towers are trained with open_clip's own ``ClipLoss``. A clip's video
embedding is the mean of its L2-normalised frame embeddings (the visual
tower sees one frame at a time, as in the few-shot models), normalised
again. The world never shows a class of the few-shot benchmark (see
``docs/tiny_clip.md``), so the benchmark's novel classes stay novel.

Example (the shipped checkpoint; about 9 minutes on 2 CPU cores)::

    python tools/pretrain_tiny_clip.py --work-dir work_dirs/tiny_clip_world
    python tools/pretrain_tiny_clip.py --work-dir work_dirs/tiny_clip_world \
        --resume                    # continue an interrupted run

The run writes ``<work-dir>/latest.pth`` (the full training state, every
``--ckpt-interval`` steps and when stopped), ``<work-dir>/log.jsonl`` and, at
the end, ``<work-dir>/tiny_clip_world.pth``: an open_clip checkpoint
(``{'state_dict': ..., 'arch': ..., 'quick_gelu': False, 'template': ...}``,
fp16 by default) that ``OpenCLIPVisual(arch=..., pretrained=FILE)`` and
``OpenCLIPText(arch=..., pretrained=FILE, template='a shape {}')`` load.
Batches are a pure function of ``(--world-seed, step)``, the model's
initialisation of ``--seed``, and nothing else is random, so a resumed run
ends with the same weights as an uninterrupted one.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cv2
import torch
from open_clip import get_tokenizer
from open_clip.loss import ClipLoss
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from m2df_mmaction.models.open_clip_utils import build_open_clip_model
from m2df_mmaction.synthetic.captioned_world import CaptionedWorld
from m2df_mmaction.synthetic.captions import CLASS_TEMPLATE

# CLIP's pixel statistics on the 0-255 scale (the demo configs'
# ActionDataPreprocessor uses the same).
CLIP_MEAN = (122.770938, 116.7460125, 104.09373615)
CLIP_STD = (68.5005327, 66.6321579, 70.32316305)
EXPORT_NAME = 'tiny_clip_world.pth'
STATE_NAME = 'latest.pth'
# Settings that change the result: a resumed run must use the same.
_RECIPE_KEYS = ('arch', 'steps', 'batch_size', 'frames', 'lr', 'min_lr',
                'warmup', 'weight_decay', 'frame_loss_weight', 'seed',
                'world_seed', 'trail', 'color_word_prob', 'shape_word_prob',
                'threads')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Pretrain a tiny CLIP on the captioned synthetic world.')
    p.add_argument('--work-dir', default='work_dirs/tiny_clip_world')
    p.add_argument('--arch', default='TinyCLIP-ViT-32',
                   help='registered open_clip architecture')
    p.add_argument('--steps', type=int, default=520, help='optimizer steps')
    p.add_argument('--batch-size', type=int, default=256,
                   help='clips (and captions) per step')
    p.add_argument('--frames', type=int, default=4,
                   help='frames per clip (of 16, as SampleFrames picks)')
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--min-lr', type=float, default=1e-5,
                   help='learning rate at the end of the cosine decay')
    p.add_argument('--warmup', type=int, default=30,
                   help='linear warm-up steps')
    p.add_argument('--weight-decay', type=float, default=0.1)
    p.add_argument('--frame-loss-weight', type=float, default=0.0,
                   help='weight of the frame-level ClipLoss (each frame '
                   'against its clip\'s caption, averaged over frames)')
    p.add_argument('--seed', type=int, default=0,
                   help='seed of the model initialisation')
    p.add_argument('--world-seed', type=int, default=0,
                   help='seed of the stream of pretraining clips')
    p.add_argument('--trail', type=int, default=0,
                   help='ghosts behind the object (match the benchmark)')
    p.add_argument('--color-word-prob', type=float, default=0.25,
                   help='probability that a caption names the colour')
    p.add_argument('--shape-word-prob', type=float, default=0.25,
                   help='probability that a caption names the shape')
    p.add_argument('--threads', type=int, default=2,
                   help='torch threads of the training process')
    p.add_argument('--workers', type=int, default=1,
                   help='processes that render clips (0: in the trainer)')
    p.add_argument('--ckpt-interval', type=int, default=50,
                   help='save the training state every N steps')
    p.add_argument('--resume', action='store_true',
                   help=f'continue from <work-dir>/{STATE_NAME}')
    p.add_argument('--stop-after', type=int, default=None,
                   help='stop (saving the state) after this step, as if '
                   'interrupted; for tests')
    p.add_argument('--fp32', action='store_true',
                   help='export fp32 weights (default fp16, half the size)')
    p.add_argument('--export', default=None,
                   help=f'also copy the final checkpoint here (besides '
                   f'<work-dir>/{EXPORT_NAME})')
    p.add_argument('--no-progress', action='store_true')
    args = p.parse_args(argv)
    for name in ('steps', 'batch_size', 'frames', 'threads'):
        if getattr(args, name) < 1:
            p.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.frames > 16:
        p.error('--frames must be <= 16 (the clips have 16 frames)')
    if args.warmup >= args.steps:
        p.error('--warmup must be smaller than --steps')
    return args


def recipe(args: argparse.Namespace) -> Dict:
    """The settings that determine the weights."""
    return {k: getattr(args, k) for k in _RECIPE_KEYS}


def lr_at(step: int, args: argparse.Namespace) -> float:
    """Linear warm-up for ``warmup`` steps, then cosine to ``min_lr``."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    frac = (step - args.warmup) / max(args.steps - args.warmup, 1)
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (
        1 + math.cos(math.pi * frac))


class WorldBatches(Dataset):
    """Batch ``i`` is step ``start + i`` of the world's clip stream.

    Args:
        world (CaptionedWorld): The world.
        seed (int): Stream seed.
        batch_size (int): Clips per batch.
        start (int): First step.
        stop (int): One past the last step.
    """

    def __init__(self, world: CaptionedWorld, seed: int, batch_size: int,
                 start: int, stop: int) -> None:
        self.world, self.seed, self.batch_size = world, seed, batch_size
        self.start, self.stop = start, stop

    def __len__(self) -> int:
        return max(self.stop - self.start, 0)

    def __getitem__(self, i: int) -> Tuple[torch.Tensor, List[str]]:
        frames, captions = self.world.batch(self.seed, self.start + i,
                                            self.batch_size)
        return torch.from_numpy(frames), captions


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def to_model_input(frames: torch.Tensor) -> torch.Tensor:
    """uint8 RGB ``[B, T, H, W, 3]`` -> CLIP-normalised ``[B*T, 3, H, W]``.
    """
    x = frames.flatten(0, 1).permute(0, 3, 1, 2).float()
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def pool_clips(frame_feats: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Mean of L2-normalised frame embeddings, normalised.

    Args:
        frame_feats (Tensor): ``[B*T, D]``.
        num_frames (int): ``T``.

    Returns:
        Tensor: ``[B, D]`` unit vectors.
    """
    f = torch.nn.functional.normalize(frame_feats, dim=-1)
    f = f.view(-1, num_frames, f.size(-1)).mean(1)
    return torch.nn.functional.normalize(f, dim=-1)


def frame_loss(loss_fn: ClipLoss, frame_feats: torch.Tensor,
               text: torch.Tensor, scale: torch.Tensor,
               num_frames: int) -> torch.Tensor:
    """``ClipLoss`` of every frame position against the captions, averaged.

    The Probability Prompt Selector compares *single frames* to class texts;
    the clip-level loss alone leaves single frames free to wander from
    their caption as long as their mean does not.

    Args:
        loss_fn (ClipLoss): open_clip's loss.
        frame_feats (Tensor): ``[B*T, D]`` frame embeddings.
        text (Tensor): ``[B, D]`` normalised caption embeddings.
        scale (Tensor): Logit scale.
        num_frames (int): ``T``.

    Returns:
        Tensor: Scalar loss.
    """
    f = torch.nn.functional.normalize(frame_feats, dim=-1)
    f = f.view(-1, num_frames, f.size(-1))
    return sum(loss_fn(f[:, t], text, scale)
               for t in range(num_frames)) / num_frames


def param_groups(model: torch.nn.Module, weight_decay: float) -> List[Dict]:
    """open_clip's grouping: no decay for gains, biases and the logit scale.
    """
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or 'bn' in name or 'ln' in name or 'bias' in name \
                or 'logit_scale' in name:
            no_decay.append(p)
        else:
            decay.append(p)
    return [dict(params=no_decay, weight_decay=0.0),
            dict(params=decay, weight_decay=weight_decay)]


def _save_atomic(obj: Dict, path: str) -> None:
    tmp = path + '.tmp'
    torch.save(obj, tmp)
    os.replace(tmp, path)


def export_checkpoint(model: torch.nn.Module,
                      path: str,
                      arch: str,
                      meta: Dict,
                      half: bool = True) -> str:
    """Write the open_clip checkpoint that the project's loaders read.

    Args:
        model (nn.Module): The trained open_clip CLIP.
        path (str): Output file.
        arch (str): Architecture name stored next to the weights.
        meta (dict): Recipe and figures stored next to the weights.
        half (bool): Store fp16 tensors (loaders cast them to the model's
            dtype). Defaults to True.

    Returns:
        str: ``path``.
    """
    state = {
        k: (v.half() if half and v.is_floating_point() else v).clone()
        for k, v in model.state_dict().items()
    }
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    _save_atomic(
        dict(
            state_dict=state,
            arch=arch,
            quick_gelu=False,
            template=CLASS_TEMPLATE,
            meta=meta), path)
    return path


def pretrain(args: argparse.Namespace) -> Dict:
    """Run (or continue) pretraining; returns a summary dict."""
    torch.set_num_threads(args.threads)
    os.makedirs(args.work_dir, exist_ok=True)
    state_path = osp.join(args.work_dir, STATE_NAME)
    log_path = osp.join(args.work_dir, 'log.jsonl')

    torch.manual_seed(args.seed)
    model = build_open_clip_model(args.arch, None, quick_gelu=False)
    model.train()
    tokenizer = get_tokenizer(args.arch)
    optimizer = torch.optim.AdamW(
        param_groups(model, args.weight_decay),
        lr=args.lr,
        betas=(0.9, 0.98),
        eps=1e-6)
    loss_fn = ClipLoss()
    start, elapsed = 0, 0.0
    if args.resume:
        if not osp.isfile(state_path):
            raise FileNotFoundError(
                f'--resume: no {state_path}; start without --resume')
        state = torch.load(state_path, map_location='cpu',
                           weights_only=True)
        if state['recipe'] != recipe(args):
            diff = sorted(k for k in _RECIPE_KEYS
                          if state['recipe'].get(k) != getattr(args, k))
            raise ValueError(
                f'--resume: {state_path} was written with other settings '
                f'({", ".join(diff)}); use them or another --work-dir')
        model.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
        start, elapsed = int(state['step']), float(state['elapsed'])
    elif osp.isfile(state_path):
        raise FileExistsError(
            f'{state_path} exists: pass --resume to continue that run, or '
            f'pick another --work-dir')
    elif osp.isfile(log_path):
        os.remove(log_path)

    world = CaptionedWorld(
        num_samples=args.frames,
        trail=args.trail,
        color_word_prob=args.color_word_prob,
        shape_word_prob=args.shape_word_prob)
    stop = args.steps
    if args.stop_after is not None:
        stop = min(stop, args.stop_after)
    loader = DataLoader(
        WorldBatches(world, args.world_seed, args.batch_size, start, stop),
        batch_size=None,
        shuffle=False,
        num_workers=args.workers,
        worker_init_fn=_worker_init if args.workers else None,
        prefetch_factor=2 if args.workers else None)

    def save(step: int) -> None:
        _save_atomic(
            dict(
                model=model.state_dict(),
                optimizer=optimizer.state_dict(),
                step=step,
                elapsed=elapsed + time.time() - t0,
                recipe=recipe(args)), state_path)

    t0 = time.time()
    bar = tqdm(
        total=args.steps,
        initial=start,
        desc='pretrain',
        disable=args.no_progress,
        dynamic_ncols=True)
    step = start
    max_scale = math.log(100.0)
    with open(log_path, 'a') as log:
        for frames, captions in loader:
            lr = lr_at(step, args)
            for group in optimizer.param_groups:
                group['lr'] = lr
            x = to_model_input(frames)
            frame_feats = model.encode_image(x)
            video = pool_clips(frame_feats, args.frames)
            text = model.encode_text(tokenizer(captions), normalize=True)
            scale = model.logit_scale.exp()
            loss = loss_fn(video, text, scale)
            if args.frame_loss_weight:
                loss = loss + args.frame_loss_weight * frame_loss(
                    loss_fn, frame_feats, text, scale, args.frames)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, max_scale)
                acc = (video @ text.T).argmax(1).eq(
                    torch.arange(len(captions))).float().mean().item()
            step += 1
            rec = dict(step=step, loss=round(loss.item(), 4),
                       acc=round(acc, 4), lr=lr,
                       scale=round(scale.item(), 2),
                       time=round(elapsed + time.time() - t0, 1))
            log.write(json.dumps(rec) + '\n')
            log.flush()
            bar.set_postfix(loss=f'{rec["loss"]:.3f}', acc=f'{acc:.2f}')
            bar.update(1)
            if step % args.ckpt_interval == 0 or step == stop:
                save(step)
    bar.close()
    total = elapsed + time.time() - t0
    summary = dict(step=step, seconds=round(total, 1), done=False)
    if step < args.steps:
        return summary
    meta = dict(
        recipe=recipe(args),
        seconds=round(total, 1),
        world=world.settings(),
        pooling='mean of L2-normalised frame embeddings',
        loss='open_clip.loss.ClipLoss',
        tool='tools/pretrain_tiny_clip.py')
    out = export_checkpoint(
        model, osp.join(args.work_dir, EXPORT_NAME), args.arch, meta,
        half=not args.fp32)
    if args.export:
        export_checkpoint(model, args.export, args.arch, meta,
                          half=not args.fp32)
    summary.update(done=True, checkpoint=out,
                   size_mb=round(osp.getsize(out) / 2**20, 2))
    return summary


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        summary = pretrain(args)
    except (FileExistsError, FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    if summary['done']:
        print(f'pretrained {summary["step"]} steps in {summary["seconds"]} '
              f's -> {summary["checkpoint"]} ({summary["size_mb"]} MB)')
    else:
        print(f'stopped after step {summary["step"]} of {args.steps} '
              f'({summary["seconds"]} s); continue with --resume')
    return 0


if __name__ == '__main__':
    sys.exit(main())
