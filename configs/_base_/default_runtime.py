default_scope = 'mmaction'
custom_imports = dict(imports=['m2df_mmaction'], allow_failed_imports=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    # log validation metrics by iteration (IterBasedTrainLoop), not epoch 0
    logger=dict(
        type='LoggerHook',
        interval=20,
        ignore_last=False,
        log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # The best checkpoint is chosen on the VALIDATION split, never on test.
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=1000,
        max_keep_ckpts=2,
        save_best='fewshot/accuracy',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'),
    # CPU runs: subnormal floats flushed to zero (switch: flush_denormal);
    # here rather than in custom_hooks so that a config's own custom_hooks
    # list does not drop it
    flush_denormal=dict(type='FlushDenormalHook'))

# Flush subnormal floats to zero when the model runs on the CPU (training,
# testing, the inference API): without it the CPU demo slows down ~3x after
# episode ~600 (docs/benchmarks.md). No effect on GPU kernels.
# --cfg-options flush_denormal=False turns it off.
flush_denormal = True

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=False)

vis_backends = [dict(type='LocalVisBackend')]
# TensorBoard: add dict(type='TensorboardVisBackend') (pip install tensorboard)
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, diff_rank_seed=False, deterministic=False)
custom_hooks = [
    # stop at the first NaN/inf loss term, naming it and the episodes
    dict(type='FiniteLossHook'),
    # training randomness is a function of the iteration: exact --resume
    dict(type='IterationSeedHook'),
    # counts/lists training videos replaced with EpisodicDataset(
    # on_corrupt='replace'); a no-op with the default on_corrupt='raise'
    dict(type='CorruptVideoHook'),
]
