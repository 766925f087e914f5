# Copyright (c) m2df_mmaction contributors.
"""Class descriptions: several sentences per class, from JSON files.

The format is TS-FSAR's (yaozhang0417/TS-FSAR ``prompts/<dataset>_{train,
test}.json``): one JSON object per file mapping a class name to a list of
sentences, e.g. ``{"brush hair": ["A person brushes ...", ...]}``, so the
official prompt files can be given as they are. A class is looked up by
its name, then (the official rule, ``utils/functions.py``
``build_embeddings``) with underscores read as spaces.
"""
import json
import os.path as osp
from typing import Dict, List, Sequence, Union

from m2df_mmaction.utils.paths import shipped_path

__all__ = ['ClassDescriptions', 'check_described']


class ClassDescriptions:
    """The sentences of each class, from one or more JSON files.

    Args:
        files (str | Sequence[str]): JSON files (e.g. the train and test
            files of a dataset); a class may appear in only one of them.

    Raises:
        ValueError: A missing or unreadable file, a file that is not an
            object of non-empty lists of strings, or a class given two
            different lists by two files (naming the file and the class).
    """

    def __init__(self, files: Union[str, Sequence[str]]) -> None:
        self.files = [files] if isinstance(files, str) else list(files)
        if not self.files:
            raise ValueError('descriptions: give at least one JSON file.')
        self.sentences: Dict[str, List[str]] = {}
        for path in self.files:
            for name, sentences in self._read(path).items():
                if self.sentences.get(name, sentences) != sentences:
                    raise ValueError(
                        f'descriptions: {path} describes class {name!r} '
                        'differently from an earlier file; give each class '
                        'one list of sentences.')
                self.sentences[name] = sentences

    @staticmethod
    def _read(path: str) -> Dict[str, List[str]]:
        path = shipped_path(path)
        if not osp.isfile(path):
            raise ValueError(
                f'descriptions: {path} does not exist (a JSON file mapping '
                'each class name to a list of sentences).')
        try:
            with open(path, encoding='utf-8') as f:
                data = json.load(f)
        except (ValueError, UnicodeDecodeError) as err:
            raise ValueError(f'descriptions: {path} is not valid JSON '
                             f'({err}).') from None
        if not isinstance(data, dict) or not data:
            raise ValueError(
                f'descriptions: {path} must hold a non-empty JSON object '
                '{"class name": ["sentence", ...], ...}.')
        for name, sentences in data.items():
            if not isinstance(sentences, list) or not sentences or \
                    not all(isinstance(s, str) and s.strip()
                            for s in sentences):
                raise ValueError(
                    f'descriptions: {path}, class {name!r}: expected a '
                    'non-empty list of non-empty sentences, got '
                    f'{sentences!r:.80}.')
        return data

    def __contains__(self, name: str) -> bool:
        return name in self.sentences or \
            name.replace('_', ' ') in self.sentences

    def __getitem__(self, name: str) -> List[str]:
        """The sentences of class ``name``.

        Raises:
            KeyError: With the files searched and what to add.
        """
        for key in (name, name.replace('_', ' ')):
            if key in self.sentences:
                return self.sentences[key]
        raise KeyError(
            f'Class {name!r} has no description in {", ".join(self.files)}: '
            f'add "{name}": ["a sentence describing it", ...] to one of '
            'them (every class of every split needs one).')

    def missing(self, names: Sequence[str]) -> List[str]:
        """The names among ``names`` that have no description."""
        return [n for n in names if n not in self]


def check_described(model, dataset, where: str) -> None:
    """Refuse, before a loop starts, a split whose classes the model's
    description files do not all describe.

    Args:
        model: The (possibly wrapped) recognizer; nothing is checked unless
            its ``text_encoder`` has ``descriptions``.
        dataset: The loop's dataset (its ``class_names``, if any).
        where (str): The split, for the message (e.g. ``'train'``).

    Raises:
        ValueError: Naming the classes without description, the files and
            what to do.
    """
    model = getattr(model, 'module', model)
    descriptions = getattr(getattr(model, 'text_encoder', None),
                           'descriptions', None)
    if descriptions is None:
        return  # (read the dataset only when there is something to check)
    names = getattr(dataset, 'class_names', None)
    if names is None:
        return
    missing = descriptions.missing(list(names))
    if missing:
        raise ValueError(
            f'The {where} split has {len(missing)} class(es) without a '
            f'description in {", ".join(descriptions.files)}: '
            f'{", ".join(map(repr, missing[:5]))}'
            f'{" ..." if len(missing) > 5 else ""}. Add each as "name": '
            '["a sentence describing it", ...] (the text encoder embeds '
            'every class of every split from its description).')
