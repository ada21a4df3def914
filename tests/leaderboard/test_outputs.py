"""leaderboard.md/.json/.html and the PNG charts: present and consistent with each other; the README block."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from zoo.leaderboard.board import Board, build_board, write_board
from zoo.leaderboard.cli import main
from zoo.leaderboard.config import load_board_config
from zoo.leaderboard.markdown import (
    README_END,
    README_START,
    render_readme_table,
    replace_block,
    update_readme,
)
from zoo.leaderboard.schema import normalise
from zoo.leaderboard.sources import SourceError

from . import fakes

# hand-picked so that the orders by HOTA, AssA and IDSW all differ
MOT = {
    "bytetrack": {"HOTA": 0.62, "AssA": 0.55, "DetA": 0.70, "IDF1": 0.71, "MOTA": 0.74, "IDSW": 30},
    "sort": {"HOTA": 0.58, "AssA": 0.60, "DetA": 0.56, "IDF1": 0.66, "MOTA": -0.05, "IDSW": 12},
    "finetrack": {"HOTA": 0.66, "AssA": 0.52, "DetA": 0.80, "IDF1": 0.74, "MOTA": 0.81, "IDSW": 45},
}


def _board_docs() -> list[dict]:
    docs = [fakes.results_doc("mot", "synth_mot", m, v) for m, v in MOT.items()]
    docs.append(fakes.results_doc("mot", "mot17", "sort", {"HOTA": 0.41, "MOTA": 0.3}, split="train"))
    docs += [fakes.vos("copy_first", 0.48), fakes.vos("flow_warp", 0.57)]
    docs += [fakes.sot("csrt", 0.51), fakes.sot("kcf", 0.39), fakes.sot("mosse", 0.33, fps=950.5)]
    return docs


def board(tmp_path: Path) -> Board:
    for i, doc in enumerate(_board_docs()):
        fakes.write_doc(tmp_path / "outputs" / f"{i:02d}_{doc['method']}", doc)
    return build_board(load_board_config(None, base=tmp_path), log=lambda m: None)


def _md_tables(text: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    """benchmark -> (header cells, row cells) of each ``### benchmark`` table."""
    tables = {}
    for block in re.split(r"^### ", text, flags=re.M)[1:]:
        name, _, body = block.partition("\n")
        lines = [ln for ln in body.splitlines() if ln.startswith("|")]
        cells = [[c.strip() for c in ln.strip("|").split(" | ")] for ln in lines]
        tables[name.strip()] = (cells[0], cells[2:])
    return tables


def test_outputs_exist_and_agree(tmp_path: Path):
    b = board(tmp_path)
    written = write_board(b, tmp_path / "lb")
    assert sorted(p.name for p in (tmp_path / "lb").iterdir()) == [
        "leaderboard.html",
        "leaderboard.json",
        "leaderboard.md",
        "leaderboard_mot.png",
        "leaderboard_sot.png",
        "leaderboard_vos.png",
    ]
    assert set(written) == {"md", "json", "html", "png_mot", "png_vos", "png_sot"}
    doc = json.loads(written["json"].read_text())
    rows = {r["id"]: r for r in doc["rows"]}
    assert len(rows) == len(_board_docs()) == len(doc["rows"])
    assert len({frozenset(r) for r in doc["rows"]}) == 1  # one schema for every task
    tables = _md_tables(written["md"].read_text())
    assert sorted(tables) == sorted(f"{t['benchmark']}" for t in doc["tables"])
    for table in doc["tables"]:
        head, body = tables[table["benchmark"]]
        assert len(body) == len(table["rows"])
        for cells, uid in zip(body, table["rows"]):
            row = rows[uid]
            assert cells[1] == row["model_ref"]
            for key in table["metrics"]:
                label = {"J&F-Mean": "J&F", "success_auc": "Success AUC", "precision_20": "Prec@20"}.get(
                    key, key
                )
                col = head.index(label) if label in head else head.index(f"**{label}**")
                value = row["metrics"].get(key)
                expected = "-" if value is None else str(value) if key == "IDSW" else f"{100 * value:.2f}"
                assert cells[col] == expected, (uid, key)
    # the sort order, by hand: HOTA 0.66 > 0.62 > 0.58; J&F 0.57 > 0.48; AO 0.51 > 0.39 > 0.33
    order = {t["benchmark"]: [rows[u]["method"] for u in t["rows"]] for t in doc["tables"]}
    assert order == {
        "synth_mot": ["finetrack", "bytetrack", "sort"],
        "mot17": ["sort"],
        "synth_vos": ["flow_warp", "copy_first"],
        "synth_sot": ["csrt", "kcf", "mosse"],
    }
    assert tables["synth_mot"][1][2][8] == "-5.00"  # negative MOTA printed as such
    html = written["html"].read_text()
    assert sorted(re.findall(r'data-entry="([^"]+)"', html)) == sorted(rows)
    for task in ("mot", "vos", "sot"):
        image = np.asarray(Image.open(written[f"png_{task}"]).convert("L"))
        assert image.shape[1] > 400 and image.min() < 100 and image.max() > 200  # drawn, not blank
        assert f'<figure class="chart" data-task="{task}"><svg' in html


def test_html_is_self_contained(tmp_path: Path):
    html = write_board(board(tmp_path), tmp_path / "lb")["html"].read_text()
    assert "<script src" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r'\b(src|xlink:href)="(https?:)?//', html)
    assert not re.search(r"url\((['\"])?(https?:)?//", html)
    assert html.count('<table class="board"') == 4 and html.count("<script>") == 1


def test_rewriting_an_unchanged_board_is_stable(tmp_path: Path):
    b = board(tmp_path)
    first = {k: p.read_bytes() for k, p in write_board(b, tmp_path / "lb").items()}
    second = {k: p.read_bytes() for k, p in write_board(b, tmp_path / "lb").items()}
    assert first == second  # deterministic: no dates or random ids in charts and pages


def test_empty_board(tmp_path: Path):
    written = write_board(Board([], errors=[SourceError("hf-hub:org/x", "offline")]), tmp_path / "lb")
    assert set(written) == {"md", "json", "html"}
    assert "No results yet" in written["md"].read_text() and "hf-hub:org/x" in written["md"].read_text()
    assert json.loads(written["json"].read_text())["errors"] == [
        {"source": "hf-hub:org/x", "message": "offline"}
    ]


def test_escaping_in_tables(tmp_path: Path):
    doc = fakes.mot("x", 0.5, model_id="org/a|b<script>")
    entry = normalise(doc, source="s", origin="run")
    md = render_readme_table([entry])
    assert "org/a\\|b<script>" in md
    html = write_board(Board([entry]), tmp_path / "lb")["html"].read_text()
    assert "org/a|b&lt;script&gt;" in html and "b<script>" not in html


README = f"""# zoo

intro

{README_START}
old table
{README_END}

## More
"""


def test_readme_block_rewrite_is_idempotent(tmp_path: Path):
    b = board(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(README)
    block = render_readme_table(b.entries, "leaderboard/leaderboard.md")
    assert update_readme(readme, block) is True
    text = readme.read_text()
    assert text.startswith("# zoo\n\nintro\n\n" + README_START + "\n") and text.endswith(
        README_END + "\n\n## More\n"
    )
    assert "old table" not in text and "| mot | synth_mot | finetrack | finetrack | HOTA | 66.00 |" in text
    assert "[leaderboard/leaderboard.md](leaderboard/leaderboard.md)" in text
    mtime = readme.stat().st_mtime_ns
    assert update_readme(readme, render_readme_table(b.entries, "leaderboard/leaderboard.md")) is False
    assert readme.read_text() == text and readme.stat().st_mtime_ns == mtime
    assert replace_block(text, block) == text


@pytest.mark.parametrize(
    "text",
    ["# no markers\n", f"{README_END}\n{README_START}\n", f"{README_START}\n{README_START}\n{README_END}\n"],
)
def test_readme_markers_must_be_present_once(tmp_path: Path, text: str):
    readme = tmp_path / "README.md"
    readme.write_text(text)
    with pytest.raises(ValueError, match="README.md"):
        update_readme(readme, "table")
    assert readme.read_text() == text


def test_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    board(tmp_path)  # writes the results files under tmp_path/outputs
    (tmp_path / "README.md").write_text(README)
    (tmp_path / "leaderboard.yaml").write_text("hub: [org/not-cached]\n")
    monkeypatch.chdir(tmp_path)
    assert main(["out=site", "readme=true"]) == 0
    out = capsys.readouterr().out
    assert "9 result(s), 0 older duplicate(s) dropped, 1 source(s) failed" in out
    assert "failed: hf-hub:org/not-cached" in out and "HF_HUB_OFFLINE=1" in out
    assert (tmp_path / "site" / "leaderboard.html").is_file()
    assert "(site/leaderboard.md)" in (tmp_path / "README.md").read_text()
    assert (
        main(["out=site", "readme=true"]) == 0 and "unchanged: the model-zoo table" in capsys.readouterr().out
    )
    assert main(["out=site", "strict=true"]) == 1
    assert main(["bogus=1"]) == 2 and "unknown key 'bogus'" in capsys.readouterr().err
    assert main(["evaluate=maybe"]) == 2
    assert main(["config=missing.yaml"]) == 2 and "missing.yaml" in capsys.readouterr().err
    assert main(["--help"]) == 0 and "usage: python -m zoo.leaderboard" in capsys.readouterr().out


def _with_data(doc: dict, data: str | None) -> dict:
    conventions = dict(doc["evaluator"]["conventions"])
    if data is not None:
        conventions["data"] = data
    doc["evaluator"] = {**doc["evaluator"], "conventions": conventions}
    return doc


def test_tables_mixing_generated_data_are_marked(tmp_path: Path):
    """Scores of two ZooSynth generator versions are not comparable: markdown, HTML and README say so."""
    new, old = "ZooSynth 1.4 (preset default, seed 0)", "ZooSynth 1.3 (preset default, seed 0)"
    docs = [_with_data(fakes.mot("bytetrack", 0.5), new), _with_data(fakes.mot("finetrack", 0.6), old),
            _with_data(fakes.vos("copy_first", 0.4), new), fakes.sot("csrt", 0.5)]  # fmt: skip
    entries = [normalise(d, source=f"s{i}", origin="run") for i, d in enumerate(docs)]
    paths = write_board(Board(entries), tmp_path / "lb", png=False)
    md = paths["md"].read_text()
    mot_section = md.split("### synth_mot")[1].split("###")[0]
    assert "Not comparable" in mot_section and f"{old}: finetrack" in mot_section
    assert f"{new}: bytetrack" in mot_section
    assert md.count("Not comparable") == 1  # the VOS table agrees with itself, SOT records no data
    html = paths["html"].read_text()
    assert html.count('class="warning"') == 1 and "ZooSynth 1.3 (preset default, seed 0): finetrack" in html
    readme = render_readme_table(entries)
    assert f"synth_mot on {old} and {new} (**mixed: not comparable**)" in readme
    assert f"synth_vos on {new}" in readme and "synth_sot on" not in readme
    agreeing = [normalise(_with_data(fakes.mot(m, h), new), source=m, origin="run") for m, h in MOT_HOTA]
    assert "Not comparable" not in write_board(Board(agreeing), tmp_path / "ok", png=False)["md"].read_text()
    for i, doc in enumerate(docs):
        fakes.write_doc(tmp_path / "outputs" / f"run{i}", doc)
    logged: list[str] = []
    build_board(load_board_config(None, base=tmp_path), log=logged.append)
    warnings = [m for m in logged if m.startswith("warning:")]  # rows in table order: finetrack ranks first
    assert warnings == [f"warning: the mot table synth_mot mixes data, its rows are not comparable ({old}: "
                        f"finetrack; {new}: bytetrack)"]  # fmt: skip


MOT_HOTA = [("bytetrack", 0.5), ("sort", 0.4)]
