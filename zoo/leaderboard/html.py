"""``leaderboard.html``: one static, self-contained page (inline CSS, JS and SVG charts; nothing fetched).

Each task gets a section with its chart and one table per benchmark. Clicking a column header (or Enter /
Space on it) sorts the table by that column: numbers best first on the first click (descending, ascending
for IDSW), text A-Z; a second click reverses; missing values always stay last. Every row carries
``data-entry`` (the entry id of leaderboard.json) and every cell ``data-value`` (the raw number or text the
sort uses), so the page can be checked by a browser test.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from zoo.leaderboard.markdown import FPS_NOTE, evaluator_label, evaluator_notes
from zoo.leaderboard.schema import (
    TASK_METRICS,
    TASK_TITLES,
    Dropped,
    Entry,
    columns,
    data_mix_text,
    format_fps,
    format_metric,
    format_params,
    group_entries,
)

__all__ = ["render_html"]

_CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg);
       margin: 0 auto; padding: 24px; max-width: 1400px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 6px; }
p.meta, p.note, .notes { color: var(--muted); font-size: 12px; }
p.warning { border-left: 3px solid #c0392b; padding-left: 8px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
figure.chart { margin: 8px 0 12px; }
figure.chart svg { max-width: 100%; height: auto; }
.scroll { overflow-x: auto; }
table.board { border-collapse: collapse; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.board th, table.board td { border: 1px solid var(--line); padding: 4px 8px; }
table.board th { background: var(--head); font-weight: 600; position: sticky; top: 0; }
table.board th.sortable { cursor: pointer; user-select: none; }
table.board th.sortable:hover { background: #eaeef2; }
table.board th.sortable::after { content: " \\2195"; color: #afb8c1; }
table.board th[aria-sort="descending"]::after { content: " \\25BC"; color: var(--fg); }
table.board th[aria-sort="ascending"]::after { content: " \\25B2"; color: var(--fg); }
table.board th.main { color: var(--accent); }
table.board td.num { text-align: right; }
table.board tbody tr:nth-child(even) { background: #fbfcfd; }
table.board tbody tr:hover { background: #f0f6ff; }
ul.errors li, ul.dropped li { margin: 2px 0; }
"""

_JS = """
(function () {
  function value(row, col, type) {
    var raw = row.cells[col].getAttribute('data-value');
    if (raw === null || raw === '') return null;
    if (type === 'num') { var x = parseFloat(raw); return isNaN(x) ? null : x; }
    return raw.toLowerCase();
  }
  function sortBy(table, th) {
    var col = th.cellIndex, type = th.getAttribute('data-type');
    var now = th.getAttribute('aria-sort');
    var dir = now === 'descending' ? 'ascending' : now === 'ascending' ? 'descending'
            : (th.getAttribute('data-first') || (type === 'num' ? 'descending' : 'ascending'));
    var sign = dir === 'ascending' ? 1 : -1;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (r, i) {
      return { row: r, key: value(r, col, type), index: i };
    });
    rows.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        if (a.key === b.key) return a.index - b.index;
        return a.key === null ? 1 : -1;
      }
      if (a.key < b.key) return -sign;
      if (a.key > b.key) return sign;
      return a.index - b.index;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      if (h.classList.contains('sortable')) h.setAttribute('aria-sort', 'none');
    });
    th.setAttribute('aria-sort', dir);
    table.setAttribute('data-sorted-by', th.getAttribute('data-key') + ':' + dir);
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.board'), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      if (!th.classList.contains('sortable')) return;
      th.addEventListener('click', function () { sortBy(table, th); });
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(table, th); }
      });
    });
  });
})();
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _th(
    label: str,
    key: str,
    kind: str,
    *,
    first: str | None = None,
    main: bool = False,
    sort: str = "none",
    title: str | None = None,
) -> str:
    attrs = [f'data-key="{_e(key)}"', f'data-type="{kind}"', 'class="sortable' + (' main"' if main else '"'),
             'tabindex="0"', 'scope="col"', f'aria-sort="{sort}"']  # fmt: skip
    if first:
        attrs.append(f'data-first="{first}"')
    if title:
        attrs.append(f'title="{_e(title)}"')
    return f"<th {' '.join(attrs)}>{_e(label)}</th>"


def _td(text: str, value: Any, num: bool = False, title: str | None = None) -> str:
    raw = "" if value is None else (repr(float(value)) if num else str(value))
    cls = ' class="num"' if num else ""
    tip = f' title="{_e(title)}"' if title else ""
    return f'<td data-value="{_e(raw)}"{cls}{tip}>{_e(text)}</td>'


def _model_cell(e: Entry) -> str:
    text = _e(e.model_ref)
    if e.origin == "hub" and e.revision:
        # a link (not a fetched resource): the page stays self-contained offline
        url = f"https://huggingface.co/{e.model}/tree/{e.revision}"
        text = f'<a href="{_e(url)}">{text}</a>'
    return f'<td data-value="{_e(e.model_ref)}" title="{_e(e.source)}">{text}</td>'


def _table(task: str, bench: str, entries: Sequence[Entry]) -> str:
    cols = columns(task, entries)
    numbers, notes = evaluator_notes(entries)
    main = cols[0]
    head = [
        _th("#", "rank", "num", first="ascending", sort="ascending", title=f"rank by {main.label}"),
        _th("model", "model", "text"),
        _th("method", "method", "text"),
        _th("split", "split", "text"),
    ]
    for i, c in enumerate(cols):
        head.append(
            _th(
                c.label,
                c.key,
                "num",
                first=None if c.higher_is_better else "ascending",
                main=i == 0,
                title=("percent" if c.kind == "ratio" else "count")
                + (", lower is better" if not c.higher_is_better else ""),
            )
        )
    head += [
        _th("FPS", "fps", "num", title=FPS_NOTE),
        _th("params", "params", "num"),
        _th("hardware", "hardware", "text"),
        _th("evaluator", "evaluator", "text"),
        _th("date", "date", "text"),
    ]
    rows = []
    for rank, e in enumerate(entries, 1):
        conv = json.dumps(e.evaluator.get("conventions") or {}, sort_keys=True, indent=1)
        cells = [
            _td(str(rank), rank, num=True),
            _model_cell(e),
            _td(e.method, e.method),
            _td(e.split or "-", e.split),
        ]
        cells += [_td(format_metric(c, e.metrics.get(c.key)), e.metrics.get(c.key), num=True) for c in cols]
        label = evaluator_label(e.evaluator)
        cells += [
            _td(format_fps(e.fps), e.fps, num=True),
            _td(format_params(e.params), e.params, num=True),
            _td(e.hardware_summary, e.hardware_summary),
            _td(f"{label} [{numbers[e.uid]}]", label, title=conv),
            _td((e.created or "-")[:10], e.created),
        ]
        rows.append(f'<tr data-entry="{_e(e.uid)}">' + "".join(cells) + "</tr>")
    note_items = "".join(
        f"<li>[{n}] {_e(label)}" + (f": {_e('; '.join(conv))}" if conv else "") + "</li>"
        for n, label, conv in notes
    )
    direction = "higher is better" if main.higher_is_better else "lower is better"
    parts = data_mix_text(entries)
    warning = ""
    if parts is not None:
        warning = (
            f'<p class="warning"><strong>Not comparable</strong>: these rows were evaluated on different '
            f"data ({_e(parts)}). Evaluate the older ones again.</p>\n"
        )
    heading = f'<h3 id="{_e(task)}-{_e(bench)}">{_e(bench)}</h3>\n' + warning
    return (
        heading
        + f'<div class="scroll"><table class="board" data-task="{_e(task)}" data-benchmark="{_e(bench)}" '
        f'data-main="{_e(main.key)}" data-sorted-by="rank:ascending">\n'
        f"<thead><tr>{''.join(head)}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table></div>\n"
        f'<p class="note">Ranked by {_e(main.label)} ({direction}); click a column header to sort.</p>\n'
        f'<ul class="notes">{note_items}</ul>\n'
    )


def render_html(
    entries: Sequence[Entry],
    *,
    charts: Mapping[str, str] | None = None,
    dropped: Sequence[Dropped] = (),
    errors: Sequence[Any] = (),
    generated: str | None = None,
    title: str = "zoo leaderboard",
) -> str:
    """The page. ``charts``: task -> inline ``<svg>`` markup (:func:`zoo.leaderboard.charts.figure_svg`)."""
    groups = group_entries(entries)
    tasks = [t for t in TASK_METRICS if any(k[0] == t for k in groups)]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{len(entries)} result(s)' + (f", generated {_e(generated)}" if generated else "")
        + ". Ratios in percent; IDSW is a count. " + _e(FPS_NOTE) + ".</p>",
    ]  # fmt: skip
    if tasks:
        parts.append(
            "<nav>" + "".join(f'<a href="#task-{t}">{_e(TASK_TITLES[t])}</a>' for t in tasks) + "</nav>"
        )
    else:
        parts.append('<p class="empty">No results yet: run <code>make leaderboard</code>.</p>')
    for task in tasks:
        parts.append(f'<section id="task-{task}"><h2>{_e(TASK_TITLES[task])}</h2>')
        if charts and task in charts:
            parts.append(f'<figure class="chart" data-task="{task}">{charts[task]}</figure>')
        for (t, bench), group in groups.items():
            if t == task:
                parts.append(_table(task, bench, group))
        parts.append("</section>")
    if dropped:
        items = "".join(f"<li>{_e(d.message())}</li>" for d in dropped)
        parts.append(
            f'<h2>Deduplicated</h2><p class="note">{len(dropped)} older result(s) of the same model '
            "id@revision, benchmark and split were dropped (the newest is kept):</p>"
            f'<ul class="dropped">{items}</ul>'
        )
    if errors:
        parts.append(
            '<h2>Sources that failed</h2><ul class="errors">'
            + "".join(f"<li><code>{_e(x.source)}</code>: {_e(x.message)}</li>" for x in errors)
            + "</ul>"
        )
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts) + "\n"
