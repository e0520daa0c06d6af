"""Build the NAND2LLM book offline: a multi-page HTML book and a PDF, from the notebooks.

Quarto is the book's reference renderer (`_quarto.yml` at the root is a Quarto book project), but it
cannot be installed everywhere. This build drives the engines Quarto itself uses, pandoc and typst,
from the same definition:

1. `_quarto.yml` gives the title, the parts and the chapters in reading order.
2. Each chapter notebook goes through nbdev's own notebook processing (the processors `nbdev_docs`
   runs, as configured in settings.ini), so hidden cells, directives and front matter are handled
   exactly as for Quarto.
3. The processed notebooks become one pandoc-markdown document: cell options (`echo`, `output`,
   `eval`, `include`) are honoured, saved outputs (text, PNG, SVG, markdown) are kept, and
   ```` ```{dot} ```` diagrams are rendered with graphviz.
4. pandoc writes the HTML book (`chunkedhtml`: one page per chapter, contents, navigation) and the
   typst source of the PDF, which the typst compiler turns into `nand2llm.pdf`.
5. README.md is written from `nbs/index.ipynb` (what `nbdev_readme` does with Quarto).

    python book/build.py                 # book/_build/html/index.html and book/_build/nand2llm.pdf
    python book/build.py --only html     # or pdf, or readme
    python book/build.py --out /tmp/b    # build somewhere else (the tests do)
"""
import argparse
import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
_ANSI = re.compile(r"\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])")
_OPTION = re.compile(r"^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$")
_DOT_FENCE = re.compile(r"^```\{dot\}[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
# math symbols that pandoc 3.9 writes under names newer typst releases dropped
_TYPST_RENAMED = {"dot.circle": "dot.o", "times.circle": "times.o", "plus.circle": "plus.o",
                  "minus.circle": "minus.o", "div.circle": "div.o"}
_DOT_OPTION = re.compile(r"^\s*//\|\s*([\w-]+)\s*:\s*(.*?)\s*$")
# an optional box: a Quarto callout, `::: {.callout-note}` ... `:::`, in a markdown cell
_CALLOUT = re.compile(r"^:::+\s*\{\.callout-(note|tip)[^}]*\}[ \t]*\n(.*?)^:::+[ \t]*$", re.MULTILINE | re.DOTALL)


# ----------------------------------------------------------------------------------------------
# The book's definition
# ----------------------------------------------------------------------------------------------
class BookError(Exception):
    "A problem in the book's sources, reported with the file it comes from."


def read_book(root=ROOT, allow_missing=False):
    "Title, metadata and the reading order (parts and chapters) from `_quarto.yml`."
    path = Path(root) / "_quarto.yml"
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
        book = cfg["book"]
        entries = book["chapters"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise BookError(f"{path}: cannot read the book definition ({e!r})") from e
    nbs = Path(root) / "nbs"
    order = []  # ("part", title, number) or ("chapter", Path)
    n_part = 0
    for entry in entries:
        if isinstance(entry, dict) and "part" in entry:
            order.append(("part", entry["part"], ROMAN[n_part]))
            n_part += 1
            chapters = entry.get("chapters") or []
        else:
            chapters = [entry]
        order += _chapter_entries(chapters, nbs, path, allow_missing)
    appendices = book.get("appendices") or []
    if appendices:  # Quarto's `appendices:` list: a divider, then chapters lettered A, B, ...
        order.append(("part", "Appendices", None))
        order += [("appendix", p, letter) for (_, p), letter in
                  zip(_chapter_entries(appendices, nbs, path, allow_missing), "ABCDEFGH")]
    return dict(title=book.get("title", ""), subtitle=book.get("subtitle", ""),
                author=book.get("author", ""), date=str(book.get("date", "")), order=order)


def _chapter_entries(chapters, nbs, path, allow_missing):
    "('chapter', notebook path) for each listed notebook that exists (a missing one is an error)."
    entries = []
    for ch in chapters:
        p = nbs / ch
        if not p.exists():
            if allow_missing:
                print(f"  skipping {ch}: listed in {path.name} but not written yet", file=sys.stderr)
                continue
            raise BookError(f"{path}: chapter {ch!r} is listed but {p} does not exist")
        entries.append(("chapter", p))
    return entries


def chapter_anchor(stem):
    "The id of a chapter's page and heading: `ch-attention` for 13_attention, `ch-notation` for A_notation."
    return f"ch-{re.sub(r'^([0-9]+|[A-Z])_', '', stem)}"


# a link to another notebook of the book, as Jupyter and Quarto follow it: [text](13_attention.ipynb)
_NB_LINK = re.compile(r"\]\((?P<stem>[\w-]+)\.ipynb(?:#[\w-]*)?\)")


def link_chapters(markdown):
    "Links to another notebook become links to that chapter's heading (pandoc resolves them)."
    return _NB_LINK.sub(lambda m: f"](#{chapter_anchor(m.group('stem'))})", markdown)


# ----------------------------------------------------------------------------------------------
# Notebook processing (nbdev's own processors)
# ----------------------------------------------------------------------------------------------
def process_notebook(path):
    "The notebook as nbdev prepares it for Quarto: directives applied, front matter extracted."
    from execnb.nbio import read_nb
    from nbdev.processors import FilterDefaults

    cwd = os.getcwd()
    os.chdir(ROOT)  # nbdev reads settings.ini from here (skip_procs and friends)
    try:
        nb = read_nb(path)
        FilterDefaults().nb_proc(nb).process()
    finally:
        os.chdir(cwd)
    meta = {}
    cells = []
    for cell in nb.cells:
        src = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if cell.cell_type == "raw" and src.lstrip().startswith("---"):
            meta.update(yaml.safe_load(src.strip().strip("-")) or {})
            continue
        if cell.cell_type == "markdown" and src.strip().startswith("<!-- WARNING"):
            continue
        cells.append(dict(cell_type=cell.cell_type, source=src, outputs=cell.get("outputs", [])))
    return meta, cells


def cell_options(source):
    "Split a code cell into its Quarto options (`#| key: value`) and its code."
    opts, lines = {}, source.splitlines()
    i = 0
    while i < len(lines):
        m = _OPTION.match(lines[i])
        if not m:
            break
        opts[m.group(1)] = yaml.safe_load(m.group(2)) if m.group(2) else True
        i += 1
    return opts, "\n".join(lines[i:]).strip("\n")


# ----------------------------------------------------------------------------------------------
# Notebook -> pandoc markdown
# ----------------------------------------------------------------------------------------------
class Media:
    "Writes images into the build's media folder, named by content so rebuilds are stable."

    def __init__(self, folder, ref=None):
        self.folder = Path(folder)
        self.ref = ref or self.folder.name  # how the document refers to the folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def save(self, data, ext, stem):
        digest = hashlib.sha1(data).hexdigest()[:10]
        name = f"{stem}-{digest}.{ext}"
        (self.folder / name).write_bytes(data)
        return f"{self.ref}/{name}"


def render_dot(source, media, stem):
    "Render a graphviz diagram to SVG; returns (relative path, natural width in points)."
    try:
        svg = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, check=True).stdout
    except FileNotFoundError as e:
        raise BookError("graphviz `dot` is not installed (apt-get install graphviz)") from e
    except subprocess.CalledProcessError as e:
        raise BookError(f"{stem}: graphviz could not render a diagram:\n{e.stderr.decode()}\n{source}") from e
    m = re.search(rb'<svg[^>]*width="([\d.]+)pt"', svg)
    return media.save(svg, "svg", stem), float(m.group(1)) if m else 400.0


def _dot_to_image(match, media, stem):
    body = match.group(1)
    caption, label = "", ""
    keep = []
    for line in body.splitlines():
        m = _DOT_OPTION.match(line)
        if m:
            if m.group(1) == "fig-cap":
                caption = m.group(2).strip().strip('"').strip("'")
            elif m.group(1) == "label":
                label = m.group(2).strip().strip('"').strip("'")
            continue
        keep.append(line)
    path, width_pt = render_dot("\n".join(keep), media, stem)
    # an A4 text column is about 450 pt wide: small diagrams keep their natural size
    width = min(100, round(100 * width_pt / 450))
    return f"![{caption}]({path}){{{_figure_id(label)}width={width}%}}\n"


def callout_markdown(match, target):
    "A Quarto callout as our book shows it: a shaded box (pandoc's typst writer drops div classes)."
    body = match.group(2).strip()
    if target == "typst":
        return f"```{{=typst}}\n#aside[\n```\n\n{body}\n\n```{{=typst}}\n]\n```\n"
    return f"::: {{.aside}}\n{body}\n:::\n"


def _figure_id(label):
    "The pandoc attribute that names a figure (`fig-...`, as in Quarto), or nothing."
    return f"#{label} " if label else ""


# a figure in pandoc markdown: an image with a caption alone on its line (pandoc's implicit figure)
_FIGURE = re.compile(r"^!\[(?P<cap>[^\]]+)\]\((?P<src>[^)]+)\)(?:\{(?P<attrs>[^}]*)\})?\s*$")
_FIG_REF = re.compile(r"(?<![\w@`])@(fig-[\w-]+)")


def resolve_figure_refs(markdown, target):
    """Number the figures in reading order and turn each `@fig-label` (Quarto's cross-reference) into
    `Figure N`: typst numbers figures itself, so the PDF gets typst's reference; HTML gets the number
    in the text and in the caption."""
    numbers, lines, n = {}, [], 0
    for line, fenced in _lines_with_fencing(markdown.split("\n")):
        m = None if fenced else _FIGURE.match(line)
        if m:
            n += 1
            label = re.search(r"#(fig-[\w-]+)", m.group("attrs") or "")
            if label:
                if label.group(1) in numbers:
                    raise BookError(f"figure label {label.group(1)!r} is used twice")
                numbers[label.group(1)] = n
            if target != "typst":
                line = line.replace(f"![{m.group('cap')}]", f"![Figure {n}: {m.group('cap')}]", 1)
        lines.append((line, fenced))

    def ref(m):
        if m.group(1) not in numbers:
            raise BookError(f"the text refers to @{m.group(1)}, but no figure has that label")
        return f"`@{m.group(1)}`{{=typst}}" if target == "typst" else f"Figure {numbers[m.group(1)]}"

    return "\n".join(line if fenced else _FIG_REF.sub(ref, line) for line, fenced in lines)


def _text(value):
    return "".join(value) if isinstance(value, list) else str(value)


def _fence(text, cls):
    "A fenced code block whose fence is longer than any backtick run inside it."
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks} {{.{cls}}}\n{text.rstrip()}\n{ticks}\n"


TEXT_WIDTH_PT = 459  # the PDF's text column: A4 less the margins of book/template.typ


def png_width(png):
    "How wide to show a plot: its natural size (from the PNG's dpi), so 10 pt labels print at 10 pt."
    i = png.find(b"pHYs")
    if png[:8] != b"\x89PNG\r\n\x1a\n" or i < 0 or png[i + 12] != 1:  # no dpi recorded
        return 80
    width_px = int.from_bytes(png[16:20], "big")
    dpi = int.from_bytes(png[i + 4:i + 8], "big") * 0.0254
    return max(30, min(100, round(100 * width_px / dpi * 72 / TEXT_WIDTH_PT)))


def output_markdown(out, media, stem, caption="", label=""):
    "One saved cell output as pandoc markdown; an image with a caption becomes a numbered figure."
    kind = out.get("output_type")
    if kind == "stream":
        text = _ANSI.sub("", _text(out.get("text", "")))
        return _fence(text, "output") if text.strip() else ""
    if kind == "error":
        return _fence(_ANSI.sub("", "\n".join(out.get("traceback", []))), "output")
    data = out.get("data", {})
    if "image/svg+xml" in data:
        svg = media.save(_text(data['image/svg+xml']).encode(), 'svg', stem)
        return f"![{caption}]({svg}){{{_figure_id(label)}}}\n" if label else f"![{caption}]({svg})\n"
    if "image/png" in data:
        png = base64.b64decode(_text(data["image/png"]))
        return f"![{caption}]({media.save(png, 'png', stem)}){{{_figure_id(label)}width={png_width(png)}%}}\n"
    if "text/markdown" in data:
        return _text(data["text/markdown"]) + "\n"
    if "text/latex" in data:
        return _text(data["text/latex"]) + "\n"
    if "text/plain" in data:
        return _fence(_text(data["text/plain"]), "output")
    return ""


def _lines_with_fencing(lines):
    "(line, inside) pairs: is the line inside a backtick code fence or one of its fences?"
    fence = 0   # the length of the open fence's backtick run; 0: no fence is open
    for line in lines:
        run = len(line.lstrip()) - len(line.lstrip().lstrip("`"))
        if not fence and run >= 3:
            fence = run
            yield line, True
        elif fence and run >= fence and not line.strip().strip("`"):
            # only a run at least as long as the opening one closes it (CommonMark)
            fence = 0
            yield line, True
        else:
            yield line, bool(fence)


def _unnumber_headings(markdown):
    "Mark every ATX heading outside code fences `{.unnumbered}`."
    out = []
    for line, fenced in _lines_with_fencing(markdown.splitlines()):
        if not fenced and re.match(r"#{1,6} ", line) and not line.rstrip().endswith("}"):
            line = line.rstrip() + " {.unnumbered}"
        out.append(line)
    return "\n".join(out)


def chapter_markdown(path, media, target, appendix=None):
    "A processed chapter notebook as pandoc markdown: heading, summary, cells (appendix: its letter)."
    meta, cells = process_notebook(path)
    stem = path.stem
    title = meta.get("title")
    if not title:
        raise BookError(f"{path}: no `# Title` markdown cell (every chapter starts with one)")
    is_intro = path.name == "index.ipynb"
    unnumbered = is_intro or appendix is not None
    heading = "Introduction" if is_intro else f"Appendix {appendix}: {title}" if appendix else title
    anchor = chapter_anchor(stem)
    parts = [f"# {heading} {{#{anchor}{' .unnumbered' if unnumbered else ''}}}\n"]
    if meta.get("description"):
        if target == "typst":  # pandoc's typst writer drops div classes: wrap in our template's function
            parts.append(f"```{{=typst}}\n#summary[\n```\n\n{meta['description']}\n\n```{{=typst}}\n]\n```\n")
        else:
            parts.append(f"::: {{.summary}}\n{meta['description']}\n:::\n")
    for cell in cells:
        src = cell["source"]
        if cell["cell_type"] == "markdown":
            src = _DOT_FENCE.sub(lambda m: _dot_to_image(m, media, stem), src)
            src = _CALLOUT.sub(lambda m: callout_markdown(m, target), src)
            src = link_chapters(src)
            if unnumbered:  # an unnumbered chapter has unnumbered sections (as in Quarto)
                src = _unnumber_headings(src)
            parts.append(src.strip() + "\n")
        elif cell["cell_type"] == "code":
            opts, code = cell_options(src)
            if opts.get("include") is False:
                continue
            shown = []
            if opts.get("echo", True) is not False and code.strip():
                shown.append(_fence(code, "python"))
            if opts.get("output", True) is not False and opts.get("eval", True) is not False:
                # Quarto's options: the plot's caption, and its label for `@fig-...` references
                caption, label = str(opts.get("fig-cap") or ""), str(opts.get("label") or "")
                for out in cell["outputs"]:
                    md = output_markdown(out, media, stem, caption, label)
                    if md:
                        shown.append(md)
                        if md.startswith("!["):  # one figure per cell carries the caption and label
                            caption = label = ""
            parts.extend(keep_together(shown) if target == "typst" else shown)
    info = dict(title=title, heading=heading, anchor=anchor, summary=meta.get("description", ""),
                appendix=appendix)
    return info, "\n".join(parts)


KEEP_TOGETHER_LINES = 25  # a cell's code with its text output, up to this many lines, stays on one page


def keep_together(shown):
    "A short cell's code and output as one unbreakable block in the PDF (plots are figures already)."
    lines = sum(md.count("\n") for md in shown)
    if len(shown) < 2 or lines > KEEP_TOGETHER_LINES or any(md.startswith("![") for md in shown):
        return shown
    return ["```{=typst}\n#block(breakable: false)[\n```\n", *shown, "```{=typst}\n]\n```\n"]


def part_markdown(title, number, target):
    "A part divider: its own page in HTML, a full page in the PDF."
    label = f"PART {number}" if number else ""
    if target == "typst":
        return f"```{{=typst}}\n#part-page(\"{label}\", \"{title}\")\n```\n"
    return f"# {f'Part {number}: ' if number else ''}{title} {{.unnumbered .part}}\n"


def landing_markdown(book, contents):
    "The web book's front page: what the book is, where to start, every chapter with its summary."
    intro = next((info for kind, info in contents if kind == "chapter"), None)
    lines = []
    if intro and intro["summary"]:
        lines.append(f"::: {{.lead}}\n{intro['summary']}\n:::\n")
    if intro:
        lines.append(f"[Start reading: {intro['heading']} →]({intro['anchor']}.html){{.start}}\n")
    lines.append("::: {.contents-list}")
    number = 0
    for kind, info in contents:
        if kind == "part":
            lines.append(f"\n[{f'Part {info[1]}: ' if info[1] else ''}{info[0]}]{{.part-title}}\n")
            continue
        if info is intro:  # the button above leads there
            continue
        if not info.get("appendix"):
            number += 1
        label = info["heading"] if info.get("appendix") else f"{number}. {info['heading']}"
        lines.append(f"- **[{label}]({info['anchor']}.html)**  \n  {info['summary']}")
    lines.append(":::\n")
    return "\n".join(lines)


def book_markdown(book, media, target):
    "The whole book as one pandoc-markdown document for `target` ('html' or 'typst')."
    chunks, titles, contents = [], [], []
    for entry in book["order"]:
        if entry[0] == "part":
            chunks.append(part_markdown(entry[1], entry[2], target))
            contents.append(("part", (entry[1], entry[2])))
        else:
            appendix = entry[2] if entry[0] == "appendix" else None
            info, md = chapter_markdown(entry[1], media, target, appendix)
            titles.append(info["title"])
            contents.append(("chapter", info))
            chunks.append(md)
    return resolve_figure_refs("\n\n".join(chunks), target), titles, contents


# ----------------------------------------------------------------------------------------------
# pandoc and typst
# ----------------------------------------------------------------------------------------------
def pandoc(*args, cwd=None, stdin=None):
    "Run the pandoc binary that the pypandoc-binary wheel carries; returns its output."
    import pypandoc

    cmd = [pypandoc.get_pandoc_path(), *map(str, args)]
    res = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=cwd)
    if res.returncode != 0:
        raise BookError(f"pandoc failed ({' '.join(cmd)}):\n{res.stderr}")
    for warning in res.stderr.splitlines():
        if warning.strip():
            print(f"  pandoc: {warning}", file=sys.stderr)
    return res.stdout


def _metadata_args(book):
    return ["--metadata", f"title={book['title']}", "--metadata", f"subtitle={book['subtitle']}",
            "--metadata", f"author={book['author']}", "--metadata", f"date={book['date']}"]


def build_html(book, out):
    "The web book: one page per chapter and part, contents on every page, prev/next links."
    html_dir = out / "html"
    if html_dir.exists():
        shutil.rmtree(html_dir)
    media = Media(out / "media")
    md, titles, contents = book_markdown(book, media, "html")
    src = out / "book-html.md"
    src.write_text(md, encoding="utf-8")
    # the front page (pandoc's top chunk) shows the title, then this: chapter files are named by anchor
    landing = pandoc("-f", "markdown", "-t", "html", stdin=landing_markdown(book, contents))
    pandoc(src.name, "-f", "markdown", "-t", "chunkedhtml", "-o", "html", "--split-level=1", "--chunk-template=%i.html",
           "--toc", "--toc-depth=2", "--number-sections", "--mathml", "--syntax-highlighting=pygments",
           "--template", HERE / "template.html", "--css", "book.css", "--variable", f"landing={landing}",
           *_metadata_args(book), cwd=out)
    shutil.copy(HERE / "book.css", html_dir / "book.css")
    return html_dir / "index.html", titles


def _typst_fixups(source):
    "Adjust pandoc's typst for the typst release we compile with (outside code blocks)."
    out = []
    for line, fenced in _lines_with_fencing(source.split("\n")):
        if not fenced:
            for old, new in _TYPST_RENAMED.items():
                line = re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w.])", new, line)
            # typst reads 5's as 5-prime-s: an apostrophe after a digit must be typographic
            line = re.sub(r"(?<=\d)'(?=[A-Za-z])", "\u2019", line)
        out.append(line)
    return "\n".join(out)


def build_pdf(book, out):
    "The PDF: pandoc writes typst (through our template), the typst compiler lays it out."
    import typst

    media = Media(out / "media")
    md, titles, _ = book_markdown(book, media, "typst")
    src = out / "book-typst.md"
    src.write_text(md, encoding="utf-8")
    typ = out / "nand2llm.typ"
    pandoc(src.name, "-f", "markdown", "-t", "typst", "-o", typ.name, "--template", HERE / "template.typ",
           *_metadata_args(book), cwd=out)
    typ.write_text(_typst_fixups(typ.read_text(encoding="utf-8")), encoding="utf-8")
    pdf = out / "nand2llm.pdf"
    try:
        typst.compile(str(typ), output=str(pdf), root=str(out))
    except typst.TypstError as e:
        raise BookError(f"typst could not compile {typ}:\n{e.diagnostic or e}") from e
    return pdf, titles


def build_readme(root=ROOT, target=None):
    "README.md from the introduction notebook, as GitHub-flavoured markdown."
    index = Path(root) / "nbs" / "index.ipynb"
    figures = Media(Path(root) / "book" / "figures", ref="book/figures")
    for old in figures.folder.glob("readme-*"):  # named by content: drop the previous versions
        old.unlink()
    meta, cells = process_notebook(index)
    parts = [f"# {meta.get('title', 'NAND2LLM')}\n"]
    if meta.get("description"):
        parts.append(f"> {meta['description']}\n")
    for cell in cells:
        if cell["cell_type"] == "markdown":
            parts.append(_DOT_FENCE.sub(lambda m: _dot_to_image(m, figures, "readme"), cell["source"]).strip() + "\n")
    # a link to a notebook leads to it from the repository's root, where README.md is
    md = _NB_LINK.sub(lambda m: f"](nbs/{m.group('stem')}.ipynb)", "\n".join(parts))
    # no implicit figures: GitHub shows a plain image line more reliably than a <figure> block
    gfm = pandoc("-f", "markdown-implicit_figures", "-t", "gfm", "--wrap=none", stdin=md)
    # pandoc keeps the width attribute as raw HTML in gfm; plain image links read better on GitHub
    gfm = re.sub(r'<img src="([^"]+)"[^>]*/>', r"![](\1)", gfm)
    note = "<!-- This file is generated from nbs/index.ipynb by `make book`; edit the notebook instead. -->\n\n"
    target = Path(target) if target else Path(root) / "README.md"
    target.write_text(note + gfm, encoding="utf-8")
    return target


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(HERE / "_build"), help="output folder (default book/_build)")
    ap.add_argument("--only", choices=["html", "pdf", "readme"], action="append",
                    help="build only these (repeatable); default: all three")
    ap.add_argument("--draft", action="store_true", help="skip chapters listed but not written yet")
    args = ap.parse_args(argv)
    todo = args.only or ["readme", "html", "pdf"]
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    # images are named by content: start from an empty folder so old versions do not pile up
    shutil.rmtree(out / "media", ignore_errors=True)
    try:
        if "readme" in todo:
            print(f"README: {build_readme()}")
        book = read_book(allow_missing=args.draft)
        if "html" in todo:
            t0 = time.perf_counter()
            index, titles = build_html(book, out)
            print(f"HTML book: {index} ({len(titles)} chapters, {time.perf_counter() - t0:.1f} s)")
        if "pdf" in todo:
            t0 = time.perf_counter()
            pdf, titles = build_pdf(book, out)
            print(f"PDF book: {pdf} ({len(titles)} chapters, {time.perf_counter() - t0:.1f} s)")
    except BookError as e:
        print(f"book build failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
