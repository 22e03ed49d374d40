"""Self-contained HTML reports: one file, images inline, no server, no network.

Every page is built from the same few pieces so reproductions, run reports, the
doctor and searches look alike:

* :func:`render_page` ``(title, sections, *, subtitle="") -> str``: the whole page;
  ``sections`` are :class:`Section` objects or ``(heading, body_html)`` pairs.
* :func:`figure` ``(png, caption) -> str``: a PNG (bytes or a file path) as a
  ``data:image/png;base64`` URI with its caption; :func:`figure_in` for a path taken
  from a results file, embedded only when it lies inside the report's folder.
* :func:`table` ``(rows, columns=None) -> str``: a list of row dicts.
* :func:`paragraph`, :func:`bullets`, :func:`key_values`: text, lists, mappings.

Body HTML passed to a :class:`Section` is trusted; every helper escapes the
user's strings (names, captions, values) with :func:`html.escape`, so build
bodies from the helpers. :func:`write_experiment_report` renders a
reproduction's ``results.json`` record.
"""
from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from trainlab.files import atomic_write_text

STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.subtitle{color:#555;margin-top:0}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f5f5f5}td.text,th.text{text-align:left}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#444;font-size:.9em}
.claim{padding:.4em .7em;margin:.4em 0;border-left:5px solid #999;background:#fafafa}
.holds{border-color:#2e7d32}.fails{border-color:#c62828}.untested{border-color:#9e9e9e}
.badge{font-weight:bold;margin-right:.5em}.holds .badge{color:#2e7d32}.fails .badge{color:#c62828}.untested .badge{color:#757575}
.paper{color:#6a1b9a}.missing{color:#c62828}
code{background:#f3f3f3;padding:0 .2em}
"""  # noqa: E501 (the style sheet's rules stay one per line)


@dataclass(frozen=True)
class Section:
    """A titled part of a page; ``body`` is HTML built with this module's helpers."""

    title: str
    body: str


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """A cell value as short text: 4 significant digits, ``—`` for missing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def paragraph(text: str) -> str:
    return f"<p>{esc(text)}</p>"


def bullets(items: Iterable[Any]) -> str:
    body = "".join(f"<li>{esc(item)}</li>" for item in items)
    return f"<ul>{body}</ul>" if body else ""


def key_values(mapping: Mapping[str, Any]) -> str:
    """A two-column table of a flat mapping (nested values are shown as text)."""
    rows = "".join(f"<tr><th class=text>{esc(k)}</th><td class=text>{esc(fmt(v))}</td></tr>"
                   for k, v in mapping.items())
    return f"<table>{rows}</table>" if rows else ""


def _is_text(value: Any) -> bool:
    return isinstance(value, str) or value is None or isinstance(value, bool)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
          classes: Mapping[str, str] | None = None) -> str:
    """An HTML table of row dicts; ``columns`` defaults to every key in first-seen order.

    ``classes`` maps a column to a CSS class for its cells (e.g. ``"paper"``).
    """
    if not rows:
        return "<p><em>(no rows)</em></p>"
    if columns is None:
        columns = list(dict.fromkeys(k for row in rows for k in row))
    classes = classes or {}
    head = "".join(f"<th class='text {esc(classes.get(c, ''))}'>{esc(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            css = ("text " if _is_text(value) else "") + classes.get(c, "")
            cells.append(f"<td class='{esc(css.strip())}'>{esc(fmt(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure(png: bytes | str | Path, caption: str) -> str:
    """A PNG inlined as a base64 data URI, with its caption; a missing file says so instead."""
    if not isinstance(png, bytes):
        path = Path(png)
        if not path.is_file():
            return f"<p class=missing>figure missing: {esc(path)} ({esc(caption)})</p>"
        png = path.read_bytes()
    data = base64.b64encode(png).decode("ascii")
    return (f"<figure><img alt='{esc(caption)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def figure_in(folder: str | Path, relative: Any, caption: str) -> str:
    """:func:`figure` for a path read from a results file: resolved relative to ``folder`` and
    embedded only if it lies inside it. An absolute path, ``..`` or a symlink that leads out
    is shown as missing with a note, so a crafted ``results.json`` cannot copy an arbitrary
    file (``/etc/hostname``, a key) into the report."""
    if not isinstance(relative, str) or not relative:
        return f"<p class=missing>figure missing: {esc(relative)} is not a file path ({esc(caption)})</p>"
    root = Path(folder).resolve()
    target = (root / relative).resolve()
    if Path(relative).is_absolute() or not target.is_relative_to(root):
        return (f"<p class=missing>figure not embedded: {esc(relative)} lies outside this report's folder; "
                f"only files inside it are embedded ({esc(caption)})</p>")
    return figure(target, caption)


def render_page(title: str, sections: Sequence[Section | tuple[str, str]], *, subtitle: str = "") -> str:
    """The whole self-contained HTML page: inline CSS, no scripts, no external resources."""
    parts = [f"<h1>{esc(title)}</h1>"]
    if subtitle:
        parts.append(f"<p class=subtitle>{esc(subtitle)}</p>")
    for section in sections:
        heading, body = (section.title, section.body) if isinstance(section, Section) else section
        if body:
            parts.append(f"<section><h2>{esc(heading)}</h2>{body}</section>")
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")


# -- reproductions -----------------------------------------------------------------

VERDICT = {True: ("holds", "holds"), False: ("fails", "does not hold"),
           None: ("untested", "not testable at this budget")}


def claims_html(claims: Sequence[Mapping[str, Any]]) -> str:
    """Each claim with its verdict (holds / does not hold / not testable at this budget) and evidence."""
    out = []
    for claim in claims:
        css, word = VERDICT.get(claim.get("holds"), VERDICT[None])
        out.append(f"<div class='claim {css}'><span class=badge>{esc(word)}</span>"
                   f"<strong>{esc(claim.get('id', ''))}</strong>: {esc(claim.get('text', ''))}"
                   f"<br><small>{esc(claim.get('evidence', ''))}</small></div>")
    return "".join(out)


def side_by_side(ours: Sequence[Mapping[str, Any]], paper: Sequence[Mapping[str, Any]]) -> str:
    """Our rows with the paper's numbers beside them.

    Rows are matched on the columns both have whose paper values are text or
    integers (e.g. ``init``, ``layer``); each float column of the paper is shown
    as ``COLUMN (paper)`` right after ours, then ``COLUMN - paper``, how far our
    number is from the published one. Without shared key columns the two
    tables are shown one after the other.
    """
    if not paper:
        return table(ours)
    ours_cols = list(dict.fromkeys(k for row in ours for k in row))
    paper_cols = list(dict.fromkeys(k for row in paper for k in row))
    keys = [c for c in paper_cols if c in ours_cols
            and all(_is_text(r.get(c)) or isinstance(r.get(c), int) for r in paper)]
    values = [c for c in paper_cols if c not in keys]
    if not keys or not ours:
        return table(ours) + "<p>Published numbers:</p>" + table(paper, classes={c: "paper" for c in paper_cols})
    index = {tuple(r.get(k) for k in keys): r for r in paper}
    columns: list[str] = []
    classes: dict[str, str] = {}
    for c in ours_cols:
        columns.append(c)
        if c in values:
            columns += [f"{c} (paper)", f"{c} - paper"]
            classes[f"{c} (paper)"] = "paper"
    extra = [c for c in values if c not in ours_cols]
    for c in extra:
        columns.append(f"{c} (paper)")
        classes[f"{c} (paper)"] = "paper"
    rows = []
    matched: set[tuple] = set()
    for row in ours:
        key = tuple(row.get(k) for k in keys)
        theirs = index.get(key, {})
        if theirs:
            matched.add(key)
        merged = dict(row)
        merged.update({f"{c} (paper)": theirs.get(c) for c in values})
        merged.update({f"{c} - paper": _difference(row.get(c), theirs.get(c)) for c in values if c in ours_cols})
        rows.append(merged)
    for key, theirs in index.items():  # published rows we did not run (e.g. a smaller budget)
        if key not in matched:
            rows.append({**{k: theirs.get(k) for k in keys}, **{f"{c} (paper)": theirs.get(c) for c in values}})
    return table(rows, columns, classes=classes)


def _difference(ours: Any, theirs: Any) -> float | None:
    numbers = (int, float)
    if isinstance(ours, bool) or isinstance(theirs, bool) or not (isinstance(ours, numbers)
                                                                  and isinstance(theirs, numbers)):
        return None
    return ours - theirs


def _paper_extras(paper: Mapping[str, Any], tables: Mapping[str, Any]) -> str:
    rest = {k: v for k, v in paper.items() if k not in tables}
    blocks = []
    scalars = {k: v for k, v in rest.items() if not (isinstance(v, list) and v and isinstance(v[0], Mapping))}
    if scalars:
        blocks.append(key_values(scalars))
    for name, rows in rest.items():
        if name not in scalars:
            blocks.append(f"<h3>{esc(name)}</h3>" + table(rows, classes={c: "paper" for r in rows for c in r}))
    return "".join(blocks)


def write_experiment_report(record: Mapping[str, Any], out: str | Path, *, title: str, source: str) -> Path:
    """Write ``out/report.html`` for a reproduction's ``results.json`` record; return its path.

    Renders the claims with their verdicts, each table of ours (with the
    published numbers beside it where ``record["paper"]`` has a table of the
    same name), the remaining published numbers, the figures (``record["figures"]``:
    caption -> PNG path relative to ``out``) inline, the budget, notes,
    configuration and versions.
    """
    out = Path(out)
    claims = record.get("claims") or []
    tables = record.get("tables") or {}
    paper = record.get("paper") or {}
    counts = {word: sum(1 for c in claims if c.get("holds") is value) for value, (_, word) in VERDICT.items()}
    summary = ", ".join(f"{n} {word}" for word, n in counts.items() if n)
    subtitle = (f"{source} · experiment {record.get('experiment', '')} · profile {record.get('profile', '')}"
                f" · {fmt(record.get('seconds'))} s")
    sections: list[Section] = [
        Section("Claims" + (f" ({summary})" if summary else ""),
                claims_html(claims) or paragraph("No claims recorded.")),
    ]
    for name, rows in tables.items():
        paper_rows = paper.get(name) if isinstance(paper.get(name), list) else None
        note = paragraph("Published numbers are shown in purple beside ours.") if paper_rows else ""
        sections.append(Section(f"Table: {name}", note + side_by_side(rows, paper_rows or [])))
    extras = _paper_extras(paper, tables)
    if extras:
        sections.append(Section("Published numbers", extras))
    figures = record.get("figures") or {}
    if isinstance(figures, Mapping) and figures:
        sections.append(Section("Figures", "".join(figure_in(out, path, str(caption))
                                                   for caption, path in figures.items())))
    elif figures:
        sections.append(Section("Figures", paragraph("figures in results.json are not a caption -> path table; "
                                                     "none shown")))
    sections += [
        Section("Budget", key_values(record.get("budget") or {})),
        Section("Notes", bullets(record.get("notes") or [])),
        Section("Configuration", key_values(record.get("config") or {})),
        Section("Versions", key_values(record.get("versions") or {})),
    ]
    path = out / "report.html"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, render_page(title, sections, subtitle=subtitle))
    return path
