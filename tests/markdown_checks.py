"""Structural checks of the Markdown report, shared by the renderer and docs tests.

GitHub renders whatever it is given, so a broken table or chart shows up only as a
garbled page; these checks state what "well-formed" means and fail with the reason.
"""

from __future__ import annotations

import re

#: A number as Mermaid's xychart lexer accepts it (no exponent).
MERMAID_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)")


def cells(row: str) -> list[str]:
    """A GFM table row split on the pipes that are not backslash-escaped."""
    assert row.startswith("|") and row.endswith("|"), row
    out, current, i = [], "", 1
    while i < len(row) - 1:
        ch = row[i]
        if ch == "\\":
            current += row[i:i + 2]
            i += 2
            continue
        if ch == "|":
            out.append(current)
            current = ""
        else:
            current += ch
        i += 1
    assert i == len(row) - 1, f"row ends inside an escape: {row!r}"
    out.append(current)
    return [c.strip() for c in out]


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table (consecutive lines starting with `|`), each checked for a delimiter
    row and the same number of cells in every row."""
    found, block = [], []
    for line in markdown.split("\n") + [""]:
        if line.startswith("|"):
            block.append(cells(line))
            continue
        if block:
            width = len(block[0])
            assert len(block) >= 2, block
            assert all(re.fullmatch(r":?-{3,}:?", c) for c in block[1]), block[1]
            assert all(len(row) == width for row in block), block
            found.append(block)
            block = []
    return found


def mermaid_charts(markdown: str) -> list[tuple[list[str], list[list[float]]]]:
    """Every Mermaid block, checked to be an xychart whose lines match its x axis."""
    charts = []
    for block in re.findall(r"^```mermaid\n(.*?)\n```$", markdown, flags=re.DOTALL | re.MULTILINE):
        lines = [line.strip() for line in block.split("\n")]
        assert lines[0] == "xychart-beta", lines[0]
        axis = [line for line in lines if line.startswith("x-axis")]
        assert len(axis) == 1, axis
        match = re.fullmatch(r'x-axis "[^"\n]*" \[(.*)\]', axis[0])
        assert match, axis[0]
        xs = [c.strip() for c in match.group(1).split(",")]
        assert all(re.fullmatch(r'"[^"]*"', x) for x in xs), xs
        xs = [x.strip('"') for x in xs]
        series = []
        for line in lines:
            if line.startswith("line"):
                data = re.fullmatch(r"line \[(.*)\]", line)
                assert data, line
                values = [v.strip() for v in data.group(1).split(",")]
                assert all(MERMAID_NUMBER.fullmatch(v) for v in values), values
                assert len(values) == len(xs), (len(values), len(xs))
                series.append([float(v) for v in values])
        assert series, block
        charts.append((xs, series))
    return charts


def unescaped_markup(markdown: str) -> list[str]:
    """Raw `<`, `&` not starting an entity, or emphasis markers outside code fences."""
    prose = re.sub(r"^```.*?^```$", "", markdown, flags=re.DOTALL | re.MULTILINE)
    problems = re.findall(r"<|&(?!(?:amp|lt|gt|#\d+);)", prose)
    problems += re.findall(r"(?<!\\)[*_`]", prose)
    return problems
