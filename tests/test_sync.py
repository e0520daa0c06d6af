"""The literate source and the package agree: nbs/ is the truth, nand2llm/ is generated from it.

The checks run nbdev_export and nbdev_clean on a copy of the repository, so a failing check never
rewrites your working tree: it tells you which files to regenerate.
"""
import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import NBS, ROOT

BIN = Path(sys.executable).parent


def _copy_project(dest):
    for name in ("settings.ini", "setup.py", "_quarto.yml"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(NBS, dest / "nbs", symlinks=True, ignore=shutil.ignore_patterns(".hypothesis", ".last_checked"))
    shutil.copytree(ROOT / "nand2llm", dest / "nand2llm", ignore=shutil.ignore_patterns("__pycache__"))


def _differences(a, b, pattern):
    names = {p.relative_to(a) for p in a.glob(pattern)} | {p.relative_to(b) for p in b.glob(pattern)}
    return sorted(str(n) for n in names
                  if not ((a / n).exists() and (b / n).exists() and filecmp.cmp(a / n, b / n, shallow=False)))


def test_package_is_exported_from_notebooks(tmp_path):
    _copy_project(tmp_path)
    # tools/export.py: nbdev_export, made repeatable for notebooks that export several modules
    for _ in range(2):     # exporting twice changes nothing
        subprocess.run([sys.executable, ROOT / "tools" / "export.py"], cwd=tmp_path, check=True,
                       capture_output=True)
    stale = _differences(ROOT / "nand2llm", tmp_path / "nand2llm", "*.py")
    assert not stale, (f"nand2llm/ is out of sync with nbs/ (run tools/export.py, never edit nand2llm/): "
                       f"{stale}")


def test_notebooks_are_clean(tmp_path):
    _copy_project(tmp_path)
    subprocess.run([BIN / "nbdev_clean"], cwd=tmp_path, check=True, capture_output=True)
    dirty = _differences(NBS, tmp_path / "nbs", "*.ipynb")
    assert not dirty, f"notebooks carry execution counts or metadata noise (run nbdev_clean): {dirty}"
