# Copyright (c) m2df_mmaction contributors.
"""Iteration-based training whose resume does not replay the data."""
import torch
from mmaction.registry import LOOPS
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from m2df_mmaction.models.text.descriptions import check_described

__all__ = ['EpisodicTrainLoop']


@LOOPS.register_module()
class EpisodicTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` that resumes without decoding skipped episodes.

    On resume at iteration ``n``, MMEngine's loop calls ``next()`` on the
    dataloader ``n`` times, decoding every episode already trained on (for
    CLIP-M2DF, 30 videos each). With a sampler that has ``skip()``
    (:class:`ResumableInfiniteSampler`), this loop instead restarts the
    index stream at the right place and builds a fresh dataloader iterator:
    the same episodes follow, at the cost of a few integer draws. Other
    samplers fall back to MMEngine's replay.

    Resuming also checks what MMEngine does not: the episode stream of the
    resumed run is the original one even without the original ``--seed``
    (MMEngine restores the seed from the checkpoint, but after the sampler
    was built), and a run resumed on another number of GPUs is refused
    (its iterations would count other episodes).

    Args:
        episodes_per_iteration (int): Episodes one iteration trains on all
            processes (set by :func:`~m2df_mmaction.utils.scale_schedule`).
            Defaults to 1.
        **kwargs: Those of ``IterBasedTrainLoop``.
    """

    def __init__(self, *args, episodes_per_iteration: int = 1,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.episodes_per_iteration = episodes_per_iteration

    def run(self) -> torch.nn.Module:
        """Launch training (see ``IterBasedTrainLoop.run``)."""
        check_described(self.runner.model, self.dataloader.dataset, 'train')
        if self.runner.val_loop is not None:
            check_described(self.runner.model,
                            self.runner.val_loop.dataloader.dataset, 'val')
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        hub = self.runner.message_hub
        if self._iter > 0:
            saved = hub.get_info('episodes_per_iteration')
            if saved is not None and saved != self.episodes_per_iteration:
                raise ValueError(
                    f'The checkpoint was trained with {saved} episodes per '
                    f'iteration (GPUs x batch size), this run has '
                    f'{self.episodes_per_iteration}: resume on the same '
                    'number of GPUs, or its iteration counts would mean '
                    'other episodes.')
            self._skip_trained(self._iter)
        hub.update_info('episodes_per_iteration', self.episodes_per_iteration)
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            self.run_iter(next(self.dataloader_iterator))
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def _skip_trained(self, iters: int) -> None:
        """Move the data stream past ``iters`` trained iterations."""
        sampler = getattr(self.dataloader, 'sampler', None)
        seed = self.runner.seed  # the checkpoint's, after a resume
        if getattr(sampler, 'seed', seed) != seed:
            print_log(
                f'The episode order follows the checkpoint\'s seed {seed} '
                f'(this run was started with seed {sampler.seed}).',
                logger='current')
            sampler.seed = seed
        if not hasattr(sampler, 'skip'):
            print_log(
                f'Replaying {iters} iterations of data to resume (the '
                'sampler cannot skip; use ResumableInfiniteSampler).',
                logger='current')
            for _ in range(iters):
                next(self.dataloader_iterator)
            return
        sampler.skip(iters * self.dataloader.batch_size)
        self.dataloader_iterator = _InfiniteDataloaderIterator(
            self.dataloader)
        print_log(
            f'Resumed the episode stream at iteration {iters} without '
            'loading the skipped episodes.',
            logger='current')
