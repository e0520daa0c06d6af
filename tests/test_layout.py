"""The shape of the project: chapter order, a light package, one definition of the book."""
import ast
import json
import re
import subprocess
import sys

import yaml

from conftest import NBS, ROOT, chapter_notebooks, chapter_number

PACKAGE = ROOT / "nand2llm"
HEAVY = ["torch", "matplotlib", "graphviz", "hypothesis", "fastcore", "nbdev", "execnb", "sklearn",
         "scipy", "pandas", "IPython", "yaml", "typst", "pypandoc"]


_EXPORT_TO = re.compile(r"^\s*#\|\s*(?:default_exp|export[is]?)\s+([\w.]+)\s*$", re.MULTILINE)


def _exported_modules(notebook):
    "The modules a notebook writes: its `default_exp`, and every `#| export MODULE`."
    found = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code":
            found += [m for m in _EXPORT_TO.findall("".join(cell["source"])) if m not in found]
    return found


def _chapter_of_module():
    "module name -> chapter number, from the notebooks' export directives."
    out = {}
    for nb in chapter_notebooks():
        for mod in _exported_modules(nb):
            assert mod not in out, f"two notebooks export module {mod!r}"
            out[mod] = chapter_number(nb)
    return out


def _imported_package_modules(path):
    "Names of nand2llm modules that the module at `path` imports."
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # from .x import y  /  from . import x
                names |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
            elif node.module and node.module.startswith("nand2llm."):
                names.add(node.module.split(".")[1])
            elif node.module == "nand2llm":
                names |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("nand2llm.")}
    return names


def test_every_module_comes_from_a_chapter():
    chapters = _chapter_of_module()
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "_modidx"}
    orphans = modules - set(chapters)
    assert not orphans, f"modules with no notebook exporting them (generated files only): {sorted(orphans)}"


def test_chapters_import_only_earlier_chapters():
    "A module uses earlier chapters, and modules of its own chapter without a cycle."
    chapters = _chapter_of_module()
    same_chapter = {}
    for mod, n in chapters.items():
        path = PACKAGE / f"{mod}.py"
        assert path.exists(), f"chapter {n} declares module {mod!r} but nand2llm/{mod}.py is missing (tools/export.py)"
        for dep in _imported_package_modules(path):
            assert dep in chapters, f"nand2llm.{mod} imports unknown module nand2llm.{dep}"
            assert chapters[dep] <= n, (f"chapter {n} (nand2llm.{mod}) imports nand2llm.{dep} from chapter "
                                        f"{chapters[dep]}: a chapter may only use earlier chapters")
            if chapters[dep] == n:
                same_chapter.setdefault(mod, set()).add(dep)

    def visit(mod, path):
        assert mod not in path, f"modules of one chapter import each other in a cycle: {path + [mod]}"
        for dep in same_chapter.get(mod, ()):
            visit(dep, path + [mod])
    for mod in same_chapter:
        visit(mod, [])


def test_layout_knows_a_chapter_with_several_modules():
    "The mapping comes from the export directives: chapter 17 writes train and the modules beside it."
    chapters = _chapter_of_module()
    for mod in ("train", "config", "safetensors", "checkpoint", "cli", "errors"):
        assert chapters.get(mod) == 17, (mod, chapters.get(mod))
    assert chapters["gpt"] == 16 and chapters["sampling"] == 18


def test_import_is_light():
    mods = sorted(_chapter_of_module())
    code = ("import sys, nand2llm\n" + "".join(f"import nand2llm.{m}\n" for m in mods) +
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    heavy = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert heavy == "[]", f"importing nand2llm pulls in heavy libraries at import time: {heavy}"


def test_book_lists_every_chapter_in_order():
    book = yaml.safe_load((ROOT / "_quarto.yml").read_text())["book"]
    listed = []
    for entry in book["chapters"]:
        listed += entry["chapters"] if isinstance(entry, dict) else [entry]
    appendices = book.get("appendices") or []   # lettered notebooks: A_notation.ipynb, ...
    on_disk = [p.name for p in chapter_notebooks()]
    assert sorted(listed + appendices) == sorted(on_disk), \
        f"_quarto.yml lists {listed + appendices}, nbs/ has {on_disk}"
    numbers = [chapter_number(n) for n in listed]
    assert numbers == sorted(numbers) and numbers[0] == 0, f"chapters out of reading order: {listed}"
    assert appendices == sorted(appendices) and all(re.match(r"[A-Z]_", a) for a in appendices), \
        f"appendices are lettered A_, B_, ... in order: {appendices}"
    assert (NBS / "_quarto.yml").resolve() == (ROOT / "_quarto.yml").resolve(), \
        "nbs/_quarto.yml must link to the root _quarto.yml (Quarto's project is nbs/)"


CODE_WIDTH = 88  # what fits a code line of the PDF (8.1 pt mono on the A4 text block)


def test_visible_code_fits_the_page():
    "Code the book prints wraps to column 0 beyond the page width: keep shown lines short."
    too_long = []
    for nb in chapter_notebooks():
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] != "code" or re.search(r"^\s*#\|\s*(hide|include:\s*false|echo:\s*false)",
                                                         src, re.MULTILINE):
                continue
            # `#| key: value` cell options (a figure's caption) are read by the book build, never printed
            too_long += [f"{nb.name}: {line[:50]}... ({len(line)})" for line in src.splitlines()
                         if len(line) > CODE_WIDTH and not re.match(r"\s*#\|", line)]
    assert not too_long, f"{len(too_long)} shown code lines exceed {CODE_WIDTH} characters:\n" + \
        "\n".join(too_long[:20])
