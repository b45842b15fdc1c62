"""Rubrics (考评标准): the six scoring sheets of the seed's attachment, their loader and the scoring rules.

Pure: no I/O beyond reading the package's own data files.
"""

from rubrics.loader import RubricError, all_rubrics, get_rubric, load_sheet
from rubrics.model import Item, Rubric

__all__ = ["Item", "Rubric", "RubricError", "all_rubrics", "get_rubric", "load_sheet"]
