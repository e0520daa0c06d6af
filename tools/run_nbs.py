"""Execute chapter notebooks in place so that the book shows fresh outputs.

The book renders the outputs saved in the notebooks (pandoc and Quarto do not run
code), so after changing a chapter run it again:

    python tools/run_nbs.py nbs/01_arrays.ipynb      # one chapter
    python tools/run_nbs.py                          # every chapter in nbs/
    python tools/run_nbs.py --skip slow nbs/16_gpt.ipynb   # keep the slow cells' saved outputs

Cells marked `#| eval: false` are not run and keep no output. Cells carrying a
flag named with --skip (for example `#| slow`) keep the output they already had.
The notebook is then cleaned with nbdev_clean's rules (no execution counts or
metadata noise), so the saved file is what git should see.
"""
import argparse
import os
import re
import sys
import time
from pathlib import Path

_DIRECTIVE = re.compile(r"^\s*#\|\s*(.*?)\s*$")


def directives(source):
    "The `#| ...` lines at the top of a code cell, as a list of strings."
    out = []
    for line in source.splitlines():
        m = _DIRECTIVE.match(line)
        if not m:
            if line.strip():
                break
            continue
        out.append(m.group(1))
    return out


def run_notebook(path, skip=()):
    "Run every code cell of `path` in a fresh shell and save the outputs in place."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.clean import _nbdev_clean

    path = Path(path)
    nb = read_nb(path)
    os.environ.setdefault("MPLBACKEND", "agg")
    shell = CaptureShell(path=path.parent)
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            dirs = directives(cell.source)
            flat = " ".join(dirs).replace(" ", "")
            if "eval:false" in flat:
                cell.outputs = []
                continue
            if any(d.split()[0] in skip for d in dirs if d):
                continue
            cell.outputs = []          # execnb keeps the old outputs of a cell that prints nothing
            shell.cell(cell)
            if shell.exc:
                raise RuntimeError(f"{path}: a cell failed, nothing was saved:\n{cell.source}") from shell.exc
    finally:
        os.chdir(cwd)
    nb.metadata.pop("jupytext", None)  # authoring-tool noise
    nb.metadata["kernelspec"] = {"display_name": "python3", "language": "python", "name": "python3"}
    _nbdev_clean(nb, path=path)
    write_nb(nb, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: every chapter in nbs/)")
    ap.add_argument("--skip", action="append", default=[], metavar="FLAG",
                    help="a cell flag whose cells are not re-run, keeping their saved outputs "
                         "(repeatable: --skip slow --skip gpu)")
    args = ap.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))  # the chapters import nand2llm even when it is not installed
    nbs = [Path(p) for p in args.notebooks] or sorted(p for p in (root / "nbs").glob("*.ipynb")
                                                       if not p.name.startswith("_"))
    for nb in nbs:
        t0 = time.perf_counter()
        run_notebook(nb, skip=set(args.skip))
        print(f"ran {nb} in {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
