#!/usr/bin/env python3
"""Verify downloaded Hadir exports offline (Python 3.9+, standard library only).

    python tools/verify_exports.py DIR [--head SHA256]
    python tools/verify_exports.py DIR --listing listing.json   # download first, then verify

DIR holds one folder per run, named by its run id (as in the bucket, ``run=<run_id>/`` or just
``<run_id>/``), each with ``manifest.json``, ``records.csv`` and ``audit.csv``; folders of several
dates may sit side by side. ``--listing`` takes the saved JSON of ``GET /audit/exports?date=``,
downloads every run's files into ``DIR/<run_id>/`` through their presigned URLs, then verifies,
also against the listing (the same runs, the same manifest hashes).

Checked: every file's size and SHA-256 against its manifest; no file the manifest does not vouch
for; the folder named as the manifest's run id; per date, sequences 1..n in run id order, each
manifest's ``previous_manifest_sha256`` the SHA-256 of the run before (the first run of a date:
of the previous date's last run before it, when that date is in DIR); with ``--head``, the last
run's manifest hash (take it from ``/audit/exports``: a chain cannot show its own last link was
dropped or rewritten). Prints each problem; exit status 0 when none, 1 otherwise.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

MANIFEST = "manifest.json"


@dataclass
class Run:
    folder: Path
    run_id: str
    day: str
    sequence: object
    previous: object
    sha256: str
    files: list = field(default_factory=list)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(folder: Path, problems: list) -> Run | None:
    data = (folder / MANIFEST).read_bytes()
    try:
        man = json.loads(data)
        run = Run(folder, str(man["run_id"]), str(man["date"]), man.get("run_sequence"),
                  man.get("previous_manifest_sha256"), hashlib.sha256(data).hexdigest(),
                  list(man["files"]))
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"{folder.name}: manifest unreadable ({exc.__class__.__name__}: {exc})")
        return None
    if folder.name not in (run.run_id, "run=" + run.run_id):
        problems.append(f"{folder.name}: folder is not the manifest's run {run.run_id}")
    return run


def _check_files(run: Run, problems: list) -> None:
    vouched = {MANIFEST}
    for f in run.files:
        name = str(f.get("name", ""))
        vouched.add(name)
        path = run.folder / name
        if not name or "/" in name or not path.is_file():
            problems.append(f"{run.run_id}: {name or '?'} is missing")
        elif path.stat().st_size != f.get("bytes") or _sha(path) != f.get("sha256"):
            problems.append(f"{run.run_id}: {name} does not match its manifest (altered)")
    for extra in sorted(p.name for p in run.folder.iterdir() if p.name not in vouched):
        problems.append(f"{run.run_id}: {extra} is not in the manifest")


def _check_chain(runs: list, problems: list, notes: list) -> None:
    by_day: dict = {}
    for run in sorted(runs, key=lambda r: r.run_id):
        by_day.setdefault(run.day, []).append(run)
    for day, chain in sorted(by_day.items()):
        for i, run in enumerate(chain):
            if run.sequence != i + 1:
                problems.append(f"{run.run_id}: run {run.sequence} of {day} where run {i + 1} belongs "
                                "(a run is missing or out of order)")
            if i:
                before = chain[i - 1]
                if run.previous != before.sha256:
                    problems.append(f"{run.run_id}: previous_manifest_sha256 is not the hash of "
                                    f"run {before.run_id}'s manifest (chain broken)")
                continue
            _check_first(run, by_day, problems, notes)


def _check_first(run: Run, by_day: dict, problems: list, notes: list) -> None:
    try:
        prev_day = (date.fromisoformat(run.day) - timedelta(days=1)).isoformat()
    except ValueError:
        problems.append(f"{run.run_id}: date {run.day!r} is not a date")
        return
    earlier = [r for r in by_day.get(prev_day, []) if r.run_id < run.run_id]
    if earlier:
        if run.previous != earlier[-1].sha256:
            problems.append(f"{run.run_id}: does not chain to {prev_day}'s last run {earlier[-1].run_id}")
    elif run.previous is not None:
        notes.append(f"{run.run_id}: chains to {str(run.previous)[:12]}... of a run not in this folder")


def verify(root: Path, heads: dict | None = None) -> tuple[list, list, list]:
    """(problems, notes, runs) of the runs under ``root``; ``heads``: date -> the SHA-256 its last
    run's manifest must have."""
    problems: list = []
    notes: list = []
    runs = [r for m in sorted(root.rglob(MANIFEST)) if (r := _load(m.parent, problems))]
    seen: dict = {}
    for run in runs:
        if run.run_id in seen:
            problems.append(f"{run.run_id}: two folders with this run ({seen[run.run_id].name}, {run.folder.name})")
        seen[run.run_id] = run.folder
        _check_files(run, problems)
    _check_chain(runs, problems, notes)
    for day, head in (heads or {}).items():
        last = max((r for r in runs if r.day == day), key=lambda r: r.run_id, default=None)
        if last is None or last.sha256 != head:
            problems.append(f"{day}: the last run's manifest is not the one listed ({head[:12]}...)")
    if not runs and not problems:
        problems.append(f"no {MANIFEST} under {root}")
    return problems, notes, runs


def download(listing: dict, root: Path) -> dict:
    """Every run's files of an ``/audit/exports`` listing into ``root/<run_id>/``; returns the
    heads to check (its date -> its last complete run's manifest hash)."""
    for run in listing["runs"]:
        folder = root / run["run_id"]
        folder.mkdir(parents=True, exist_ok=True)
        for f in run["files"]:
            with urllib.request.urlopen(f["url"], timeout=30) as response:  # noqa: S310 (presigned https)
                (folder / f["key"].rsplit("/", 1)[-1]).write_bytes(response.read())
    complete = [r for r in listing["runs"] if r.get("manifest_sha256")]
    return {listing["date"]: complete[-1]["manifest_sha256"]} if complete else {}


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--head", help="SHA-256 the last run's manifest must have (from /audit/exports)")
    parser.add_argument("--listing", type=Path, help="saved /audit/exports JSON: download, then verify")
    args = parser.parse_args(argv)
    heads: dict = {}
    if args.listing:
        listing = json.loads(args.listing.read_text())
        heads = download(listing, args.dir)
    problems, notes, runs = verify(args.dir, heads)
    if args.head:
        last = max(runs, key=lambda r: r.run_id, default=None)
        if last is None or last.sha256 != args.head:
            problems.append(f"the last run's manifest is not {args.head[:12]}...")
    if args.listing:
        listed = {r["run_id"] for r in listing["runs"] if r.get("manifest_sha256")}
        day = listing["date"]
        problems += [f"{day}: run {rid} listed but not verified" for rid in
                     sorted(listed - {r.run_id for r in runs if r.day == day})]
    for line in notes:
        print("note:", line)
    for line in problems:
        print("FAIL:", line)
    if problems:
        return 1
    print(f"OK: {len(runs)} runs, every file as its manifest states, the chain intact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
