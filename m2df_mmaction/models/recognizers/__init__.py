# Copyright (c) m2df_mmaction contributors.
from .few_shot_recognizer import FewShotRecognizer

__all__ = ['FewShotRecognizer']
