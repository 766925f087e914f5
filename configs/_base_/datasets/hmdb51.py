# HMDB51 (ARN split): few-shot episodes (see fewshot_video.py).
# Prepare with `python tools/data/build_fewshot_ann.py --dataset hmdb51`
# (docs/data_preparation.md); it writes the files named below.
_base_ = ['./fewshot_video.py']
data_root = 'data/hmdb51'
ann_root = f'{data_root}/annotations'
# The input: videos, or their frames (the fast path, 6-20x less CPU per clip:
# `build_fewshot_ann.py --extract-frames`, docs/data_preparation.md), read
# by pipelines that open clips with VideoOrFramesInit/VideoOrFramesDecode.
input_dir = 'videos'  # or 'frames'
video_root = f'{data_root}/{input_dir}'

train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            ann_file=f'{ann_root}/train.txt',
            data_prefix=dict(video=video_root)),
        class_names=f'{ann_root}/train_classes.txt'))
val_dataloader = dict(
    dataset=dict(
        dataset=dict(
            ann_file=f'{ann_root}/val.txt',
            data_prefix=dict(video=video_root)),
        class_names=f'{ann_root}/val_classes.txt'))
test_dataloader = dict(
    dataset=dict(
        dataset=dict(
            ann_file=f'{ann_root}/test.txt',
            data_prefix=dict(video=video_root)),
        class_names=f'{ann_root}/test_classes.txt'))
