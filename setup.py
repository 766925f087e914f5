# Copyright (c) m2df_mmaction contributors.
from setuptools import setup

setup()
