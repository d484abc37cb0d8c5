"""A day's status against an independent oracle (issue 9): every transition, checked two ways.

The oracle (:class:`Oracle`) is the rules of README ("a day's status", "Requests") and of
policy/day.py's docstring said again in plain terms, over a few plain facts (the check-in that
counts, a rejecting review, an absence mark, the request covering the day), with no ``Day`` and
no call into day.py. :class:`Service` drives day.py as the services do: the policy rejects a second
check-in (``already_checked_in``), a check-out without a check-in is flagged ``no_checkin``,
absence detection marks (or covers) a day only as services/jobs.py does, a review is offered only
when ``reviewable``, and an approval writes a day only as services/requests.py's ``changed_days``
does. Hypothesis generates the sequences; a table names the transitions one by one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.policy import day as policy
from chalicelib.policy.day import Attempt, Day

settings.register_profile("day_oracle", max_examples=300, deadline=None, derandomize=True, database=None)
PROFILE = settings.get_profile("day_oracle")  # deterministic in CI; .hypothesis/ is never needed

OFFICE = "kantor"
STATUS_OF = {"excuse": "excused", "leave": "on_leave", "official_travel": "official_travel",
             "wfh": None, "leave_region": None}


# --- events ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class In:
    decision: str = "accepted"  # as the face/geo checks decided it; the service then rejects a second one
    late: int = 0


@dataclass(frozen=True)
class Out:
    decision: str = "accepted"


@dataclass(frozen=True)
class Absence:
    """Absence detection's run for the date (after the check-in window closed)."""


@dataclass(frozen=True)
class Review:
    approve: bool
    target: str | int = "flagged"  # the check-in the supervisor's list offers, an earlier one (index), or forged


@dataclass(frozen=True)
class Request:
    """An approved request covering the date; ``today``: approved on the date itself (an approval
    then writes no day that has no record yet: absence detection covers it later)."""

    type: str
    n: int = 1
    today: bool = False

    @property
    def request_id(self) -> str:
        return f"rq-{self.type}-{self.n}"


Event = In | Out | Absence | Review | Request


# --- the oracle: the documented rules, in plain terms ---------------------------------------------

@dataclass
class Counting:
    """The check-in that counts: accepted, approved by its supervisor, or flagged and waiting."""

    checkin_id: str
    late: int
    state: str  # accepted | approved | waiting


@dataclass
class Oracle:
    checkin: Counting | None = None
    rejected_by_review: bool = False
    marked_absent: bool = False
    covering: str | None = None  # the status the first approved request written to the day gives
    waiting_requests: list[Request] = field(default_factory=list)  # approved, not yet written
    recorded: bool = False  # the day exists in storage
    review_ids: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)

    def status(self) -> str:
        """A check-in that counts decides; else a covering request; else an absence (marked, or a
        rejected flagged check-in); else nothing yet."""
        c = self.checkin
        if c is not None and c.state != "waiting":
            return "late" if c.late else "present"
        if c is not None:
            return "pending_review"
        if self.covering:
            return self.covering
        if self.rejected_by_review or self.marked_absent:
            return "absent"
        return "no_record"

    def counts(self, event: In | Out) -> bool:
        """Whether an attempt reaches the day: not rejected, and a check-in only while none counts."""
        return event.decision != "rejected" and not (isinstance(event, In) and self.checkin is not None)

    def attempt(self, event: In | Out, checkin_id: str) -> None:
        if not self.counts(event):
            return  # a rejected attempt never changes the day
        self.recorded = True
        if isinstance(event, In):
            state = "waiting" if event.decision == "flagged" else "accepted"
            self.checkin = Counting(checkin_id, event.late, state)
        # a check-out never changes the status: it only records its time

    def may_review(self, checkin_id: str) -> bool:
        """Only the flagged check-in a day waits on, and only once."""
        return self.checkin is not None and self.checkin.state == "waiting" \
            and self.checkin.checkin_id == checkin_id

    def review(self, approve: bool, review_id: str) -> None:
        assert self.checkin is not None
        self.review_ids.append(review_id)
        if approve:
            self.checkin.state = "approved"
        else:  # the check-in no longer counts; another may be made; an approved request covers
            self.checkin, self.rejected_by_review = None, True
            if self.covering is None and self.waiting_requests:
                first = self.waiting_requests[0]
                self._write(first.request_id, STATUS_OF[first.type])

    def request(self, event: Request) -> None:
        """An approval writes the days it covers that have a record, and past ones that have none;
        a request without a status of its own writes no new day."""
        status = STATUS_OF[event.type]
        if not self.recorded and (status is None or event.today):
            if status is not None:
                self.waiting_requests.append(event)
            return
        self._write(event.request_id, status)

    def _write(self, request_id: str, status: str | None) -> None:
        if request_id in self.request_ids:
            return  # the same request twice changes nothing
        self.recorded = True
        self.request_ids.append(request_id)
        if status is not None and self.covering is None:
            self.covering = status

    def absence_detection(self) -> None:
        """A working day without a check-in that counts, a covering request or a review pending
        gets the absence mark (not again), or the status of an approved request waiting for it."""
        if self.status() != "no_record":
            return
        if self.waiting_requests:
            first = self.waiting_requests[0]
            self._write(first.request_id, STATUS_OF[first.type])
        else:
            self.marked_absent = self.recorded = True


# --- the service: day.py driven as the services drive it -----------------------------------------

ON_TIME = {"code": "on_time", "effect": "info", "local_time": "07:20:00", "work_start": "07:30"}
FACE = {"code": "face_match", "effect": "info", "score": 0.71, "threshold": 0.42}
UNCERTAIN = {"code": "location_uncertain", "effect": "flag", "site_id": OFFICE, "accuracy_m": 90}
MISMATCH = {"code": "face_mismatch", "effect": "reject", "score": 0.1, "threshold": 0.42}
ABSENCE = {"code": "no_checkin", "local_date": "2025-03-03", "day": "working_day", "percent": 4.0}


def make_attempt(checkin_id: str, kind: str, decision: str, late: int = 0, alone: bool = False) -> Attempt:
    """An attempt with the reasons its decision implies (policy/decision.py's table)."""
    timing = ({"code": "late", "effect": "info", "minutes": late, "tier": "TL1"} if late else ON_TIME)
    reasons = [FACE, timing]
    if alone:
        reasons.append({"code": "no_checkin", "effect": "flag"})
    if kind == "in" and decision == "rejected":
        reasons.append({"code": "already_checked_in", "effect": "reject"})
    extra = {"flagged": [UNCERTAIN], "rejected": [MISMATCH]}.get(decision, [])
    return Attempt(checkin_id=checkin_id, kind=kind, decision=decision,
                   local_time="09:45:00" if late else ("16:05:00" if kind == "out" else "07:20:00"),
                   late_minutes=late, tier="TL1" if late else None, work_mode="WFO",
                   reasons=tuple(reasons + extra))


@dataclass
class Service:
    day: Day | None = None
    attempts: dict[str, Attempt] = field(default_factory=dict)
    approved: list[Request] = field(default_factory=list)

    def attempt(self, event: In | Out, checkin_id: str) -> Attempt:
        has_checkin = self.day is not None and self.day.has_checkin
        kind = "in" if isinstance(event, In) else "out"
        decision = "rejected" if kind == "in" and has_checkin else event.decision  # already_checked_in
        if kind == "out" and not has_checkin and decision == "accepted":
            decision = "flagged"  # no_checkin flags a check-out alone
        a = make_attempt(checkin_id, kind, decision, getattr(event, "late", 0), kind == "out" and not has_checkin)
        self.attempts[checkin_id] = a
        self.day = policy.fold_day(self.day, a, OFFICE)
        return a

    def review(self, checkin_id: str, approve: bool, review_id: str) -> bool:
        """services/reviews.py: refused (``not_pending``) unless ``reviewable``."""
        if not policy.reviewable(self.day, checkin_id):
            return False
        assert self.day is not None
        self.day = policy.review_checkin(self.day, self.attempts[checkin_id], review_id, approve, "sup",
                                         None if approve else "not at the office")
        covering = [r for r in self.approved if STATUS_OF[r.type] is not None]
        if self.day.status == policy.ABSENT and covering:  # reviews._covered: the stored request
            self.day = self.apply(covering[0])
        return True

    def request(self, event: Request) -> None:
        """services/requests.py ``changed_days`` for this one date."""
        self.approved.append(event)
        status = STATUS_OF[event.type]
        if self.day is None and (status is None or event.today):
            return
        self.day = self.apply(event)

    def apply(self, event: Request) -> Day:
        status = STATUS_OF[event.type]
        reason = policy.request_reason(event.request_id, status or "", event.type, None)
        return policy.apply_request(self.day, OFFICE, event.request_id, status, reason)

    def absence_detection(self) -> None:
        """services/jobs.py ``_absentees_of`` with ``_mark`` and ``_cover`` for one employee."""
        attended, pending = policy.split_for_absence([("e", self.day)] if self.day else [])
        if attended or pending or (self.day is not None and self.day.status != policy.NO_RECORD):
            return
        covering = [r for r in self.approved if STATUS_OF[r.type] is not None]
        if covering:
            self.day = self.apply(covering[0])
        else:
            self.day = policy.absent_day(OFFICE, [dict(ABSENCE)], self.day)

    @property
    def status(self) -> str:
        return policy.view_status(self.day, True, "working_day")


# --- running a sequence through both ---------------------------------------------------------------

def review_target(event: Review, service: Service, oracle: Oracle) -> str:
    ids = list(service.attempts)
    if event.target == "flagged":
        return oracle.checkin.checkin_id if oracle.checkin else "c-none"
    if event.target == "forged":
        return "c-forged"
    return ids[event.target % len(ids)] if ids else "c-none"


def run(events: list[Event]) -> tuple[Service, Oracle]:
    """Each event through day.py and through the oracle, checking what holds after every step."""
    service, oracle = Service(), Oracle()
    for i, event in enumerate(events, 1):
        before = service.day
        if isinstance(event, (In, Out)):
            a = service.attempt(event, f"c{i}")
            oracle.attempt(event, f"c{i}")
            check_attempt(before, service.day, a)
        elif isinstance(event, Review):
            cid = review_target(event, service, oracle)
            offered = oracle.may_review(cid)
            assert service.review(cid, event.approve, f"r{i}") == offered, (cid, before)
            if offered:
                oracle.review(event.approve, f"r{i}")
                assert service.day.attended == event.approve  # approved: attended; rejected: not
            else:
                assert service.day is before  # a refused review changes nothing
        elif isinstance(event, Request):
            service.request(event)
            oracle.request(event)
        else:
            service.absence_detection()
            oracle.absence_detection()
        if isinstance(event, (Request, Absence)):  # neither a request nor an absence run makes anyone attend
            assert not became_attended(before, service.day)
        check_day(service, oracle)
    return service, oracle


def became_attended(before: Day | None, after: Day | None) -> bool:
    return after is not None and after.attended and not (before is not None and before.attended)


def check_attempt(before: Day | None, after: Day | None, a: Attempt) -> None:
    if a.decision == "rejected":
        assert after is before  # a rejected attempt never changes the day
    if a.kind == "out" and a.decision != "rejected":
        assert after is not None and after.status == (before.status if before else "no_record")
        assert after.last_out == a.local_time
        if before is not None and not before.has_checkin and before.status != "no_record":
            assert after.reasons == before.reasons  # absent or covered: for the same reasons
    if a.kind == "in" and a.decision != "rejected" and before is not None and before.status == "absent":
        assert after is not None and after.absence_replaced == before.reasons  # why it was absent, kept
    if became_attended(before, after):
        assert a.kind == "in" and a.decision == "accepted"  # only an accepted check-in makes it attended


def codes(reasons) -> list[str]:
    return [r["code"] for r in reasons]


WHY = {  # the reasons each status of the docstring's table carries
    "present": lambda rs: codes(rs)[:1] == ["on_time"],
    "late": lambda rs: codes(rs)[:1] == ["late"] and rs[0]["minutes"] > 0,
    "pending_review": lambda rs: bool(rs) and rs[0]["effect"] == "flag" and "checkin_id" in rs[0],
    "no_record": lambda rs: "no_checkin" in codes(rs),
    "absent": lambda rs: list(rs[:1]) == [ABSENCE] or codes(rs)[:1] == ["review_rejected"],
    **{status: lambda rs, status=status: any(r["code"] == "request_approved" and r["status"] == status
                                             for r in rs)
       for status in policy.REQUEST_STATUSES},
}


def check_day(service: Service, oracle: Oracle) -> None:
    assert service.status == oracle.status()
    day = service.day
    assert (day is not None) == oracle.recorded
    if day is None:
        return
    assert list(day.review_ids) == oracle.review_ids
    assert list(day.request_ids) == oracle.request_ids
    assert day.status in (*policy.DAY_STATUSES, *policy.REQUEST_STATUSES)
    for r in day.reasons:  # every reason names where it comes from
        assert {"checkin_id", "review_id", "request_id"} & set(r) or r == ABSENCE, r
    assert WHY[day.status](day.reasons), (day.status, day.reasons)
    if oracle.checkin is not None and oracle.status() in ("present", "late"):
        assert (day.first_in, day.late_minutes) == (service.attempts[oracle.checkin.checkin_id].local_time,
                                                    oracle.checkin.late)
    if oracle.status() in ("present", "late") and oracle.checkin.state == "approved":
        approved = [r for r in day.reasons if r["code"] == "review_approved"]
        assert [r["review_id"] for r in approved] == list(day.review_ids[-1:])  # the review that made it so
    for rq in service.approved:  # applying the same request twice changes nothing
        if rq.request_id in day.request_ids:
            assert service.apply(rq) == day


# --- the generated sequences ----------------------------------------------------------------------

decisions = st.sampled_from(["accepted", "flagged", "rejected"])
targets = st.sampled_from(["flagged", "flagged", "flagged", "forged", 0, 1, 2])  # mostly what the list offers
check_ins = st.builds(In, decisions, st.sampled_from([0, 0, 15, 75]))
reviews = st.builds(Review, st.booleans(), targets)
requests = st.builds(Request, st.sampled_from(sorted(STATUS_OF)), st.integers(1, 2), st.booleans())
events = st.one_of(check_ins, st.builds(Out, decisions), st.just(Absence()), reviews, requests)
# The interplay worth reaching often: a flagged check-in and its review, around other events.
flagged_then_review = st.tuples(st.builds(In, st.just("flagged"), st.sampled_from([0, 15])),
                                st.lists(events, max_size=2), reviews)
chunks = st.one_of(events.map(lambda e: [e]), events.map(lambda e: [e]),
                   flagged_then_review.map(lambda t: [t[0], *t[1], t[2]]))
# Every day the table starts from before a check-in: nothing, absent, a check-out alone, covered.
starts = st.sampled_from([[], [Absence()], [Out()], [Out(), Absence()], [Request("excuse")],
                          [Request("leave")], [Request("official_travel")], [Absence(), Request("leave")],
                          [Request("leave", today=True)]])
sequences = st.tuples(starts, st.lists(chunks, max_size=5)).map(lambda t: [*t[0], *(e for c in t[1] for e in c)])


@settings(PROFILE)
@given(sequences)
def test_every_sequence_of_attempts_reviews_requests_and_absence_runs_agrees_with_the_oracle(seq):
    run(seq)


@settings(PROFILE)
@given(sequences)
def test_a_day_once_attended_stays_attended_and_a_check_out_never_changes_its_status(seq):
    service = Service()
    was_attended = False
    for i, event in enumerate(seq, 1):
        if isinstance(event, Review):
            continue
        if isinstance(event, (In, Out)):
            service.attempt(event, f"c{i}")
        elif isinstance(event, Request):
            service.request(event)
        else:
            service.absence_detection()
        was_attended = was_attended or service.status in ("present", "late")
        if was_attended:
            assert service.status in ("present", "late")


# --- the named transitions, one row each -----------------------------------------------------------

ROWS = [
    ("on-time check-in", [In()], "present"),
    ("late check-in", [In(late=15)], "late"),
    ("flagged check-in", [In("flagged")], "pending_review"),
    ("flagged, approved", [In("flagged"), Review(True)], "present"),
    ("flagged late, approved", [In("flagged", 15), Review(True)], "late"),
    ("flagged, rejected", [In("flagged"), Review(False)], "absent"),
    ("flagged, rejected, checked in again", [In("flagged"), Review(False), In()], "present"),
    ("flagged, forged review refused", [In("flagged"), Review(True, "forged")], "pending_review"),
    ("flagged, decided twice: the second refused", [In("flagged"), Review(False), Review(True, 0)], "absent"),
    ("rejected attempt only", [In("rejected")], "no_record"),
    ("check-out alone", [Out()], "no_record"),
    ("check-out alone, absence run", [Out(), Absence()], "absent"),
    ("nothing, absence run", [Absence()], "absent"),
    ("absence run twice", [Absence(), Absence()], "absent"),
    ("absent, late check-in", [Absence(), In(late=75)], "late"),
    ("absent, on-time check-in", [Absence(), In()], "present"),
    ("absent, check-out", [Absence(), Out()], "absent"),
    ("present, absence run", [In(), Absence()], "present"),
    ("pending, absence run", [In("flagged"), Absence()], "pending_review"),
    ("second check-in rejected", [In(), In(late=75)], "present"),
    ("absent, excuse approved", [Absence(), Request("excuse")], "excused"),
    ("nothing, leave approved after the date", [Request("leave")], "on_leave"),
    ("dinas luar approved after the date", [Request("official_travel")], "official_travel"),
    ("leave approved on the date, absence run", [Request("leave", today=True), Absence()], "on_leave"),
    ("leave approved on the date, not yet run", [Request("leave", today=True)], "no_record"),
    ("check-out alone, dinas luar approved", [Out(), Request("official_travel", today=True)], "official_travel"),
    ("WFH approved, nobody checked in", [Request("wfh")], "no_record"),
    ("WFH approved, absence run", [Request("wfh"), Absence()], "absent"),
    ("leave_region on an absent day", [Absence(), Request("leave_region")], "absent"),
    ("present, leave approved", [In(), Request("leave")], "present"),
    ("excused, checked in after all", [Request("excuse"), In(late=15)], "late"),
    ("flagged, leave approved, review rejected", [In("flagged"), Request("leave"), Review(False)], "on_leave"),
    ("flagged, leave approved, review approved", [In("flagged"), Request("leave"), Review(True)], "present"),
    ("on leave, flagged check-in, rejected", [Request("leave"), In("flagged"), Review(False)], "on_leave"),
    ("excused, then leave too", [Request("excuse"), Request("leave")], "excused"),
    ("same request twice", [Absence(), Request("leave"), Request("leave")], "on_leave"),
]


@pytest.mark.parametrize("given_when, then", [(r[1], r[2]) for r in ROWS], ids=[r[0] for r in ROWS])
def test_given_a_sequence_when_it_is_applied_then_the_day_has_its_status(given_when, then):
    service, oracle = run(given_when)
    assert service.status == oracle.status() == then


def test_the_table_names_every_status_of_the_docstring():
    assert {r[2] for r in ROWS} >= {*policy.DAY_STATUSES, *policy.REQUEST_STATUSES}


def test_an_absence_replaced_by_a_check_in_keeps_why_it_was_made():
    service, _ = run([Absence(), In(late=75)])
    assert service.day.absence_replaced == (ABSENCE,)
    assert [r["code"] for r in service.day.reasons] == ["late"]


def test_a_rejected_check_in_on_a_covered_day_names_the_review_and_the_request():
    service, _ = run([Request("leave"), In("flagged"), Review(False)])
    assert [r["code"] for r in service.day.reasons] == ["review_rejected", "request_approved"]
    assert service.day.reasons[1]["request_id"] == "rq-leave-1"


def test_a_rejected_check_in_on_a_day_a_dinas_luar_approved_that_same_morning_covers_is_official_travel():
    # Given dinas luar approved on the date, before any check-in (no day is written for it yet)
    # When the check-in at the destination is flagged and its supervisor rejects it
    service, _ = run([Request("official_travel", today=True), In("flagged"), Review(False), Absence()])
    # Then the day is the dinas luar's, as README says a rejected check-in on a covered day is
    assert service.status == "official_travel"
