"""Write-once, chained runs in the exports bucket (the daily export's and the monthly recap's).

A run writes its files under ``<prefix>run=<run_id>/`` with IfNoneMatch (never replacing an
earlier run's objects) and, last, ``manifest.json``, which states each file's SHA-256 and the
SHA-256 of the manifest before it (``policy.export.chain``); a run cut short wrote no manifest
and chains nothing.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from chalicelib.common.errors import JsonObject
from chalicelib.policy.export import MANIFEST_FILE, RUN_DIR, manifest_bytes, run_of
from chalicelib.wiring import Services


@dataclass(frozen=True)
class PreviousRun:
    prefix: str
    run: str
    sequence: int
    sha256: str


def last_run(svc: Services, prefix: str) -> PreviousRun | None:
    """The latest run under ``prefix`` that wrote its manifest."""
    manifests = [o.key for o in svc.exports.list(prefix)
                 if o.key.endswith("/" + MANIFEST_FILE) and run_of(o.key)]
    if not manifests:
        return None
    key = max(manifests, key=lambda k: run_of(k) or "")
    data = svc.exports.get(key)
    return PreviousRun(prefix, run_of(key) or "", int(json.loads(data).get("run_sequence") or 0),
                       hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class WrittenRun:
    prefix: str  # the run's own: ``<prefix>run=<run_id>/``
    keys: dict[str, str]  # file name -> key
    versions: dict[str, str | None]  # key -> version id
    sha256: dict[str, str]  # key -> SHA-256
    sizes: dict[str, int]  # key -> bytes
    manifest_sha256: str


def write_run(svc: Services, prefix: str, run: str, files: dict[str, tuple[bytes, str]],
              man: JsonObject) -> WrittenRun:
    """Put ``files`` (name -> (bytes, content type)) then the manifest, each write-once."""
    own = f"{prefix}{RUN_DIR}{run}/"
    body = {**files, MANIFEST_FILE: (manifest_bytes(man), "application/json")}
    keys = {name: own + name for name in body}
    versions = {keys[name]: svc.exports.put(keys[name], data, ctype) for name, (data, ctype) in body.items()}
    return WrittenRun(prefix=own, keys=keys, versions=versions,
                      sha256={keys[n]: hashlib.sha256(d).hexdigest() for n, (d, _) in body.items()},
                      sizes={keys[n]: len(d) for n, (d, _) in body.items()},
                      manifest_sha256=hashlib.sha256(body[MANIFEST_FILE][0]).hexdigest())
