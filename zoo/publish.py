"""Publish a trained run on the Hugging Face Hub:
``python -m zoo.publish run=RUN_DIR repo_id=ORG/NAME [revision=BRANCH] [tag=TAG] [dry_run=true] [out=DIR]``.

1. Export: read the run (:func:`zoo.cards.read_run`), rebuild the registered method from its init args, load
   the checkpoint's weights strictly, build its tracker (a broken export fails here, before anything is
   written), then write the Hub folder (layout in :mod:`zoo.hub`): ``model.safetensors``, ``config.json``,
   ``README.md`` (the run's card, re-rendered with the repo id unless it was edited by hand, then reused as
   is), ``results/`` (``results.json``, per-sequence CSV and plot, the run's raw outputs under ``raw/``).
   The folder is built next to ``out`` and verified by loading it with :func:`zoo.hub.load_pretrained`;
   only then does it replace ``out`` (rename), so ``out`` is never a half-written export.
2. Upload (unless ``dry_run=true``): create the repo if needed (and the branch ``revision``), refuse an
   existing ``tag`` before uploading, then one ``upload_folder`` commit that also removes files the new
   export no longer has, then tag that commit. A failed commit changes nothing on the Hub.

Authentication: ``hf auth login`` or ``HF_TOKEN``. ``HF_ENDPOINT`` selects another Hub.
"""

from __future__ import annotations

import csv
import datetime as _dt
import difflib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.hub import CARD_NAME, CONFIG_NAME, FORMAT, FORMAT_VERSION, RESULTS_DIR, WEIGHTS_NAME, HubError

__all__ = ["ExportResult", "PublishResult", "export_run", "main", "upload"]

USAGE = """\
usage: python -m zoo.publish run=RUN_DIR repo_id=ORG/NAME [key=value ...]

Exports a zoo.train run (weights, config.json, model card, results) and uploads it to the Hugging Face Hub.
keys:
  run=DIR          the run directory (outputs/<recipe>/<timestamp>)            (required)
  repo_id=ORG/NAME the Hub repo (created if needed)                   (required unless dry_run)
  revision=BRANCH  commit to this branch (created from main if needed; default main)
  tag=TAG          tag the new commit (refused if the tag exists)
  dry_run=BOOL     write the export folder only, upload nothing (default false)
  out=DIR          export folder (default RUN_DIR/hub_export)
  checkpoint=last|best|PATH   which checkpoint to publish (default last)
  raw=BOOL         include the run's raw benchmark outputs under results/raw (default true)
  private=BOOL     create the repo private (ignored when it exists)
  message=TEXT     commit message
Authentication: `hf auth login` or HF_TOKEN. Example:
  python -m zoo.publish run=outputs/finetrack/2025-01-01_12-00-00 repo_id=me/finetrack-zoosynth tag=v1
"""
KEYS = ("run", "repo_id", "revision", "tag", "dry_run", "out", "checkpoint", "raw", "private", "message")
_BOOL = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass
class ExportResult:
    """A written export folder: its path, ``config.json`` and how the card was made."""

    folder: Path
    config: dict[str, Any]
    files: list[tuple[str, int]] = field(default_factory=list)
    card: str = "rendered"
    seconds: float = 0.0


@dataclass
class PublishResult:
    """Where an upload went: repo, branch, the commit it created, the tag, the repo URL."""

    repo_id: str
    revision: str
    commit: str
    tag: str | None
    url: str
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------- export
def _write_results(folder: Path, info: Any, repo_id: str | None, revision: str | None, raw: bool) -> None:
    """``results/``: results.json (model id filled in), per-sequence CSV + plot per evaluation, raw outputs."""
    from zoo.cards import headline_metrics
    from zoo.tasks.results import write_results_json

    out = folder / RESULTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    for i, doc in enumerate(info.results):
        doc = {**doc, "model_id": repo_id or doc.get("model_id"), "revision": revision or doc.get("revision")}
        suffix = "" if i == 0 else f"_{doc.get('benchmark')}_{doc.get('split')}"
        write_results_json(out / f"results{suffix}.json", doc)
        per_seq = doc.get("per_sequence") or {}
        if per_seq:
            (out / f"per_sequence{suffix}.csv").write_text(_per_sequence_csv(per_seq), encoding="utf-8")
            headline = [name for name, _ in headline_metrics(doc)]
            if headline:
                _plot_per_sequence(out / f"per_sequence{suffix}.png", per_seq, headline[0], doc)
    source = info.run_dir / RESULTS_DIR
    if raw and source.is_dir():
        shutil.copytree(source, out / "raw", symlinks=False)


def _per_sequence_csv(per_seq: Mapping[str, Mapping[str, Any]]) -> str:
    columns: list[str] = []
    for row in per_seq.values():
        columns += [k for k, v in row.items() if k not in columns and not isinstance(v, (list, dict))]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["sequence", *columns])
    for name, row in per_seq.items():
        writer.writerow([name, *("" if row.get(c) is None else row.get(c) for c in columns)])
    return buffer.getvalue()


def _plot_per_sequence(path: Path, per_seq: Mapping[str, Mapping[str, Any]], metric: str,
                       doc: Mapping[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zoo.cards import display_value

    names = [n for n, row in per_seq.items() if display_value(row.get(metric)) is not None]
    if not names:
        return
    values = [display_value(per_seq[n][metric]) for n in names]
    fig, ax = plt.subplots(figsize=(6.4, 0.9 + 0.28 * len(names)))
    ax.barh(range(len(names)), values, color="#4477aa")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    pct = isinstance(per_seq[names[0]][metric], float)
    ax.set_xlabel(f"{metric}{' (%)' if pct else ''}")
    ax.set_title(f"{doc.get('method')} on {doc.get('benchmark')} {doc.get('split') or ''}".strip(), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _config_doc(info: Any, weights: dict[str, Any]) -> dict[str, Any]:
    import zoo
    from zoo.cards import _data_info, shareable_config

    training = info.training
    data = _data_info(info)
    evaluations = [{"benchmark": d.get("benchmark"), "split": d.get("split"), "evaluator": d.get("evaluator")}
                   for d in info.results]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "zoo_version": zoo.__version__,
        "method": info.spec.name,
        "task": info.spec.task,
        "kind": info.spec.kind,
        "init_args": info.init_args,
        "tracker_config": info.tracker_config,
        "input_contract": info.input_contract,
        "weights": weights,
        "provenance": {
            "git_sha": training.get("git_sha") or next((d.get("git_sha") for d in info.results), None),
            "recipe": info.recipe_name,
            "recipe_config": shareable_config(info.config),
            "command": training.get("command") or f"python -m zoo.train recipe={info.recipe_name}",
            "checkpoint": {"file": info.checkpoint.name, "epoch": info.epoch, "global_step": info.global_step},
            "data": {k: data[k] for k in ("benchmark", "train_split", "val_split", "sequences", "frames",
                                          "manifest_sha256")},
            "evaluator": evaluations[0]["evaluator"] if evaluations else None,
            "evaluations": evaluations,
            "hardware": training.get("hardware"),
            "wall_time_s": training.get("wall_time_s"),
            "trained_with_zoo": training.get("zoo_version"),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        },
    }


def _card(info: Any, repo_id: str | None, revision: str | None) -> tuple[str, str]:
    """(README text, how it was made): the run's card is reused when edited by hand, re-rendered otherwise."""
    from huggingface_hub import ModelCard

    from zoo.cards import CARD_FILE, render_card
    from zoo.hub import file_sha256

    existing = info.run_dir / CARD_FILE
    if existing.is_file() and info.training.get("card_sha256") not in (None, file_sha256(existing)):
        text = existing.read_text(encoding="utf-8")
        try:
            ModelCard(text)
        except ValueError as error:
            raise HubError(f"{existing}: the hand-edited card's metadata does not parse ({error})") from None
        return text, "reused (edited by hand)"
    how = "re-rendered (the run's card, with the repo id)" if existing.is_file() else "rendered"
    return render_card(info, repo_id=repo_id, revision=revision), how


def export_run(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, *, repo_id: str | None = None,
               revision: str | None = None, checkpoint: str = "last", raw: bool = True,
               status: Any = None) -> ExportResult:
    """Write the Hub folder of a run into ``out`` (default ``RUN_DIR/hub_export``), atomically.

    Args:
        run_dir: the run directory of ``python -m zoo.train``.
        out: the export folder; replaced as a whole only once the new export is complete and verified.
        repo_id, revision: where it will be published (card snippet, results.json ``model_id``).
        checkpoint: ``last``, ``best`` or a checkpoint path.
        raw: copy the run's raw outputs (``RUN_DIR/results``) under ``results/raw``.
        status: optional callable receiving one-line progress messages.

    Raises:
        HubError: the run cannot be exported (naming the file and the problem).
    """
    from zoo.cards import read_run
    from zoo.hub import build_module, load_pretrained, load_state_strict, save_weights
    from zoo.tasks.results import jsonable

    say = status or (lambda message: None)
    t0 = time.perf_counter()
    say("reading the run")
    info, ckpt = read_run(run_dir, checkpoint)
    target = Path(out).expanduser().resolve() if out else info.run_dir / "hub_export"
    say(f"rebuilding {info.spec.name} and loading {info.checkpoint.name} strictly")
    module = build_module(info.spec, info.init_args)
    load_state_strict(module, ckpt["state_dict"], str(info.checkpoint))
    module.eval()
    try:
        module.tracker()
    except Exception as error:
        raise HubError(f"{info.checkpoint}: {info.spec.name}.tracker() fails on the rebuilt module: "
                       f"{type(error).__name__}: {error}") from None
    for name in ("tracker_config", "input_contract"):
        method = getattr(module, name, None)
        setattr(info, name, dict(jsonable(method())) if callable(method) else {})

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        say("writing model.safetensors")
        import zoo

        weights = save_weights(ckpt["state_dict"], tmp / WEIGHTS_NAME,
                               {"format": "pt", "zoo_method": info.spec.name, "zoo_version": zoo.__version__})
        del ckpt
        say("writing results/ and the model card")
        _write_results(tmp, info, repo_id, revision, raw)
        card, how = _card(info, repo_id, revision)
        (tmp / CARD_NAME).write_text(card, encoding="utf-8")
        config = _config_doc(info, weights)
        (tmp / CONFIG_NAME).write_text(json.dumps(config, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        say("verifying the export loads")
        load_pretrained(tmp).tracker()
        os.chmod(tmp, 0o777 & ~_umask())
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    files = sorted((p.relative_to(target).as_posix(), p.stat().st_size) for p in target.rglob("*") if p.is_file())
    return ExportResult(target, config, files, how, time.perf_counter() - t0)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap(new: Path, target: Path) -> None:
    """Put the finished folder ``new`` at ``target``: readers see the old export or the new one, never a mix."""
    if not target.exists():
        os.replace(new, target)
        return
    if not target.is_dir():
        raise HubError(f"out={target} exists and is not a folder")
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.replace(target, old / "export")
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old / "export", target)  # put the previous export back
        raise
    shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- upload
def upload(folder: str | os.PathLike, repo_id: str, *, revision: str | None = None, tag: str | None = None,
           private: bool | None = None, token: str | bool | None = None, message: str | None = None,
           status: Any = None) -> PublishResult:
    """Upload an export folder as one commit (create the repo/branch if needed, then tag it).

    Raises:
        HubError: missing export files, authentication, an existing tag, or any Hub error (nothing is
            committed when the upload fails).
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    say = status or (lambda message: None)
    folder = Path(folder)
    for needed in (CONFIG_NAME, CARD_NAME):
        if not (folder / needed).is_file():
            raise HubError(f"{folder}: {needed} is missing; export the run first (zoo.publish dry_run=true)")
    branch = revision or "main"
    api = HfApi(token=token)
    t0 = time.perf_counter()
    try:
        say(f"creating {repo_id} (if needed)")
        url = str(api.create_repo(repo_id, exist_ok=True, private=private))
        if branch != "main":
            api.create_branch(repo_id, branch=branch, exist_ok=True)
        if tag is not None:
            existing = {t.name: t.target_commit for t in api.list_repo_refs(repo_id).tags}
            if tag in existing:
                raise HubError(f"{repo_id}: tag {tag!r} already exists (at {existing[tag][:12]}); tags are "
                               "releases and are never moved: choose a new tag")
        say(f"uploading {folder} to {repo_id}@{branch}")
        info = api.upload_folder(repo_id=repo_id, folder_path=folder, revision=branch,
                                 commit_message=message or f"zoo.publish {folder.name}", delete_patterns=["*"])
        commit = str(info.oid)
        if tag is not None:
            say(f"tagging {commit[:12]} as {tag}")
            api.create_tag(repo_id, tag=tag, revision=commit, tag_message=message or f"zoo.publish {tag}")
    except OfflineModeIsEnabled:
        raise HubError("HF_HUB_OFFLINE=1 is set: unset it to publish") from None
    except HfHubHTTPError as error:
        code = error.response.status_code if error.response is not None else None
        if code == 401:
            raise HubError(f"{repo_id}: not authenticated for this Hub; run `hf auth login` or set HF_TOKEN") from None
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise HubError(f"{repo_id}: the Hub refused the upload ({first})") from None
    except ValueError as error:  # e.g. the Hub rejected the card's metadata (validate-yaml)
        raise HubError(f"{repo_id}: {error}") from None
    return PublishResult(repo_id, branch, commit, tag, url, time.perf_counter() - t0)


# ------------------------------------------------------------------------------------------------- CLI
class UsageError(ValueError):
    """A bad command line; the message lists the valid keys."""


def parse_args(argv: Sequence[str]) -> dict[str, Any]:
    """``key=value`` arguments into a dict (booleans parsed), checked against :data:`KEYS`.

    Raises:
        UsageError: unknown or malformed keys, bad booleans, missing ``run`` (or ``repo_id`` to upload).
    """
    args: dict[str, Any] = {}
    for item in argv:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"expected key=value, got {item!r}. Valid keys: {', '.join(KEYS)}")
        key = key.lstrip("+-")
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"unknown key {key!r}.{hint} Valid keys: {', '.join(KEYS)}")
        if key in ("dry_run", "raw", "private"):
            if value.lower() not in _BOOL:
                raise UsageError(f"{key} must be true or false, got {value!r}")
            args[key] = _BOOL[value.lower()]
        else:
            args[key] = value
    if "run" not in args:
        raise UsageError("run=RUN_DIR is required")
    if not args.get("dry_run") and not args.get("repo_id"):
        raise UsageError("repo_id=ORG/NAME is required to upload (or pass dry_run=true)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m zoo.publish``; returns the exit code (2: usage, 1: export/upload failed)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False)
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or any(a in ("-h", "--help", "help") for a in args_list):
        print(USAGE)
        return 0
    try:
        args = parse_args(args_list)
    except UsageError as error:
        console.print(f"[bold red]error:[/] {error}")
        return 2
    try:
        with console.status("exporting") as spinner:
            export = export_run(args["run"], args.get("out"), repo_id=args.get("repo_id"),
                                revision=args.get("revision"), checkpoint=args.get("checkpoint", "last"),
                                raw=args.get("raw", True), status=lambda m: spinner.update(m))
        table = Table(title=f"export: {export.folder}", show_edge=False)
        table.add_column("file")
        table.add_column("bytes", justify="right")
        for name, size in export.files:
            table.add_row(name, f"{size:,}")
        console.print(table)
        console.print(f"[green]exported[/] {export.config['method']} ({export.config['task']}) in "
                      f"{export.seconds:.1f} s; card {export.card}")
        if args.get("dry_run"):
            console.print("dry run: nothing uploaded")
            print(export.folder)
            return 0
        with console.status("uploading") as spinner:
            result = upload(export.folder, args["repo_id"], revision=args.get("revision"), tag=args.get("tag"),
                            private=args.get("private"), message=args.get("message"),
                            status=lambda m: spinner.update(m))
    except HubError as error:
        console.print(f"[bold red]error:[/] {error}")
        return 1
    tag = f", tag {result.tag}" if result.tag else ""
    console.print(f"[green]published[/] {result.repo_id}@{result.revision} commit {result.commit[:12]}{tag} "
                  f"in {result.seconds:.1f} s")
    console.print(f"load it with: zoo.load(\"hf-hub:{result.repo_id}@{result.tag or result.revision}\")")
    print(result.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
