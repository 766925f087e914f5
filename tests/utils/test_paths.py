# Copyright (c) m2df_mmaction contributors.
"""Shipped files named from the repository root are found from any
working directory (the demo configs' weights and class descriptions)."""
import pytest

from m2df_mmaction.models.open_clip_utils.pretrained import locate_pretrained
from m2df_mmaction.models.text.descriptions import ClassDescriptions
from m2df_mmaction.utils.paths import shipped_path

DESCRIPTIONS = 'm2df_mmaction/synthetic/class_descriptions.json'
WEIGHTS = 'm2df_mmaction/synthetic/weights/tiny_clip_world.pth'


def test_shipped_files_from_another_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ClassDescriptions(DESCRIPTIONS).sentences
    path, _ = locate_pretrained('TinyCLIP-ViT-32', WEIGHTS)
    assert path.endswith(WEIGHTS) and path != WEIGHTS
    # a file of that name in the working directory wins
    (tmp_path / 'm2df_mmaction').mkdir()
    (tmp_path / DESCRIPTIONS).parent.mkdir(parents=True)
    (tmp_path / DESCRIPTIONS).write_text('{"a": ["an a."]}')
    assert ClassDescriptions(DESCRIPTIONS).sentences == {'a': ['an a.']}
    # other paths are left alone, and missing ones still named
    assert shipped_path('data/x.json') == 'data/x.json'
    with pytest.raises(ValueError, match='m2df_mmaction/nothing.json does '
                       'not exist'):
        ClassDescriptions('m2df_mmaction/nothing.json')
