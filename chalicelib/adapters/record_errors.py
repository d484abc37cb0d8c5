"""The errors the ``AttendanceRecords`` port raises, defined once for both implementations
(DynamoDB and in-memory) so their codes, messages and details cannot drift apart."""
from __future__ import annotations

from chalicelib.common.errors import Conflict, JsonObject, NotFound
from chalicelib.services.records import Review
from chalicelib.policy.day import review_not_pending  # noqa: F401  (the policy's, re-exported)
from chalicelib.policy.requests import request_not_pending  # noqa: F401  (the policy's, re-exported)

SITE_AUDIT_FIELDS = ("site_id", "kind", "work_mode", "valid_from", "valid_to")  # what a site's audit keeps


def review_audit(review: Review) -> JsonObject:
    """What a review's audit entry keeps."""
    return review.model_dump(include={"review_id", "kind", "decision", "comment", "checkin_id", "local_date"},
                             exclude_none=True)


def employee_not_found(nip: str) -> NotFound:
    return NotFound("No employee record", code="employee_not_found", details={"nip": nip})


def already_enrolled() -> Conflict:
    return Conflict("Already enrolled", code="already_enrolled")


def not_enrolled() -> Conflict:
    return Conflict("The employee is not enrolled", code="not_enrolled")


def site_exists(site_id: str) -> Conflict:
    return Conflict("The employee already has a site with this id", code="site_exists",
                    details={"site_id": site_id})


def site_not_found(nip: str, site_id: str) -> NotFound:
    return NotFound("No such site for this employee", code="site_not_found",
                    details={"nip": nip, "site_id": site_id})


def session_exists() -> Conflict:
    return Conflict("The session id is taken", code="session_exists")


def session_used() -> Conflict:
    return Conflict("The upload session was already used", code="session_used")


def checkin_exists(checkin_id: str) -> Conflict:
    return Conflict("This check-in is already stored", code="checkin_exists", details={"checkin_id": checkin_id})


def config_changed(kind: str, expected: int | None, stored: int | None) -> Conflict:
    return Conflict(f"The {kind} configuration changed since it was read; read it again",
                    code="config_changed",
                    details={"kind": kind, "expected_version": expected, "stored_version": stored})


def roster_changed(unit: str, month: str, expected: int | None, stored: int | None) -> Conflict:
    return Conflict("The unit's roster of that month changed since it was read (or exists): "
                    "read it again and name its version in replaces", code="roster_changed",
                    details={"unit": unit, "month": month, "expected_version": expected,
                             "stored_version": stored})


def concurrent(what: str) -> Conflict:
    return Conflict(f"The {what} changed concurrently, retry", code="concurrent_update")


def already_reviewed(review_id: str) -> Conflict:
    return Conflict("This was already reviewed", code="already_reviewed", details={"review_id": review_id})


def review_gone(review_id: str) -> NotFound:
    return NotFound("No such review", code="review_not_found", details={"review_id": review_id})


def request_exists(request_id: str) -> Conflict:
    return Conflict("This request id is taken", code="request_exists", details={"request_id": request_id})



def task_changed(task_id: str) -> Conflict:
    return Conflict("The task changed meanwhile: read it again", code="task_transition_invalid",
                    details={"task_id": task_id})


def report_changed(nip: str, day: str) -> Conflict:
    return Conflict("The report changed meanwhile: read it again", code="report_changed",
                    details={"nip": nip, "date": day})
