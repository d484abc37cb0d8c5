"""A deterministic February 2026 for the seeded demo agency (local/seed.py: 7 staff in Denpasar,
Jakarta and Jayapura). The seed creates people, offices and sites but no attendance, so the days are
written here straight into the day records (``records.mark_absent`` is the port's conditional put of
a day record, absent or not), as check-ins, absence detection and approved requests would have left
them. Every working day not listed is ``ON_TIME`` at the employee's usual work mode; the working
days of February 2026 are 18 (2-6, 9-13, 18-20, 23-27: 16 February is cuti bersama Imlek, 17 the
Imlek holiday). ``tests/data/recap-pemkab-demo-2026-02.md`` computes the recap from this table by
hand."""
from __future__ import annotations

from datetime import date

from chalicelib.policy.day import Day
from chalicelib.services.records import DayRecord

MONTH = "2026-02"
WORKING = [date(2026, 2, d) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 18, 19, 20, 23, 24, 25, 26, 27)]

KETUT, AYU, MADE = "197805122005011002", "199001152015032001", "199208202019021003"
BUDI, ANDI = "198001012006041001", "199503032020121002"
YOHANES, MARIA = "197907072004051001", "199406062018082001"
OFFICE = {KETUT: "kantor-denpasar", AYU: "kantor-denpasar", MADE: "kantor-denpasar", BUDI: "kantor-jakarta",
          ANDI: "kantor-jakarta", YOHANES: "kantor-jayapura", MARIA: "kantor-jayapura"}
USUAL_MODE = {MADE: "WFH"}  # Made works from home in Tabanan; everyone else from the office


def attended(late: int = 0, early: int = 0, out: bool = True, mode: str | None = None) -> dict:
    return {"kind": "attended", "late": late, "early": early, "out": out, "mode": mode}


ABSENT = {"kind": "absent"}
PENDING = {"kind": "pending_review"}
NONE = {"kind": "none"}  # no record at all (absence detection did not mark it)


def leave(subtype: str) -> dict:
    return {"kind": "on_leave", "subtype": subtype}


EXCUSED = {"kind": "excused"}
TRAVEL = {"kind": "official_travel"}

# (nip, day of February) -> what happened; every other working day: attended on time
EXCEPTIONS: dict[tuple[str, int], dict] = {
    # Ketut: one late check-in of each TL tier
    (KETUT, 3): attended(late=15), (KETUT, 10): attended(late=45), (KETUT, 11): attended(late=75),
    (KETUT, 12): attended(late=100),
    # Yohanes: one early leave of PSW1-3, a missing check-out (PSW4), a day late and early (TL2+PSW2)
    (YOHANES, 4): attended(early=20), (YOHANES, 5): attended(early=40), (YOHANES, 6): attended(early=70),
    (YOHANES, 9): attended(out=False), (YOHANES, 18): attended(late=31, early=31),
    # Budi: annual leave a week, an excused day, a day with no record at all
    **{(BUDI, d): leave("annual") for d in (2, 3, 4, 5, 6)}, (BUDI, 9): EXCUSED, (BUDI, 10): NONE,
    # Ayu: three days absent without notice, a flagged check-in nobody reviewed yet
    (AYU, 23): ABSENT, (AYU, 24): ABSENT, (AYU, 25): ABSENT, (AYU, 26): PENDING,
    # Made (WFH): one day at the office, one late from home by 10 minutes
    (MADE, 19): attended(mode="WFO"), (MADE, 20): attended(late=10),
    # Maria: late 61 minutes (TL3) on the 2nd, then absent 9-13, 18-20, 23-24 February: ten
    # consecutive working days (the weekends and 16-17 February between them neither break nor count)
    (MARIA, 2): attended(late=61),
    **{(MARIA, d): ABSENT for d in (9, 10, 11, 12, 13, 18, 19, 20, 23, 24)},
    # Andi: dinas luar at his assignment the first week (attended, DL), an approved dinas luar
    # request on the 9th, a day anywhere (WFA), and no check-out on the 27th
    **{(ANDI, d): attended(mode="DL") for d in (2, 3, 4, 5, 6)}, (ANDI, 9): TRAVEL,
    (ANDI, 26): attended(mode="WFA"), (ANDI, 27): attended(out=False),
}
# Records on days that are not working days count nothing (Ketut came in on Saturday 7 February,
# Ayu on the Imlek holiday, 17 February; Maria is marked absent on cuti bersama 16 February by mistake)
OFF_DAYS: dict[tuple[str, int], dict] = {(KETUT, 7): attended(), (AYU, 17): attended(late=40),
                                         (MARIA, 16): ABSENT}


def _day(nip: str, spec: dict) -> Day:
    office, kind = OFFICE[nip], spec["kind"]
    if kind == "attended":
        late, early = spec["late"], spec["early"]
        return Day(status="late" if late else "present", office_id=office,
                   first_in="08:30" if late else "07:50",
                   last_out=("15:00" if early else "16:05") if spec["out"] else None,
                   late_minutes=late, early_leave_minutes=early,
                   work_mode=spec["mode"] or USUAL_MODE.get(nip, "WFO"), checkin_ids=(f"c-{nip[-4:]}",))
    if kind == "absent":
        return Day(status="absent", office_id=office, reasons=({"code": "no_checkin", "effect": "flag"},))
    if kind == "pending_review":
        return Day(status="pending_review", office_id=office, first_in="07:55", work_mode="WFO")
    if kind == "on_leave":
        return Day(status="on_leave", office_id=office,
                   reasons=({"code": "request_approved", "type": "leave", "subtype": spec["subtype"]},))
    return Day(status=kind, office_id=office, reasons=({"code": "request_approved", "type": kind},))


def seed_month(records, now: str = "2026-03-01T00:00:00.000Z") -> int:
    """Write the month's day records; how many."""
    n = 0
    for nip in OFFICE:
        for d in WORKING:
            spec = EXCEPTIONS.get((nip, d.day), attended())
            if spec["kind"] != "none":
                n += records.mark_absent(DayRecord(nip=nip, date=d.isoformat(), day=_day(nip, spec)), now)
    for (nip, day), spec in OFF_DAYS.items():
        n += records.mark_absent(DayRecord(nip=nip, date=date(2026, 2, day).isoformat(), day=_day(nip, spec)), now)
    return n
