# Copyright (c) m2df_mmaction contributors.
"""Iteration-based training whose resume does not replay the data."""
import torch
from mmaction.registry import LOOPS
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

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

    Arguments are those of ``IterBasedTrainLoop``.
    """

    def run(self) -> torch.nn.Module:
        """Launch training (see ``IterBasedTrainLoop.run``)."""
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self._skip_trained(self._iter)
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
