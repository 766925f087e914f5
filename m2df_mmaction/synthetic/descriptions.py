# Copyright (c) m2df_mmaction contributors.
"""Class descriptions of the synthetic benchmark, written by its grammar.

TS-FSAR embeds each class from several sentences a language model wrote
(its ``prompts/*.json``). The synthetic world needs no language model: a
class name is a motion phrase of the caption grammar (:mod:`.captions`), so
the captions of that motion with several subjects (``'a shape …'``, ``'a red
shape …'``, ``'an arrow …'``, …) describe it in the words the tiny CLIP was
pretrained on. The file has TS-FSAR's format (class name -> sentences);
:data:`CLASS_DESCRIPTIONS` is the shipped one, for every class of the
catalogue (``tools/data/make_synthetic.py`` writes no other).
"""
import json
import os.path as osp
from typing import Dict, List, Sequence

from .captions import subject_phrase

__all__ = ['DESCRIPTION_SUBJECTS', 'CLASS_DESCRIPTIONS', 'class_descriptions',
           'write_class_descriptions']

#: The shipped descriptions of every class of the benchmark's catalogue.
CLASS_DESCRIPTIONS = osp.join(
    osp.dirname(osp.abspath(__file__)), 'class_descriptions.json')

#: The subjects of the sentences: (colour, shape), None for unnamed.
DESCRIPTION_SUBJECTS = ((None, None), ('red', None), (None, 'arrow'),
                        ('blue', 'disk'), ('green', 'square'))


def class_descriptions(names: Sequence[str]) -> Dict[str, List[str]]:
    """``{name: [caption of that motion with each subject]}``.

    Example:
        >>> class_descriptions(['moving up'])['moving up'][:2]
        ['a shape moving up', 'a red shape moving up']
    """
    return {
        name: [f'{subject_phrase(c, s)} {name}'
               for c, s in DESCRIPTION_SUBJECTS]
        for name in names
    }


def write_class_descriptions(path: str = CLASS_DESCRIPTIONS) -> str:
    """Describe every class of the catalogue, by name and by folder slug,
    into ``path`` (JSON); returns it. The shipped
    :data:`CLASS_DESCRIPTIONS` is this output."""
    from .motion_benchmark import CLASS_CATALOGUE
    classes = [c for split in CLASS_CATALOGUE.values() for c in split]
    described = class_descriptions([c.name for c in classes])
    # the clip folders are named by slug (support folders of the API and
    # the demo): the same sentences under the slug
    for c in classes:
        described.setdefault(c.slug, described[c.name])
    with open(path, 'w') as f:
        json.dump(described, f, indent=1)
        f.write('\n')
    return path
