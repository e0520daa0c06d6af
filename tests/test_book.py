"""A smoke build of the book: the offline HTML and PDF exist and hold every chapter."""
import html
import json
import re
import subprocess
import sys

import pytest

sys.path.insert(0, str(__import__("conftest").ROOT / "book"))
import build  # noqa: E402  (book/build.py)

from conftest import ROOT, chapter_notebooks  # noqa: E402


def _titles():
    "Every chapter's title, from its `# Title` cell."
    titles = []
    for nb in chapter_notebooks():
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            m = re.match(r"#\s+(.+)", "".join(cell["source"])) if cell["cell_type"] == "markdown" else None
            if m:
                titles.append("Introduction" if nb.name == "index.ipynb" else m.group(1).strip())
                break
    return titles


def _squash(text):
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    res = subprocess.run([sys.executable, ROOT / "book" / "build.py", "--out", out, "--only", "html", "--only", "pdf"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return out


def test_html_book_has_every_chapter(built):
    pages = list((built / "html").glob("*.html"))
    assert (built / "html" / "index.html").exists()
    text = _squash(" ".join(p.read_text(encoding="utf-8") for p in pages))
    for title in _titles():
        assert _squash(html.escape(title, quote=False)) in text, f"HTML book lacks chapter {title!r}"
    for page in pages:  # every image a page shows was written
        for src in re.findall(r'<img src="([^"]+)"', page.read_text(encoding="utf-8")):
            assert (page.parent / src).exists(), f"{page.name} shows a missing image {src}"


def test_pdf_book_has_every_chapter(built):
    pdf = built / "nand2llm.pdf"
    text = _squash(subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True, check=True).stdout)
    for title in _titles():
        assert _squash(title) in text, f"PDF lacks chapter {title!r}"
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", pdf], capture_output=True,
                                                               text=True).stdout).group(1))
    assert pages >= 2 * len(_titles()), f"the PDF has only {pages} pages"


def test_readme_is_generated_from_the_introduction(tmp_path):
    fresh = build.build_readme(target=tmp_path / "README.md").read_text(encoding="utf-8")
    assert fresh == (ROOT / "README.md").read_text(encoding="utf-8"), \
        "README.md is out of date with nbs/index.ipynb: run `make book`"


def test_bad_book_definition_names_the_problem(tmp_path):
    (tmp_path / "nbs").mkdir()
    (tmp_path / "_quarto.yml").write_text("book:\n  title: X\n  chapters:\n    - index.ipynb\n    - 99_nope.ipynb\n")
    (tmp_path / "nbs" / "index.ipynb").write_text("{}")
    with pytest.raises(build.BookError, match="99_nope.ipynb"):
        build.read_book(tmp_path)
    (tmp_path / "_quarto.yml").write_text("book: [unclosed")
    with pytest.raises(build.BookError, match="_quarto.yml"):
        build.read_book(tmp_path)


def test_fixups_find_code_fences_that_hold_backticks():
    "A code output that prints a ``` line must not end its block: text after it is still prose."
    source = "\n".join([
        "Chapter 12's table.",
        "````",                     # an output block fenced with four backticks...
        "```python",                # ...whose text holds a three-backtick line
        "x = 1's",
        "````",
        "After chapter 17's run, 5's.",
        "```",
        "code 3's",
        "```",
    ])
    fixed = build._typst_fixups(source).split("\n")
    assert fixed[0] == "Chapter 12\u2019s table."
    assert fixed[3] == "x = 1's"                                  # inside: untouched
    assert fixed[5] == "After chapter 17\u2019s run, 5\u2019s."   # prose again
    assert fixed[7] == "code 3's"
    headings = build._unnumber_headings("# A\n````\n```\n# not a heading\n````\n# B")
    assert headings.split("\n") == ["# A {.unnumbered}", "````", "```", "# not a heading",
                                    "````", "# B {.unnumbered}"]
