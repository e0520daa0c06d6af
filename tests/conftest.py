"""Shared facts about the repository for the project-level tests."""
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / "nbs"
os.environ.setdefault("MPLBACKEND", "agg")  # notebooks plot; tests never open windows


def chapter_notebooks():
    "Every notebook in nbs/ that is part of the book or the package (scratch notebooks start with `_`)."
    return sorted(p for p in NBS.glob("*.ipynb") if not p.name.startswith("_"))


def chapter_number(path):
    "The chapter number from a notebook's name (`07_nn.ipynb` -> 7; the introduction is 0)."
    m = re.match(r"(\d+)_", Path(path).name)
    return int(m.group(1)) if m else 0


@pytest.fixture(scope="session")
def root():
    return ROOT
