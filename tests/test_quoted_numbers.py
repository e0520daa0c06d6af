"""Every number the prose quotes from an output is the number that output prints.

A figure quoted in a markdown cell carries a mark right after it, an HTML comment that every renderer
(Jupyter, Quarto, the offline book build) hides:

    the matmul was about 800<!--~speedup--> times faster ...
    the error is smallest at h = `3e-06`<!--=best h--> ...

`<!--=LABEL-->` says: the number just before this mark is the value printed after LABEL in one of this
notebook's saved outputs (`LABEL = 3e-06`, `LABEL: 3e-06`, `LABEL 3e-06` or `LABEL(3e-06`; `...` in a label stands
for anything on the same output line, as in `least squares ... average miss`), to the quoted precision
(0.48 matches 0.4812 but not 0.4861; 3e-06 matches 2.7e-06). `<!--~LABEL-->` is for "about": the
quoted number is within 10% of the printed one. The label must pick out exactly one value in the
notebook's outputs. The test reads saved outputs only; it runs no notebook.
"""
import json
import re

import pytest

from conftest import chapter_notebooks

NUMBER = r"[-+\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+\u2212]?\d+)?"
MARK = re.compile(r"<!--\s*([=~])\s*(.+?)\s*-->")
# the quoted number: the last number before the mark, followed by at most a unit (` s`, `x`, `%`, `` ` ``)
QUOTED = re.compile(rf"({NUMBER})[^\d\n]{{0,8}}$")
ABOUT = 0.10


def parse_number(text):
    "A number as written (`1,234`, `-56.1`, `3e-06`, `\u22120.5`) -> (value, half a unit of its last digit)."
    text = text.replace("\u2212", "-").replace(",", "")
    m = re.fullmatch(r"([-+]?\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?", text)
    if not m:
        raise ValueError(f"not a number: {text!r}")
    decimals = len(m.group(2) or "")
    exponent = int(m.group(3) or 0)
    return float(text), 0.5 * 10.0 ** (exponent - decimals)


def notebook_texts(path):
    "(markdown cells, output texts) of a notebook, as saved."
    nb = json.loads(path.read_text(encoding="utf-8"))
    markdown, outputs = [], []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            markdown.append(src)
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                outputs.append("".join(out.get("text", "")))
            elif "text/plain" in out.get("data", {}):
                outputs.append("".join(out["data"]["text/plain"]))
    return markdown, outputs


def quotes(markdown):
    "Every marked quote in some markdown: (quoted text, kind '=' or '~', label, context)."
    found = []
    for m in MARK.finditer(markdown):
        before = markdown[:m.start()]
        q = QUOTED.search(before)
        context = before[-60:].replace("\n", " ") + m.group(0)
        found.append((q.group(1) if q else None, m.group(1), m.group(2), context))
    return found


def printed_values(label, outputs):
    "The distinct values printed right after `label` in the outputs."
    parts = [r"\s+".join(re.escape(w) for w in part.split()) for part in label.split("...")]
    words = r"[^\n]*?".join(parts)  # `...` in a label: anything on the same line
    pattern = re.compile(rf"(?<![\w.]){words}\s*[=:(]?\s*({NUMBER})(?![\d.])")
    return sorted({parse_number(v)[0] for text in outputs for v in pattern.findall(text)})


def check_quote(quoted, kind, label, outputs):
    "None when the quote matches its output, else what is wrong."
    if quoted is None:
        return "no number right before the mark"
    values = printed_values(label, outputs)
    if not values:
        return f"no output prints a number after {label!r}"
    if len(values) > 1:
        return f"{label!r} is ambiguous: the outputs print {values} after it"
    value, half_unit = parse_number(quoted)
    printed = values[0]
    slack = max(half_unit, ABOUT * abs(printed)) if kind == "~" else half_unit
    if abs(value - printed) > slack * (1 + 1e-9):
        return f"quoted {quoted}, the output prints {label} {printed:g}"
    return None


def marked_notebooks():
    return [p for p in chapter_notebooks() if MARK.search(p.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", marked_notebooks(), ids=lambda p: p.stem)
def test_quoted_numbers_match_saved_outputs(path):
    markdown, outputs = notebook_texts(path)
    problems = []
    for cell in markdown:
        for quoted, kind, label, context in quotes(cell):
            problem = check_quote(quoted, kind, label, outputs)
            if problem:
                problems.append(f"...{context}: {problem}")
    assert not problems, f"{path.name}: quoted numbers disagree with the saved outputs:\n" + "\n".join(problems)


def test_the_check_catches_a_wrong_quote():
    "The mechanism itself: right quotes pass, wrong ones fail, ambiguous labels are refused."
    outputs = ["pure-Python loop  20.7 ms   speedup = 808x\n", "best h = 3e-06\nlr: 0.48  steps: 101\n"]
    assert check_quote("808", "=", "speedup", outputs) is None
    assert "prints speedup 808" in check_quote("500", "~", "speedup", outputs)   # the ch2 bug
    assert check_quote("800", "~", "speedup", outputs) is None
    assert check_quote("3e-6", "=", "best h", outputs) is None
    assert check_quote("1e-5", "=", "best h", outputs) is not None            # the ch4 bug
    assert check_quote("0.48", "=", "lr", outputs) is None
    assert check_quote("0.497", "=", "lr", outputs) is not None
    assert check_quote("0.480", "=", "lr", outputs) is None
    assert "no output" in check_quote("1", "=", "missing", outputs)
    assert "ambiguous" in check_quote("1", "=", "h", outputs + ["h = 2"])
    table = ["estate agent  bias 100.0  average miss  22.1\nleast squares  bias 80.7  average miss 9.8\n"]
    assert check_quote("22", "~", "estate agent ... average miss", table) is None
    assert check_quote("9.8", "=", "least squares ... miss", table) is None
    assert "ambiguous" in check_quote("9.8", "=", "average miss", table)
    assert parse_number("120,640") == (120640.0, 0.5)
    assert parse_number("\u221256.1")[0] == -56.1
    found = quotes("rises by +91.4<!--=rise--> and falls by \u221256.1<!--= fall -->, in `0.31` s<!--~t-->")
    assert [(q, k, label) for q, k, label, _ in found] == [("+91.4", "=", "rise"), ("\u221256.1", "=", "fall"),
                                                           ("0.31", "~", "t")]
    assert quotes("no number here<!--=x-->")[0][0] is None
