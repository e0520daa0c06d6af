"""Every chapter's own tests: each notebook runs top to bottom, as `nbdev_test` runs it.

Cells flagged with one of settings.ini's `tst_flags` (`slow`, `gpu`) are skipped unless named in
the environment variable NAND2LLM_TEST_FLAGS (`make test-slow` sets it to `slow`).
"""
import os
from configparser import ConfigParser

import pytest
from nbdev.test import test_nb as run_nb  # renamed so that pytest does not collect it

from conftest import ROOT, chapter_notebooks

_cfg = ConfigParser(delimiters=["="])
_cfg.read(ROOT / "settings.ini")
SKIP_FLAGS = _cfg["DEFAULT"]["tst_flags"].split()
FORCE_FLAGS = os.environ.get("NAND2LLM_TEST_FLAGS", "").split()


@pytest.mark.parametrize("notebook", chapter_notebooks(), ids=lambda p: p.stem)
def test_notebook(notebook):
    ok, seconds = run_nb(notebook, skip_flags=SKIP_FLAGS, force_flags=FORCE_FLAGS, basepath=ROOT)
    assert ok, f"{notebook.name} failed (the traceback is printed above)"
