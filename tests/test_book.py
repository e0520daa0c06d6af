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


def test_figure_references_become_numbers():
    "`@fig-label` (Quarto's cross-reference) names the figure's number; an unknown label is an error."
    md = "\n".join([
        "As @fig-b shows, and `@fig-a` in code stays.",
        "![First](a.png){#fig-a width=50%}",
        "![](uncaptioned.png){width=80%}",      # not a figure: no number
        "```",
        "![Inside code](c.png)",                # not a figure either
        "```",
        "![Second](b.png){#fig-b width=80%}",
        "See @fig-a.",
    ])
    html = build.resolve_figure_refs(md, "html").split("\n")
    assert html[0] == "As Figure 2 shows, and `@fig-a` in code stays."
    assert html[1].startswith("![Figure 1: First](a.png)") and html[6].startswith("![Figure 2: Second]")
    assert html[2] == "![](uncaptioned.png){width=80%}" and html[4] == "![Inside code](c.png)"
    assert html[7] == "See Figure 1."
    typst = build.resolve_figure_refs(md, "typst").split("\n")
    assert typst[0].startswith("As `@fig-b`{=typst} shows") and typst[1].startswith("![First]")
    with pytest.raises(build.BookError, match="fig-missing"):
        build.resolve_figure_refs("See @fig-missing.", "html")
    with pytest.raises(build.BookError, match="used twice"):
        build.resolve_figure_refs("![A](a.png){#fig-a}\n![B](b.png){#fig-a}", "html")


def test_plots_print_at_their_natural_size():
    "A plot's width comes from its pixels and dpi, capped at the text column; no dpi: the old 80%."
    import struct
    import zlib

    def png(width_px, dpi):
        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        ihdr = struct.pack(">IIBBBBB", width_px, 10, 8, 2, 0, 0, 0)
        phys = struct.pack(">IIB", round(dpi / 0.0254), round(dpi / 0.0254), 1) if dpi else b""
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + (chunk(b"pHYs", phys) if dpi else b"")
                + chunk(b"IEND", b""))
    assert build.png_width(png(1200, 240)) == round(100 * 5 * 72 / build.TEXT_WIDTH_PT)  # 5 inches
    assert build.png_width(png(2400, 240)) == 100                                        # 10 inches: capped
    assert build.png_width(png(1200, None)) == 80


def test_short_cells_stay_on_one_page():
    "In the PDF a short cell's code and text output are one unbreakable block; long cells and plots may split."
    code, out = build._fence("x = 1", "python"), build._fence("1", "output")
    kept = build.keep_together([code, out])
    assert kept[0].startswith("```{=typst}\n#block(breakable: false)[") and kept[1:3] == [code, out]
    assert kept[-1] == "```{=typst}\n]\n```\n"
    long_out = build._fence("\n".join(map(str, range(build.KEEP_TOGETHER_LINES))), "output")
    assert build.keep_together([code, long_out]) == [code, long_out]
    assert build.keep_together([code, "![A plot](p.png){width=80%}\n"])[0] == code
    assert build.keep_together([code]) == [code]
