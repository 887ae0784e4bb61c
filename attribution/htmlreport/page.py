"""The HTML page: one self-contained file (inline CSS, charts as base64 PNG, no script, no external resource).

A strict Content-Security-Policy (``default-src 'none'; img-src data:; style-src 'unsafe-inline'``) makes a
browser refuse any load from outside the file, so the page provably needs no network.
"""

from __future__ import annotations

import base64
import html

import numpy as np
import pandas as pd

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { --ink: #1f2933; --muted: #5f6b7a; --line: #dde3ea; --accent: #0072B2; --soft: #f4f7fa; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef2f6; color: var(--ink); line-height: 1.45;
       font: 15px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { margin: 0 0 4px; font-size: 28px; }
header p { margin: 0; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 14px; margin: 22px 0 8px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.card .label { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 28px; font-weight: 650; margin-top: 2px; }
.card .sub { color: var(--muted); font-size: 13px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px 20px;
          margin-top: 18px; }
section h2 { margin: 0 0 6px; font-size: 20px; }
.how { background: var(--soft); border-left: 4px solid var(--accent); padding: 8px 12px; margin: 8px 0 14px;
       color: #334155; font-size: 14px; }
.how b { color: var(--ink); }
.note { color: var(--muted); font-style: italic; }
figure { margin: 10px 0; text-align: center; }
figure img { max-width: 100%; height: auto; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 6px 0; }
th, td { padding: 6px 9px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: var(--soft); color: #334155; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
tr.muted td { color: var(--muted); }
details { margin-top: 8px; }
summary { cursor: pointer; color: var(--accent); }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; font-size: 14px; }
dl.settings dt { color: var(--muted); }
dl.settings dd { margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
footer { color: var(--muted); font-size: 12px; margin-top: 22px; text-align: center; }
"""


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def image(png: bytes, alt: str) -> str:
    """A chart as an ``<img>`` with its PNG inline (a ``data:`` URI)."""
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{data}"></figure>'


def number(v, kind: str = "count") -> str:
    """A cell: ``count`` (1,234), ``money`` (1,234.56 or 12,345), ``ratio`` (4.52), ``percent`` (12.3%);
    nulls as an en dash."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    v = float(v)
    if kind == "percent":
        return f"{v:.1%}"
    if kind == "ratio":
        return f"{v:,.2f}"
    if kind == "money":
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.2f}"
    return f"{v:,.0f}" if v == round(v) else f"{v:,.1f}"


def table(frame: pd.DataFrame, kinds: dict, muted_rows=None) -> str:
    """An HTML table of ``frame``'s columns named in ``kinds`` (``{column: (header, kind)}``; kind ``text`` is
    written as is)."""
    head = "".join(f"<th>{esc(h)}</th>" for h, _ in kinds.values())
    rows = []
    muted = set(muted_rows or ())
    for i, rec in enumerate(frame[list(kinds)].itertuples(index=False)):
        cells = "".join(f"<td>{esc(v) if k == 'text' else number(v, k)}</td>"
                        for v, (_, k) in zip(rec, kinds.values()))
        rows.append(f'<tr class="muted">{cells}</tr>' if i in muted else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def section(title: str, how: tuple[str, str], body: str, anchor: str) -> str:
    """A titled section with its two-line "how to read this" box."""
    return (f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>'
            f'<div class="how"><b>How to read this.</b> {esc(how[0])}<br>{esc(how[1])}</div>{body}</section>')


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def cards(items: list[tuple[str, str, str]]) -> str:
    """Headline cards: (label, value, sub-line)."""
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="label">{esc(a)}</div><div class="value">{esc(b)}</div>'
        f'<div class="sub">{esc(c)}</div></div>' for a, b, c in items) + "</div>"


def settings_list(settings: list[tuple[str, str]]) -> str:
    return '<dl class="settings">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in settings) + "</dl>"


def page(title: str, subtitle: str, body: str) -> str:
    """The whole document."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>{body}"
        "<footer>Made with attribution, an open-source multi-touch attribution engine.</footer>"
        "</main></body></html>\n"
    )
