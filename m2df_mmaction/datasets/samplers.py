# Copyright (c) m2df_mmaction contributors.
"""An infinite sampler that can skip ahead without loading anything."""
import itertools

from mmaction.registry import DATA_SAMPLERS
from mmengine.dataset import InfiniteSampler

__all__ = ['ResumableInfiniteSampler']


@DATA_SAMPLERS.register_module()
class ResumableInfiniteSampler(InfiniteSampler):
    """MMEngine's ``InfiniteSampler`` plus :meth:`skip`.

    The index stream is the same as ``InfiniteSampler``'s (same seed, same
    order, same split over ranks). :meth:`skip` restarts it and drops the
    first indices of this rank, which costs a few integer draws instead of
    loading and decoding the skipped episodes.
    """

    def skip(self, num: int) -> None:
        """Restart the stream at this rank's ``num``-th index.

        Args:
            num (int): Indices of this rank to drop (iterations already
                trained times the batch size).
        """
        self.indices = itertools.islice(self._indices_of_rank(), num, None)
