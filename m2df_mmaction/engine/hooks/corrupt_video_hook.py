# Copyright (c) m2df_mmaction contributors.
"""Count and list the training videos replaced because they failed."""
import os.path as osp
from typing import Optional

from mmaction.registry import HOOKS
from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

__all__ = ['CorruptVideoHook']


@HOOKS.register_module()
class CorruptVideoHook(Hook):
    """Make replaced videos visible (``EpisodicDataset(on_corrupt=...)``).

    With ``on_corrupt='replace'``, a training episode whose video fails to
    load takes another video of the same class and records the pair in its
    metainfo. This hook collects the pairs after each iteration, keeps the
    count in the log (``replaced_videos``) and appends each replacement to
    ``<work_dir>/replaced_videos.txt`` (``iteration<TAB>episode<TAB>failed
    video<TAB>used instead``), so nothing is skipped silently.

    Args:
        file_name (str): File in the work dir. Defaults to
            ``'replaced_videos.txt'``.
    """
    priority = 'LOW'

    def __init__(self, file_name: str = 'replaced_videos.txt') -> None:
        self.file_name = file_name
        self.total = 0
        self.enabled = True

    def before_train(self, runner) -> None:
        """Switch off (no per-iteration gather) when nothing is replaced."""
        dataset = getattr(runner.train_dataloader, 'dataset', None)
        self.enabled = bool(getattr(dataset, 'replace_corrupt', True))

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Collect the replacements of this iteration's episodes."""
        if not self.enabled:
            return
        rows = []
        for sample in (data_batch or {}).get('data_samples') or []:
            for failed, used in sample.metainfo.get('replaced_videos', []):
                rows.append((runner.iter + 1,
                             sample.metainfo.get('episode_idx'), failed,
                             used))
        rows = [row for part in all_gather_object(rows) for row in part]
        self.total += len(rows)
        runner.message_hub.update_scalar('train/replaced_videos',
                                         self.total)
        if rows and is_main_process():
            with open(osp.join(runner.work_dir, self.file_name), 'a') as f:
                for row in rows:
                    f.write('\t'.join(str(v) for v in row) + '\n')
            print_log(
                f'Replaced {len(rows)} unreadable training video(s) at '
                f'iteration {runner.iter + 1} ({self.total} so far; see '
                f'{self.file_name}): ' + ', '.join(r[2] for r in rows),
                logger='current')
