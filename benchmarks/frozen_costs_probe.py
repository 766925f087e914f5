# Copyright (c) m2df_mmaction contributors.
"""``TowerProbe`` of ``frozen_costs.py``: what autograd saves inside a CLIP
visual tower and which of its blocks enter the graph."""
import contextlib


class TowerProbe:
    """Where autograd saves tensors: inside the CLIP visual tower's own
    modules or elsewhere, and which tower blocks put their output in the
    graph.

    The tower's own modules are the stem (``conv1``, ``ln_pre``),
    ``ln_post`` and every block's children (norms, attention, MLP): an
    adapter hooked onto a whole block runs after the block's children have
    returned, so it counts as outside, as does the side network.
    """

    def __init__(self, model):
        import torch
        self.torch = torch
        visual = model.backbone.visual
        blocks = list(visual.transformer.resblocks)
        own = [getattr(visual, n, None) for n in ('conv1', 'ln_pre',
                                                  'ln_post')]
        own = [m for m in own if m is not None and hasattr(m, 'forward')]
        own += [child for blk in blocks for child in blk.children()]
        self.depth = 0
        self.counting = False
        self.handles = []
        self.block_outputs_in_graph = 0
        self.num_blocks = len(blocks)
        for module in own:
            self.handles.append(module.register_forward_pre_hook(self._enter))
            self.handles.append(
                module.register_forward_hook(self._leave, prepend=True))
        for blk in blocks:
            self.handles.append(
                blk.register_forward_hook(self._block, prepend=True))
        self.params = {
            p.untyped_storage().data_ptr()
            for p in model.parameters()
        }
        self.tower = {}
        self.other = {}

    def _enter(self, module, inputs):
        self.depth += 1

    def _leave(self, module, inputs, output):
        self.depth -= 1

    def _block(self, module, inputs, output):
        out = output[0] if isinstance(output, (tuple, list)) else output
        if self.counting and out.requires_grad:
            self.block_outputs_in_graph += 1

    def _pack(self, tensor):
        storage = tensor.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in self.params:
            (self.tower if self.depth > 0 else self.other)[ptr] = \
                storage.nbytes()
        return tensor

    @contextlib.contextmanager
    def saved_tensors(self):
        """Count what autograd saves, and the tower blocks in the graph."""
        self.counting = True
        try:
            with self.torch.autograd.graph.saved_tensors_hooks(
                    self._pack, lambda t: t):
                yield
        finally:
            self.counting = False

    def remove(self):
        for h in self.handles:
            h.remove()
