"""Pictures and tables: SOT plots, Rich tables, rendered MOT videos whose FP/FN/IDSW marks equal CLEAR."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.tasks.fixtures import ScriptedMOT, switch_script, write_mot_split
from zoo.data.formats import motchallenge
from zoo.metrics import mot as mot_metrics
from zoo.tasks import mot
from zoo.viz.mot_render import frame_events, id_color, render_tracks
from zoo.viz.sot_plots import plot_sot_curves
from zoo.viz.tables import comparison_table, format_value, mot_sequence_table, sequence_table, table_text

MOT17 = Path(__file__).resolve().parents[3] / "shared" / "data" / "mot17-train-trackeval"


def _sot_doc(method: str, level: float) -> dict:
    success = np.clip(level * (1 - np.linspace(0, 1, 21) ** 2), 0, 1)
    precision = np.clip(level * np.linspace(0, 1, 51) ** 0.5, 0, 1)
    return {
        "method": method, "task": "sot", "benchmark": "synth_sot", "fps": 25.0,
        "metrics": {"success_curve": success.tolist(), "precision_curve": precision.tolist(),
                    "success_auc": float(success.mean()), "precision_20": float(precision[20]), "AO": level},
        "per_sequence": {},
    }  # fmt: skip


def test_sot_plots_are_real_pictures(tmp_path: Path) -> None:
    docs = [_sot_doc("csrt", 0.9), _sot_doc("kcf", 0.5)]
    success, precision = plot_sot_curves(docs, tmp_path)
    assert success.name == "sot_success_synth_sot.png" and precision.name == "sot_precision_synth_sot.png"
    for path in (success, precision):
        img = np.asarray(Image.open(path).convert("RGB"))
        assert img.shape == (480, 640, 3)
        colours = np.unique(img.reshape(-1, 3), axis=0)
        assert len(colours) > 50  # axes, text, anti-aliased curves: not a blank canvas
        # matplotlib's first two cycle colours (C0 blue, C1 orange) are both drawn
        for rgb in ((31, 119, 180), (255, 127, 14)):
            assert (np.abs(img.astype(int) - rgb).sum(-1) < 30).sum() > 100
    with pytest.raises(ValueError, match="no success/precision curves"):
        plot_sot_curves([{"method": "x", "benchmark": "b", "metrics": {}}], tmp_path)
    with pytest.raises(ValueError, match="several benchmarks"):
        plot_sot_curves([docs[0], {**docs[1], "benchmark": "otb"}], tmp_path)


def test_tables_print_percentages_and_sort() -> None:
    assert format_value("HOTA", 0.7527243791636787) == "75.272"
    assert format_value("MOTA", 0.9032) == "90.32"
    assert format_value("IDSW", 1605) == "1605"
    assert format_value("fps", 31.25) == "31.2"
    assert format_value("AO", float("nan")) == "-" and format_value("AO", None) == "-"
    text = table_text(comparison_table([_sot_doc("kcf", 0.5), _sot_doc("csrt", 0.9)]))
    assert text.index("csrt") < text.index("kcf")  # sorted by the first column (AO), best first
    assert "90" in text and "50" in text
    with pytest.raises(ValueError, match="different tasks"):
        comparison_table([_sot_doc("a", 0.5), {"method": "b", "task": "mot", "metrics": {}}])


def test_mot_sequence_table(tmp_path: Path) -> None:
    seqs = motchallenge.load_split(write_mot_split(tmp_path / "b", ("hand-01", "hand-02")))
    res = mot.run_benchmark(ScriptedMOT(switch_script()), seqs, None, progress=False)
    text = table_text(mot_sequence_table(res))
    lines = [line for line in text.splitlines() if "hand-0" in line or "COMBINED" in line]
    assert len(lines) == 3
    assert "75" in lines[-1] and "70.588" in lines[-1]  # MOTA 75 %, IDF1 6 / 8.5
    with pytest.raises(ValueError, match="needs a MOT result"):
        mot_sequence_table({"task": "sot", "metrics": {}})
    assert "COMBINED" in table_text(sequence_table(res.to_json()))
    capped = table_text(sequence_table(res.to_json(), max_rows=1))
    assert "hand-01" in capped and "hand-02" not in capped and "1 more" in capped
    cells = [[c.strip() for c in line.split("│")] for line in capped.splitlines() if "COMBINED" in line]
    assert cells == [[c.strip() for c in lines[-1].split("│")]]  # the combined row still covers both


def test_render_marks_equal_clear_counts(tmp_path: Path) -> None:
    seq = motchallenge.load_split(write_mot_split(tmp_path / "b"))[0]
    res = mot.run_benchmark(ScriptedMOT(switch_script()), [seq], tmp_path / "out", progress=False)
    rows = motchallenge.read_mot_file(tmp_path / "out" / "hand-01.txt", "results", seq.info)
    path, totals = render_tracks(seq, rows, tmp_path / "render.mp4")
    m = res.metrics
    assert totals == {"TP": m["CLR_TP"], "FP": m["CLR_FP"], "FN": m["CLR_FN"], "IDSW": m["IDSW"], "frames": 4}
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame[..., ::-1])
    cap.release()
    assert len(frames) == 4 and frames[0].shape == (48, 64, 3)
    # frame 3 has the identity switch: a thick magenta outline around gt 1 (x 10..20 of the 64 px frame)
    magenta = (frames[2][..., 0] > 180) & (frames[2][..., 1] < 90) & (frames[2][..., 2] > 180)
    assert magenta.sum() > 20
    assert id_color(7) == id_color(7) and id_color(7) != id_color(8)


@pytest.mark.skipif(not MOT17.is_dir(), reason="real MOT17 tracker data not available")
@pytest.mark.parametrize("name", ["MOT17-02-DPM", "MOT17-09-FRCNN"])
def test_frame_events_equal_trackeval_clear_on_mot17(name: str) -> None:
    seq = motchallenge.load_split(MOT17 / "gt" / "MOT17-train", [name], check_images=False)[0]
    rows = motchallenge.read_mot_file(MOT17 / "tracker" / "data" / f"{name}.txt", "results", seq.info)
    events = frame_events(seq.gt, rows, seq.info.seq_length, "MOT17")
    ref = mot_metrics.evaluate_sequence(seq.gt, rows, seq.info.seq_length, benchmark="MOT17")
    got = (
        sum(len(e.tp) for e in events), sum(len(e.fp) for e in events), sum(len(e.fn) for e in events),
        int(sum(e.idsw.sum() for e in events)),
    )  # fmt: skip
    assert got == (ref["CLR_TP"], ref["CLR_FP"], ref["CLR_FN"], ref["IDSW"])
    if name == "MOT17-02-DPM":  # this tracker has boxes on distractors there; CLEAR ignores them
        assert sum(len(e.ignored) for e in events) > 0
