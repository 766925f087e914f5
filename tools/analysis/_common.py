# Copyright (c) m2df_mmaction contributors.
"""Shared by the analysis tools: model, checkpoint and test episodes."""
import copy
import os.path as osp
import sys
import tempfile
from typing import Iterator, List, Optional, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:  # configs may import docs.examples.*
    sys.path.insert(0, ROOT)

import matplotlib  # noqa: E402

matplotlib.use('Agg')

import mmengine  # noqa: E402
import torch  # noqa: E402
from mmaction.registry import DATASETS  # noqa: E402
from mmaction.utils import register_all_modules  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmengine.utils import import_modules_from_strings  # noqa: E402
from torch import nn  # noqa: E402
from tqdm import tqdm  # noqa: E402

import m2df_mmaction  # noqa: F401,E402  (compat fixes + registration)
from m2df_mmaction.apis import (init_fewshot_recognizer,  # noqa: E402
                                model_cfg_for_checkpoint)
from m2df_mmaction.utils import check_checkpoint_matches  # noqa: E402
from m2df_mmaction.utils import install_excepthook  # noqa: E402

# The error boundary of the analysis tools run as scripts: a known input
# error is one message, --debug or M2DF_DEBUG=1 shows the traceback.
_MAIN = getattr(sys.modules.get('__main__'), '__file__', None) or ''
if osp.dirname(osp.abspath(_MAIN)) == osp.dirname(osp.abspath(__file__)):
    install_excepthook()

__all__ = [
    'load_config', 'load_model', 'build_test_episodes', 'iter_episodes',
    'model_label', 'episode_predictions', 'test_results'
]


def load_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a config, apply overrides and import its ``custom_imports``."""
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    return cfg


def load_model(cfg: Config, checkpoint: Optional[str]) -> nn.Module:
    """Build ``cfg.model`` on the CPU, load ``checkpoint``, eval mode.

    As the inference API builds it (:func:`init_fewshot_recognizer`): the
    network the checkpoint holds, no pretrained encoder weights read, the
    checkpoint checked key by key.

    Args:
        cfg (Config): A config read by :func:`load_config`.
        checkpoint (str, optional): An MMEngine checkpoint; None keeps the
            random initialisation.

    Returns:
        nn.Module: The model.
    """
    return init_fewshot_recognizer(cfg, checkpoint, device='cpu')


def build_test_episodes(cfg: Config, num_episodes: Optional[int] = None):
    """The config's fixed test episodes (an ``EpisodicDataset``)."""
    dataset_cfg = cfg.test_dataloader.dataset.copy()
    if num_episodes is not None:
        dataset_cfg['num_episodes'] = num_episodes
    return DATASETS.build(dataset_cfg)


@torch.no_grad()
def iter_episodes(model: nn.Module,
                  dataset,
                  desc: str = 'episodes') -> Iterator[Tuple[dict, object]]:
    """Run the model's frame encoder on each episode, with a progress bar.

    Yields:
        tuple: ``(episode, data_sample)``: the :class:`Episode` (``support``
        ``[1, N*K, T, D]``, ``query`` ``[1, N*Q, T, D]``, what the head
        needs), as :meth:`FewShotRecognizer.extract_feat` builds it.
    """
    for index in tqdm(range(len(dataset)), desc=desc, unit='episode'):
        data = model.data_preprocessor(pseudo_collate([dataset[index]]),
                                       False)
        episode, _ = model.extract_feat(
            data['inputs'], data_samples=data['data_samples'],
            test_mode=True)
        yield episode, data['data_samples'][0]


def model_label(config: str, given: Optional[str] = None) -> str:
    """A model's name in a figure: ``given``, else the config's name."""
    return given or osp.splitext(osp.basename(config))[0]


def episode_predictions(model: nn.Module, episode, sample) -> List[int]:
    """Predicted episode-relative labels ``[N*Q]`` of one episode."""
    sample = model.cls_head.predict(episode, [sample])[0]
    return sample.pred_label.tolist()


def test_results(cfg: Config,
                 checkpoint: str,
                 num_episodes: Optional[int] = None) -> List[dict]:
    """Per-episode results of a checkpoint on the config's test episodes,
    as ``tools/test.py CONFIG CKPT --dump`` writes them (the config's own
    test loop, the cached one where the config uses it, and MMEngine's
    ``DumpResults``), without keeping the file.

    Args:
        cfg (Config): A config read by :func:`load_config`.
        checkpoint (str): An MMEngine checkpoint of ``cfg.model``.
        num_episodes (int, optional): Test episodes; the config's if None.

    Returns:
        list[dict]: One flattened data sample per episode, in episode
        order (``pred_label``, ``gt_label``, the metainfo fields).
    """
    cfg = copy.deepcopy(cfg)  # the caller's config stays as it is
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler', 'val_dataloader', 'val_cfg',
                'val_evaluator'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = None
    cfg.log_level = 'WARNING'
    cfg.load_from = checkpoint
    cfg.model = model_cfg_for_checkpoint(cfg.model, checkpoint)
    if num_episodes is not None:
        cfg.test_dataloader.dataset.num_episodes = num_episodes
    with tempfile.TemporaryDirectory() as work_dir:
        out = osp.join(work_dir, 'results.pkl')
        cfg.work_dir = work_dir
        cfg.test_evaluator = dict(type='DumpResults', out_file_path=out)
        runner = Runner.from_cfg(cfg)
        check_checkpoint_matches(runner.model, checkpoint)
        runner.test()
        return mmengine.load(out)
