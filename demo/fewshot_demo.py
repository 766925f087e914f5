# Copyright (c) m2df_mmaction contributors.
"""Recognise your own clips from a few labelled examples.

``python demo/fewshot_demo.py CONFIG CKPT --support DIR --query VIDEO
[VIDEO ...] [--out-dir D] [--device cpu] [--batch-size 8]``

``DIR`` holds one sub-folder of clips per class (the folder names are the
class names, and the text of the text-using heads); or give
``--support-list ANN_FILE CLASS_NAMES_FILE`` (lines ``<clip path> <label>``
as the project's annotation files, and one class name per line). Every
query (a folder stands for its video files) is classified among the support
classes. Prints a table (query, predicted class, top 3 with
probabilities); with ``--out-dir``, writes per query a PNG (its frames
above those of the best class's support clips, the OTAM alignment between
them, the class probabilities) and ``predictions.json``.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

os.environ.setdefault('HF_HUB_OFFLINE', '1')  # never wait for the hub

from mmengine.config import DictAction  # noqa: E402

from m2df_mmaction.apis import (ClipLoader, FewShotInferencer,  # noqa: E402
                                SupportSet, find_test_pipeline, list_clips,
                                load_fewshot_config)
from m2df_mmaction.utils import check_device, run_main  # noqa: E402
from m2df_mmaction.utils.errors import DEBUG_HELP  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Few-shot recognition of your own clips')
    parser.add_argument('config', help='config of the checkpoint')
    parser.add_argument('checkpoint', help='checkpoint file')
    support = parser.add_mutually_exclusive_group(required=True)
    support.add_argument(
        '--support',
        metavar='DIR',
        help='folder with one sub-folder of example clips per class')
    support.add_argument(
        '--support-list',
        nargs=2,
        metavar=('ANN_FILE', 'CLASS_NAMES_FILE'),
        help='annotation file ("<clip path> <label>" lines) and class names '
        '(one per line, line i = label i)')
    parser.add_argument(
        '--data-prefix',
        help='folder the paths of --support-list are relative to (default: '
        'the folder of ANN_FILE)')
    parser.add_argument(
        '--query',
        nargs='+',
        required=True,
        metavar='VIDEO',
        help='clips to classify (a folder stands for its video files)')
    parser.add_argument(
        '--out-dir', help='write one PNG per query and predictions.json here')
    parser.add_argument('--device', default=None, help='e.g. cpu, cuda:0')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--topk', type=int, default=3, help='classes listed per query')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as key=value pairs')
    parser.add_argument('--debug', action='store_true', help=DEBUG_HELP)
    return parser.parse_args(argv)


def format_table(preds: List[dict], topk: int = 3) -> str:
    """The printed table: query, predicted class, top-k probabilities."""
    rows = [('query', 'predicted', f'top-{topk} (probability)')]
    for pred in preds:
        ranked = sorted(pred['scores'].items(), key=lambda kv: -kv[1])
        rows.append((osp.relpath(pred['video']), pred['pred_class'],
                     ', '.join(f'{name} {prob:.2f}'
                               for name, prob in ranked[:topk])))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [
        f'{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}'
        for row in rows
    ]
    lines.insert(1, '-' * max(len(line) for line in lines))
    return '\n'.join(lines)


def folder_agreement(preds: List[dict], class_names: List[str]) -> str:
    """How many queries are predicted as the folder they lie in, when every
    query's folder is named as a support class (e.g. held-out clips)."""
    folders = [osp.basename(osp.dirname(osp.abspath(p['video'])))
               for p in preds]
    if not set(folders) <= set(class_names):
        return ''
    right = sum(f == p['pred_class'] for f, p in zip(folders, preds))
    return (f'{right} of {len(preds)} queries predicted as the class folder '
            f'they lie in ({right / len(preds):.0%}).')


def run(args: argparse.Namespace) -> List[dict]:
    """Fit the support set, classify the queries, print and write."""
    check_device(args.device, '--device')
    if args.support_list:
        support = SupportSet.from_annotation(
            *args.support_list, data_prefix=args.data_prefix)
    else:
        support = SupportSet.from_folder(args.support)
    # Every clip is checked before the model is built (fit and the queries
    # check them again, which only opens them).
    cfg = load_fewshot_config(args.config, args.cfg_options)
    loader = ClipLoader(find_test_pipeline(cfg))
    loader.check([(path, f'support clip of class {name!r}')
                  for path, name in support.clip_list()], 'support clips')
    queries = list_clips(args.query)
    loader.check([(path, f'query {i}') for i, path in enumerate(queries)],
                 'query clips')
    inferencer = FewShotInferencer(cfg, args.checkpoint, device=args.device)
    start = time.perf_counter()
    inferencer.fit(support, batch_size=args.batch_size)
    fitted = time.perf_counter() - start
    print(f'support: {support.num_ways} classes x {support.num_shots} clips '
          f'({support.source}), encoded in {fitted:.1f} s')
    start = time.perf_counter()
    samples = inferencer(
        queries, return_datasamples=True,
        batch_size=args.batch_size)['predictions']
    classified = time.perf_counter() - start
    preds = inferencer.postprocess(samples, [])['predictions']
    print(format_table(preds, args.topk))
    agreement = folder_agreement(preds, support.class_names)
    if agreement:
        print(agreement)
    print(f'{len(preds)} queries classified in {classified:.1f} s '
          f'({1000 * classified / len(preds):.0f} ms per query, batch size '
          f'{args.batch_size}, device {inferencer.device})')
    if args.out_dir:
        start = time.perf_counter()
        pngs = inferencer.visualize(queries, samples, out_dir=args.out_dir)
        with open(osp.join(args.out_dir, 'predictions.json'), 'w') as f:
            json.dump(preds, f)
        print(f'wrote {len(pngs)} PNGs and predictions.json to '
              f'{args.out_dir} in {time.perf_counter() - start:.1f} s')
    return preds


def _main(argv: Sequence[str]) -> int:
    run(parse_args(argv))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Known input errors print one message and return 1 (a traceback
    with ``--debug`` or ``M2DF_DEBUG=1``)."""
    return run_main(_main, argv, 'fewshot_demo')


if __name__ == '__main__':
    sys.exit(main())
