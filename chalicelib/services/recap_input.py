"""What the monthly recap reads, in few requests that each return many items, streamed.

* The month's day records: every (NIP, date) of the period read by its own key
  (``records.days_of``: BatchGetItem, 100 keys a request) for a block of employees at a time, so
  only one block's days are held at once. No index is involved: the keys are spread over the
  table's NIP partitions (nothing hot at national scale, issue 14), a request costs what it
  returns on DynamoDB and on moto alike (moto's Query walks the whole table per request).
* The excuses: the approved requests overlapping the period, in one query (``by_status``).
* The PP 94/2021 year-to-date count: each earlier month of the year from its latest complete
  recap run (its ``recap.csv`` carries each employee's unexcused absence days as cut reasons:
  the count follows what the agency's recaps reported), and only the earlier months without one
  from the day records (their dates are added to the keys read).
"""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from chalicelib.policy.day import ABSENT, Day
from chalicelib.policy.export import MANIFEST_FILE, RUN_DIR, run_of
from chalicelib.policy.requests import APPROVED, DAY_STATUS_OF
from chalicelib.services.records import Employee, RequestRecord
from chalicelib.wiring import Services

BLOCK = 200  # employees read together: 200 x 22 working days = 44 BatchGetItem requests
ABSENCE_CODES = ("absent", "review_rejected")  # the cut reasons of an unexcused absence day
RECAP_FILE = "recap.csv"


@dataclass(frozen=True)
class Earlier:
    """The year's months before the recap's: unexcused absence dates per NIP taken from their
    recaps, and the dates of the months that have no complete recap (read from the records)."""

    absent: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unread: tuple[date, ...] = ()  # their working days
    from_recaps: tuple[str, ...] = ()  # the months (YYYY-MM) taken from a recap run


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _complete_run(svc: Services, prefix: str, last_day: date) -> str | None:
    """The key of recap.csv of the latest run under ``prefix`` that wrote its manifest, if that
    run counted the whole month (through its last day)."""
    manifests = [o.key for o in svc.exports.list(prefix) if o.key.endswith("/" + MANIFEST_FILE) and run_of(o.key)]
    if not manifests:
        return None
    key = max(manifests, key=lambda k: run_of(k) or "")
    man = json.loads(svc.exports.get(key))
    if man.get("kind") != "monthly_recap" or man.get("through") != last_day.isoformat():
        return None
    return f"{prefix}{RUN_DIR}{run_of(key)}/{RECAP_FILE}"


def _absences_in(body: bytes) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO(body.decode("utf-8"))):
        dates = [r["date"] for r in json.loads(row.get("cut_reasons") or "[]") if r.get("code") in ABSENCE_CODES]
        if dates:
            out[row["nip"]] = dates
    return out


def earlier_absences(svc: Services, first: date, prefix_of: Callable[[date], str],
                     since: date | None = None) -> Earlier:
    """The months before ``first`` from ``since``'s month (default: January of ``first``'s year;
    the recap starts in the December before, where a run of consecutive absence may begin); see
    :class:`Earlier`."""
    absent: dict[str, list[str]] = defaultdict(list)
    unread: list[date] = []
    taken: list[str] = []
    month = since.replace(day=1) if since else first.replace(month=1, day=1)
    while month < first:
        last = _month_end(month)
        key = _complete_run(svc, prefix_of(month), last)
        if key is None:
            unread.extend(svc.calendar.working_days(month, last))
        else:
            taken.append(month.isoformat()[:7])
            for nip, dates in _absences_in(svc.exports.get(key)).items():
                absent[nip].extend(dates)
        month = last + timedelta(days=1)
    return Earlier({n: tuple(d) for n, d in absent.items()}, tuple(unread), tuple(taken))


def approved(svc: Services, first: date, through: date) -> list[RequestRecord]:
    """The approved requests overlapping the period (one bounded read, by_status)."""
    return svc.records.requests_overlapping(APPROVED, first.isoformat(), through.isoformat())


def excuses(approved: Iterable[RequestRecord]) -> dict[str, frozenset[str]]:
    """Per NIP, the ids of the ``approved`` requests that excuse a day."""
    found: dict[str, set[str]] = defaultdict(set)
    for r in approved:
        if DAY_STATUS_OF.get(r.type):
            found[r.nip].add(r.request_id)
    return {n: frozenset(ids) for n, ids in found.items()}


def stored_days(svc: Services, staff: Sequence[Employee], dates: Sequence[date],
                earlier: Earlier) -> Iterator[tuple[Employee, dict[str, Day]]]:
    """Each employee of ``staff`` in order with the days the recap needs, by ISO date: their
    stored days on ``dates`` (the period's working days: with schedules per employee, the union of
    everyone's), on the unread earlier months' working days, and an absent day for each earlier
    absence a recap reported. Only the days on working days count, so only those are read."""
    keys = sorted({d.isoformat() for d in (*earlier.unread, *dates)})
    for at in range(0, len(staff), BLOCK):
        block = staff[at:at + BLOCK]
        read: dict[str, dict[str, Day]] = defaultdict(dict)
        for rec in svc.records.days_of([e.nip for e in block], keys):
            read[rec.nip][rec.date] = rec.day
        for e in block:
            days = {d: Day(status=ABSENT) for d in earlier.absent.get(e.nip, ())}
            days.update(read.pop(e.nip, {}))
            yield e, days
