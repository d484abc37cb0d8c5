"""HTTP routes: each declares who may call it, what it takes and returns, and calls one use case.

Parsing, authorisation and the mapping of results and errors to HTTP happen in ``endpoint`` and
``chalicelib.common.http``; the contract is ``docs/openapi.json`` (``GET /openapi.json``).
"""
from __future__ import annotations

import re

from chalice import Blueprint

from chalicelib.api import openapi
from chalicelib.api.endpoint import PUBLIC, SIGNED_IN, Call, endpoint
from chalicelib.common.errors import Kind, Malformed
from chalicelib.common import http
from chalicelib.common.http import Outcome
from chalicelib.services import (admin, agency_config, audit, auth, checkin, devices, enrolment, events, import_jobs, notices,
                                 pings, queries, recap, requests, reviews, rosters, sites, team_now, work)
from chalicelib.services import schemas_work as ws
from chalicelib.services import schemas_whereabouts as w
from chalicelib.services import schemas as s
from chalicelib.services.schemas import DEVICE_ID_PATTERN
from chalicelib.wiring import get_services

api = Blueprint(__name__)
api.register_middleware(http.framework_errors_enveloped, "http")
DEVICE_ID = re.compile(DEVICE_ID_PATTERN)

EMPLOYEE = ("employee",)
ADMIN = ("admin",)
SUPERVISOR = ("supervisor",)
AUDITOR = ("auditor", "admin")
SITE_MANAGERS = ("admin", "supervisor")  # supervisors: their own staff only (checked by the use case)
REVIEWERS = SITE_MANAGERS
DEVICE_HEADER = {"X-Device-Id": "the app's random device id (8-128 of A-Z a-z 0-9 . _ : -), bound at "
                                "enrolment; another one flags new_device"}

NOT_FOUND_EMPLOYEE = {Kind.NOT_FOUND: ("employee_not_found",)}
SESSION_ERRORS = {Kind.NOT_FOUND: ("session_not_found", "employee_not_found"),
                  Kind.CONFLICT: ("session_used", "already_enrolled", "concurrent_update"),
                  Kind.GONE: ("session_expired",),
                  Kind.INVALID: ("wrong_session_purpose", "upload_missing", "nonce_mismatch")}
PHOTO_ERRORS = {Kind.TOO_LARGE: ("image_too_large",), Kind.UNSUPPORTED: ("unsupported_image",)}
STAFF_ERRORS = {Kind.NOT_FOUND: ("employee_not_found",), Kind.FORBIDDEN: ("not_your_staff",)}


@endpoint(api, "POST", "/auth/login", summary="Sign in (employees use their NIP)", roles=PUBLIC,
          body=s.LoginRequest, response=s.Tokens,
          errors={Kind.UNAUTHENTICATED: ("invalid_credentials", "user_not_confirmed",
                                         "password_reset_required", "challenge_required"),
                  Kind.INVALID: ("invalid_username",),
                  Kind.TOO_MANY_ATTEMPTS: ("too_many_attempts",)},
          notes="Every attempt counts against the username (known or not) before Cognito is asked: "
                "after HADIR_LOGIN_MAX_FAILURES failures within HADIR_LOGIN_WINDOW_S it is locked "
                "for HADIR_LOGIN_LOCK_S (429, Retry-After), even for the right password; a success "
                "clears the count.")
def login(call: Call[s.LoginRequest, None]) -> s.Tokens:
    return auth.login(get_services(), call.body)


@endpoint(api, "POST", "/auth/refresh", summary="New ID and access tokens for a refresh token", roles=PUBLIC,
          body=s.RefreshRequest, response=s.Tokens,
          errors={Kind.UNAUTHENTICATED: ("invalid_refresh_token",)},
          notes="REFRESH_TOKEN_AUTH: no password, so it is not counted by the sign-in lock. "
                "refresh_token is null in the answer: keep the one you have (valid 30 days). Cognito "
                "counts refreshes against the same per-account quota as sign-ins, so apps refresh "
                "off-peak (after check-out), never at 07:30 (docs/capacity.md).")
def refresh_tokens(call: Call[s.RefreshRequest, None]) -> s.Tokens:
    return auth.refresh(get_services(), call.body)


@endpoint(api, "POST", "/admin/offices", summary="Create or replace an office", roles=ADMIN,
          body=s.OfficeRequest, response=s.OfficeOut, created=True,
          errors={Kind.INVALID: ("invalid_office", "invalid_geofence", "invalid_time_rules")})
def create_office(call: Call[s.OfficeRequest, None]) -> s.OfficeOut:
    return admin.create_office(get_services(), call.body, actor=call.caller.username)


@endpoint(api, "GET", "/admin/config/calendar", summary="The agency's calendar: cuti bersama, regional "
          "and agency holidays, extra working days", roles=ADMIN, response=s.CalendarConfig,
          notes="version null: nothing stored, the defaults (the joint decrees' cuti bersama 2025-2027) apply.")
def get_calendar_config(call: Call[None, None]) -> s.CalendarConfig:
    return agency_config.get_calendar(get_services())


@endpoint(api, "PUT", "/admin/config/calendar", summary="Set the agency's calendar (audited)", roles=ADMIN,
          body=s.CalendarPut, response=s.CalendarConfig,
          errors={Kind.INVALID: ("invalid_calendar",), Kind.CONFLICT: ("config_changed",)},
          notes="Send the version you read (null to create the first); another admin's change since "
                "is 409 config_changed and nothing is written.")
def put_calendar_config(call: Call[s.CalendarPut, None]) -> s.CalendarConfig:
    return agency_config.put_calendar(get_services(), call.body, actor=call.caller.username)


@endpoint(api, "GET", "/admin/config/lateness", summary="The agency's TL/PSW table, grace minutes and "
          "daily cap", roles=ADMIN, response=s.LatenessConfig,
          notes="version null: nothing stored, Permentan 68/2012 applies.")
def get_lateness_config(call: Call[None, None]) -> s.LatenessConfig:
    return agency_config.get_lateness(get_services())


@endpoint(api, "PUT", "/admin/config/lateness", summary="Set the agency's TL/PSW table (audited)",
          roles=ADMIN, body=s.LatenessPut, response=s.LatenessConfig,
          errors={Kind.INVALID: ("invalid_lateness_table",), Kind.CONFLICT: ("config_changed",)},
          notes="Send the version you read (null to create the first); another admin's change since "
                "is 409 config_changed and nothing is written.")
def put_lateness_config(call: Call[s.LatenessPut, None]) -> s.LatenessConfig:
    return agency_config.put_lateness(get_services(), call.body, actor=call.caller.username)


@endpoint(api, "POST", "/admin/events", summary="Set an office's event day: its check-in point for one "
          "date (audited)", roles=ADMIN, body=s.EventRequest, response=s.EventOut, created=True,
          errors={Kind.INVALID: ("invalid_event", "invalid_geofence", "invalid_time_rules"),
                  Kind.NOT_FOUND: ("office_not_found",), Kind.CONFLICT: ("config_changed",)},
          notes="Replaces the office's event of that date if there is one. A past date is 422 invalid_event.")
def put_event(call: Call[s.EventRequest, None]) -> s.EventOut:
    return events.put_event(get_services(), call.body, actor=call.caller.username)


@endpoint(api, "GET", "/admin/events", summary="The agency's event days", roles=ADMIN,
          query=s.EventQuery, response=s.EventList, errors={Kind.INVALID: ("invalid_event", "invalid_date")})
def list_events(call: Call[None, s.EventQuery]) -> s.EventList:
    return events.list_events(get_services(), call.query)


@endpoint(api, "DELETE", "/admin/events/{office_id}/{date}", summary="Remove a coming event day (audited)",
          roles=ADMIN, response=s.EventOut,
          errors={Kind.NOT_FOUND: ("event_not_found", "office_not_found"),
                  Kind.CONFLICT: ("event_in_past", "config_changed")})
def delete_event(call: Call[None, None]) -> s.EventOut:
    return events.delete_event(get_services(), call.params["office_id"], call.params["date"],
                               actor=call.caller.username)

@endpoint(api, "GET", "/admin/config/schedules", summary="The agency's work schedules per office, unit or "
          "employee group, and its seasons (Ramadan)", roles=ADMIN, response=s.SchedulesConfig,
          notes="version null: nothing stored, the defaults apply (no schedule: every office keeps its own "
                "rules; the Ramadan seasons 2026-2027 for the schedules an agency adds).")
def get_schedules_config(call: Call[None, None]) -> s.SchedulesConfig:
    return agency_config.get_schedules(get_services())


@endpoint(api, "PUT", "/admin/config/schedules", summary="Set the agency's work schedules (audited)",
          roles=ADMIN, body=s.SchedulesPut, response=s.SchedulesConfig,
          errors={Kind.INVALID: ("invalid_schedules",), Kind.CONFLICT: ("config_changed",)},
          notes="Send the version you read (null to create the first); another admin's change since "
                "is 409 config_changed and nothing is written. Every problem is listed in "
                "details.problems (422 invalid_schedules).")
def put_schedules_config(call: Call[s.SchedulesPut, None]) -> s.SchedulesConfig:
    return agency_config.put_schedules(get_services(), call.body, actor=call.caller.username)


@endpoint(api, "POST", "/admin/employees", summary="Import employees (JSON list or Simpeg CSV)",
          roles=ADMIN, body=s.EmployeeRows, raw_body=True, response=s.ImportResult,
          content_types=("application/json", "text/csv"), result_on=(Kind.INVALID,),
          errors={Kind.INVALID: ("invalid_csv", "invalid_employee", "invalid_nip"),
                  Kind.TOO_LARGE: ("too_many_rows",), Kind.UNAVAILABLE: ("import_unavailable",)},
          notes="Each row is validated and saved on its own: the response lists every row's "
                "result. 200 when any row was saved (or there were none), 422 when all failed. "
                "The rows are saved by the import function (the only one with Cognito admin "
                "rights); 503 import_unavailable when it could not run (repeating is safe).")
def import_employees(call: Call[None, None]) -> Outcome:
    ctype = (call.headers.get("content-type") or "application/json").lower()
    rows = admin.parse_employee_rows(call.raw_body, ctype)
    result = admin.run_import(get_services(), rows, actor=call.caller.username)
    return Outcome(result, rejected=bool(rows) and not result.created, created=False)


IMPORT_NOT_FOUND = {Kind.NOT_FOUND: ("import_not_found",)}


@endpoint(api, "POST", "/admin/imports", summary="Start an employee import job: a presigned upload "
          "for the Simpeg file (CSV or JSON, any number of rows)", roles=ADMIN, body=s.ImportIn,
          response=s.ImportCreated, created=True, errors={Kind.INVALID: ("unsupported_import",)},
          notes="POST the file to upload.url with upload.fields, at most max_bytes "
                "(HADIR_IMPORT_MAX_BYTES), before expires_at; then POST /admin/imports/{id}/start.")
def create_import(call: Call[s.ImportIn, None]) -> s.ImportCreated:
    return import_jobs.create(get_services(), call.body, actor=call.caller.username)


@endpoint(api, "POST", "/admin/imports/{import_id}/start", summary="Queue the uploaded file's rows "
          "(again: a re-run skips the rows done)", roles=ADMIN, response=s.ImportStatus,
          errors={**IMPORT_NOT_FOUND, Kind.CONFLICT: ("import_not_uploaded",),
                  Kind.TOO_LARGE: ("import_too_large",), Kind.UNSUPPORTED: ("unsupported_import",),
                  Kind.INVALID: ("invalid_csv", "invalid_json"), Kind.UNAVAILABLE: ("import_unavailable",)},
          notes="The header is checked here; the rows are validated and saved by the queue's consumer "
                "in batches of HADIR_IMPORT_BATCH_ROWS. Poll GET /admin/imports/{id}.")
def start_import(call: Call[None, None]) -> s.ImportStatus:
    return import_jobs.start(get_services(), call.params["import_id"])


@endpoint(api, "GET", "/admin/imports/{import_id}", summary="An import job's state, progress and "
          "per-row results (paginated)", roles=ADMIN, query=s.ImportRowsQuery, response=s.ImportStatus,
          errors=IMPORT_NOT_FOUND,
          notes="state uploaded -> queued -> running -> done (or failed: the file as a whole could not "
                "be read, error says why). rows: each row's result, a refused row with its problems' codes. "
                "Admins share imports.")
def get_import(call: Call[None, s.ImportRowsQuery]) -> s.ImportStatus:
    return import_jobs.status(get_services(), call.params["import_id"], call.query.after, call.query.limit)


@endpoint(api, "DELETE", "/admin/employees/{nip}/enrollment", summary="Allow a new enrolment (audited)",
          roles=ADMIN, query=s.ResetQuery, response=s.EnrolmentReset,
          errors={**NOT_FOUND_EMPLOYEE, Kind.CONFLICT: ("not_enrolled",)})
def reset_enrolment(call: Call[None, s.ResetQuery]) -> s.EnrolmentReset:
    return admin.reset_enrolment(get_services(), call.params["nip"], actor=call.caller.username,
                                 reason=call.query.reason)


@endpoint(api, "GET", "/admin/enrolments/outdated", summary="Enrolled templates by face model version: "
          "who still needs a previous model", roles=ADMIN, response=s.OutdatedEnrolments,
          notes="After a model upgrade: outdated = 0 means the previous model can be dropped from "
                "HADIR_FACE_PREVIOUS_CALIBRATIONS (docs/deploy.md, \"Upgrading the face model\").")
def outdated_enrolments(call: Call[None, None]) -> s.OutdatedEnrolments:
    return admin.outdated_enrolments(get_services())


@endpoint(api, "POST", "/admin/employees/{nip}/sites", summary="Assign a personal site (audited)",
          roles=SITE_MANAGERS, body=s.SiteRequest, response=s.SiteOut, created=True,
          errors={**STAFF_ERRORS, Kind.CONFLICT: ("site_exists",),
                  Kind.INVALID: ("invalid_site", "invalid_site_kind", "invalid_geofence",
                                 "invalid_validity")},
          notes="home = WFH, assignment = dinas luar (DL), anywhere = WFA; supervisors may "
                "manage their own staff only.")
def assign_site(call: Call[s.SiteRequest, None]) -> s.SiteOut:
    return sites.assign(get_services(), call.params["nip"], call.body, call.caller)


@endpoint(api, "PUT", "/admin/employees/{nip}/device", summary="Allow the employee's new phone (audited)",
          roles=SITE_MANAGERS, body=s.DeviceBinding, response=s.DeviceBound,
          errors={**STAFF_ERRORS, Kind.INVALID: ("invalid_device_id",)},
          notes="Check-ins from another phone than the one bound at enrolment are flagged new_device; "
                "supervisors may approve their own staff's only.")
def approve_device(call: Call[s.DeviceBinding, None]) -> s.DeviceBound:
    return devices.approve(get_services(), call.params["nip"], call.body, call.caller)


@endpoint(api, "GET", "/admin/employees/{nip}/sites", summary="An employee's personal sites",
          roles=SITE_MANAGERS, response=s.SiteList, errors=STAFF_ERRORS)
def employee_sites(call: Call[None, None]) -> s.SiteList:
    return sites.list_for(get_services(), call.params["nip"], call.caller)


@endpoint(api, "DELETE", "/admin/employees/{nip}/sites/{site_id}", summary="Remove a personal site "
          "(audited)", roles=SITE_MANAGERS, response=s.SiteOut,
          errors={Kind.NOT_FOUND: ("employee_not_found", "site_not_found"),
                  Kind.FORBIDDEN: ("not_your_staff",)})
def remove_site(call: Call[None, None]) -> s.SiteOut:
    return sites.remove(get_services(), call.params["nip"], call.params["site_id"], call.caller)


@endpoint(api, "POST", "/me/enrollment/uploads", summary="Three presigned uploads for enrolment",
          roles=EMPLOYEE, needs_nip=True, response=s.UploadSessionOut, created=True,
          errors={**NOT_FOUND_EMPLOYEE, Kind.CONFLICT: ("already_enrolled", "reenrolment_unavailable")},
          notes="Enrolled employees are refused already_enrolled, unless their template is of a previous "
                "face model the engine can still load (a model upgrade: they re-enrol themselves); "
                "reenrolment_unavailable when that model is not configured any more (an admin reset).")
def enrolment_uploads(call: Call[None, None]) -> s.UploadSessionOut:
    return enrolment.open_uploads(get_services(), call.nip)


@endpoint(api, "POST", "/me/enrollment", summary="Enrol the face from the three uploaded photos",
          roles=EMPLOYEE, needs_nip=True, body=s.EnrolRequest, response=s.EnrolmentOut, created=True,
          errors={**SESSION_ERRORS, **PHOTO_ERRORS, Kind.MALFORMED: ("invalid_device_id",),
                  Kind.INVALID: (*SESSION_ERRORS[Kind.INVALID], "consent_required",
                                 "enrolment_photo_rejected", "inconsistent_enrolment_photos",
                                 "duplicate_enrolment_photos"),
                  Kind.CONFLICT: (*SESSION_ERRORS[Kind.CONFLICT], "reenrolment_unavailable"),
                  Kind.FORBIDDEN: ("reenrolment_mismatch",)},
          headers=DEVICE_HEADER,
          notes="consent must be true: the biometric consent notice (UU 27/2022) is recorded. A model "
                "upgrade's re-enrolment (the template of a previous model) must also match the old "
                "template under the old model: reenrolment_mismatch otherwise, nothing written; it is "
                "audited (enrolment_renewed) and approved like a first enrolment.")
def enrol(call: Call[s.EnrolRequest, None]) -> s.EnrolmentOut:
    return enrolment.enrol(get_services(), call.nip, call.body, device_id=_device_id(call))


OFFLINE_ERRORS = ("invalid_offline_captured_at", "invalid_offline_steps", "offline_fields_incomplete",
                  "offline_in_future", "offline_too_old", "offline_session_mismatch",
                  "offline_position_mismatch")


@endpoint(api, "POST", "/checkins/uploads", summary="A single-use check-in session and its upload",
          roles=EMPLOYEE, needs_nip=True, body=s.CheckinUploadsRequest, body_optional=True,
          response=s.UploadSessionOut, created=True,
          errors={**NOT_FOUND_EMPLOYEE, Kind.INVALID: ("invalid_offline_steps",)},
          notes="No body: the server's liveness challenge. For a check-in captured offline, "
                "{\"offline_steps\": [...]} (the poses the app asked, front first): one upload per "
                "step, challenge.offline true; the check-in is then always flagged delayed_capture.")
def checkin_uploads(call: Call[s.CheckinUploadsRequest | None, None]) -> s.UploadSessionOut:
    return checkin.open_uploads(get_services(), call.nip, call.body)


@endpoint(api, "POST", "/checkins", summary="Check in or out with the uploaded selfie and a GPS fix",
          roles=EMPLOYEE, needs_nip=True, body=s.CheckinRequest, response=s.CheckinOut, created=True,
          result_on=(Kind.INVALID, Kind.TOO_LARGE, Kind.UNSUPPORTED),
          errors={**SESSION_ERRORS, **PHOTO_ERRORS,
                  Kind.CONFLICT: ("session_used", "not_enrolled", "no_office", "enrolment_outdated",
                                  "concurrent_update"),
                  Kind.UNAVAILABLE: ("request_in_progress", "idempotency_unavailable", "storage_unavailable",
                                     "storage_failure", "biometric_vault_error"),
                  Kind.MALFORMED: ("invalid_idempotency_key", "invalid_device_id"),
                  Kind.TOO_MANY_ATTEMPTS: ("too_many_attempts",),
                  Kind.INVALID: (*SESSION_ERRORS[Kind.INVALID], "invalid_type", "invalid_coordinates",
                                 "invalid_accuracy", "invalid_captured_at", "invalid_is_mock",
                                 "idempotency_key_reused", "no_face", "multiple_faces",
                                 "corrupt_image", *OFFLINE_ERRORS)},
          headers={**DEVICE_HEADER, "Idempotency-Key": "1-128 characters: a retry with the same key and "
                                                        "body returns the stored result"},
          notes="201 for an accepted or flagged attempt, 422 for a rejected one (stored with its "
                "reasons); a photo that cannot be verified answers with its error's status and the "
                "decision. Send Idempotency-Key (1-128 characters) to retry safely. A template of "
                "another face model: 409 enrolment_outdated before any photo is read, details "
                "{template_model_version, engine_model_version, reenrol} (reenrol true: the employee "
                "may enrol again themselves; false: needs an admin reset).")
def create_checkin(call: Call[s.CheckinRequest, None]) -> Outcome:
    result = checkin.check_in(get_services(), call.nip, call.body, call.headers.get("idempotency-key"),
                              lambda_context=call.lambda_context, device_id=_device_id(call))
    timing = ", ".join(f"{k};dur={v}" for k, v in result.timings_ms.items())
    return Outcome(result.body, error=result.error, rejected=result.body.decision == "rejected",
                   headers={"Server-Timing": timing})


@endpoint(api, "GET", "/me", summary="The caller's profile, offices, sites and enrolment",
          roles=SIGNED_IN, needs_nip=True, response=s.Me, errors=NOT_FOUND_EMPLOYEE)
def me(call: Call[None, None]) -> s.Me:
    return queries.me(get_services(), call.nip, call.caller.groups)


@endpoint(api, "GET", "/me/attendance", summary="The caller's days and check-ins",
          roles=SIGNED_IN, needs_nip=True, query=s.DateRangeQuery, response=s.MyAttendance,
          errors={**NOT_FOUND_EMPLOYEE, Kind.INVALID: ("invalid_date", "invalid_range")})
def my_attendance(call: Call[None, s.DateRangeQuery]) -> s.MyAttendance:
    return queries.my_attendance(get_services(), call.nip, call.query)


@endpoint(api, "GET", "/me/notifications", summary="What the caller was told: decisions on their reviews "
          "and requests", roles=SIGNED_IN, needs_nip=True, query=s.NotificationQuery,
          response=s.NotificationList, errors={Kind.INVALID: ("invalid_limit",)})
def my_notifications(call: Call[None, s.NotificationQuery]) -> s.NotificationList:
    return notices.my_notifications(get_services(), call.nip, call.query.limit)


@endpoint(api, "GET", "/team/attendance", summary="The supervisor's own staff on a date",
          roles=SUPERVISOR, needs_nip=True, query=s.DateQuery, response=s.TeamAttendance,
          errors={**NOT_FOUND_EMPLOYEE, Kind.INVALID: ("invalid_date",)})
def team_attendance(call: Call[None, s.DateQuery]) -> s.TeamAttendance:
    return queries.team_attendance(get_services(), call.nip, call.query.day)


@endpoint(api, "GET", "/team/reviews", summary="Flagged check-ins, enrolments and out-of-region episodes waiting "
          "for a decision",
          roles=REVIEWERS, query=s.ReviewQuery, response=s.ReviewQueue,
          errors={Kind.INVALID: ("invalid_date", "invalid_range", "invalid_unit", "unit_required")},
          notes="A supervisor sees their own staff's, an admin one unit's (?unit=, required: "
                "unit_required); nobody their own. Each item "
                "carries its evidence: the selfie (short-lived URL), position, distance and accuracy, "
                "face score and threshold, liveness figures and every reason; an episode (kind episode, "
                "w.<nip>.<date>.<episode_id>) its opening, closing and pings with their reasons.")
def team_reviews(call: Call[None, s.ReviewQuery]) -> s.ReviewQueue:
    return reviews.queue(get_services(), call.caller, call.query)


@endpoint(api, "POST", "/team/reviews/{review_id}", summary="Approve or reject a flagged check-in, an "
          "enrolment or an episode (audited)", roles=REVIEWERS, body=s.ReviewDecision, response=s.ReviewOut,
          errors={Kind.NOT_FOUND: ("review_not_found", "employee_not_found"),
                  Kind.FORBIDDEN: ("not_your_staff", "own_review"),
                  Kind.CONFLICT: ("review_not_pending", "already_reviewed", "concurrent_update"),
                  Kind.INVALID: ("comment_required", "invalid_decision", "invalid_comment")},
          notes="A check-in's day is recomputed (approved: present or late; rejected: absent) and the "
                "employee is told. A rejected enrolment is deleted: the employee enrols again. An episode "
                "approved is justified, rejected unjustified; the decision is kept on the episode.")
def decide_review(call: Call[s.ReviewDecision, None]) -> s.ReviewOut:
    return reviews.decide(get_services(), call.caller, call.params["review_id"], call.body)


@endpoint(api, "GET", "/audit/exports", summary="Presigned downloads of a day's export",
          roles=AUDITOR, query=s.ExportDateQuery, response=s.ExportList,
          errors={Kind.NOT_FOUND: ("export_not_found",), Kind.INVALID: ("invalid_date",)})
def audit_exports(call: Call[None, s.ExportDateQuery]) -> s.ExportList:
    return queries.exports(get_services(), call.query.day)


RECAP_NOTE = ("recap.csv: one row per employee (working days, days present per work mode, each TL and PSW "
              "tier, absences with and without notice, leave by type, pending reviews, the allowance cut "
              "with its reasons per day, capped at 100 %, and the PP 94/2021 count of unexcused absence "
              "days this year); units.csv: totals per unit. Write-once under recap/year=/month=/agency=/"
              "run=<run_id>/, the manifest chained to the previous run's. The current month counts up "
              "to the last day that ended in WIB. recap.parquet and units.parquet: the same rows typed, "
              "for Athena, under analytics/<table>/year=/month=/agency=/run=<run_id>.parquet "
              "(docs/analytics.md). Runs in the analytics function (analytics_unavailable: it could not run).")


@endpoint(api, "POST", "/admin/recaps", summary="Produce a month's recap now (audited)", roles=ADMIN,
          body=s.RecapRequest, response=s.RecapRun, created=True,
          errors={Kind.INVALID: ("invalid_month",), Kind.UNAVAILABLE: ("analytics_unavailable",)},
          notes=RECAP_NOTE)
def create_recap(call: Call[s.RecapRequest, None]) -> s.RecapRun:
    return recap.produce(get_services(), call.body.month, actor=call.caller.username)


@endpoint(api, "POST", "/admin/rosters", summary="A WFO/WFH roster for a unit and period (a proposal)",
          roles=SITE_MANAGERS, body=s.RosterRequest, response=s.RosterOut,
          errors={Kind.NOT_FOUND: ("unit_not_found",), Kind.INVALID: ("invalid_roster", "roster_infeasible")},
          notes="At most max_share of the headcount in the office a day, at least min_share; one of each of "
                "the two highest structural levels (eselon) in the office every working day; approved leave "
                "and travel respected; office days within one of each other per group (policy/roster.py). "
                "roster_infeasible: details.failures lists each constraint no roster meets and its days. "
                "Supervisors: their own staff in the unit only. Not stored or published yet.")
def create_roster(call: Call[s.RosterRequest, None]) -> s.RosterOut:
    return rosters.generate(get_services(), call.body, call.caller)


@endpoint(api, "POST", "/admin/rosters/publish", summary="Publish a unit's WFO/WFH roster for a month (audited)",
          roles=SITE_MANAGERS, body=s.RosterPublishRequest, response=s.RosterOut, created=True,
          errors={Kind.NOT_FOUND: ("unit_not_found",), Kind.INVALID: ("invalid_roster", "roster_infeasible"),
                  Kind.CONFLICT: ("roster_changed",), Kind.FORBIDDEN: ("not_your_staff",)},
          notes="Solved again from the unit's staff, leave and travel (as POST /admin/rosters; an assignment "
                "in the body is ignored), first..through within one month; stored as the unit's roster of "
                "that month, replacing the version named in replaces (409 roster_changed: another version "
                "is stored, or one exists and replaces is missing; nothing written). Supervisors: their own "
                "staff only, and never over a roster holding others' staff (403 not_your_staff). On a WFO "
                "day check-in takes the offices (not home), on a WFH day the home site (not the offices; "
                "none registered: the offices, reason roster_no_home_site); pings expect the home on a WFH "
                "day. Each member and their supervisor are told once per version.")
def publish_roster(call: Call[s.RosterPublishRequest, None]) -> s.RosterOut:
    return rosters.publish(get_services(), call.body, call.caller)


@endpoint(api, "GET", "/admin/rosters", summary="A unit's published WFO/WFH roster of a month",
          roles=SITE_MANAGERS, query=s.RosterQuery, response=s.RosterOut,
          errors={Kind.NOT_FOUND: ("unit_not_found", "roster_not_found"),
                  Kind.INVALID: ("invalid_roster", "invalid_month")},
          notes="Supervisors: a unit with staff of theirs, and only their own staff's rows.")
def list_roster(call: Call[None, s.RosterQuery]) -> s.RosterOut:
    return rosters.published(get_services(), call.query, call.caller)


@endpoint(api, "GET", "/me/roster", summary="The caller's days of their unit's published roster of a month",
          roles=SIGNED_IN, needs_nip=True, query=s.MyRosterQuery, response=s.MyRosterOut,
          errors={**NOT_FOUND_EMPLOYEE, Kind.INVALID: ("invalid_month",)},
          notes="No roster published for the caller's unit that month: roster_id null and no days.")
def my_roster(call: Call[None, s.MyRosterQuery]) -> s.MyRosterOut:
    return rosters.my_roster(get_services(), call.nip, call.query.month)


@endpoint(api, "GET", "/audit/recaps", summary="Presigned downloads of a month's recap runs",
          roles=AUDITOR, query=s.RecapMonthQuery, response=s.RecapList,
          errors={Kind.NOT_FOUND: ("recap_not_found",), Kind.INVALID: ("invalid_month",)})
def audit_recaps(call: Call[None, s.RecapMonthQuery]) -> s.RecapList:
    return recap.recaps(get_services(), call.query.month)


REQUEST_NOT_FOUND = {Kind.NOT_FOUND: ("request_not_found",)}
REQUEST_TYPES_NOTE = ("excuse (sick, important_reason) for a past absence -> excused; leave (annual, sick, "
                      "important_reason, maternity, big, unpaid) -> on_leave; official_travel (dinas luar, "
                      "with a destination geofence) -> official_travel and an assignment site (DL) for its "
                      "dates; wfh (the registered home site) and leave_region: no day status of their own.")


@endpoint(api, "POST", "/me/requests", summary="Ask for leave, an excuse, dinas luar, WFH or leaving the region",
          roles=EMPLOYEE, needs_nip=True, body=s.RequestIn, response=s.RequestOut, created=True,
          errors={**NOT_FOUND_EMPLOYEE,
                  Kind.CONFLICT: ("overlapping_request", "no_home_site", "request_exists", "concurrent_update"),
                  Kind.INVALID: ("invalid_request_type", "invalid_request_dates", "retroactive_limit",
                                 "future_limit", "insufficient_leave_balance", "destination_required",
                                 "invalid_geofence", "invalid_request")},
          notes=REQUEST_TYPES_NOTE + " Dates are office-local and inclusive; excuses and leave may start "
                "HADIR_REQUEST_RETROACTIVE_DAYS back (14), WFH and leave_region not before today.")
def submit_request(call: Call[s.RequestIn, None]) -> s.RequestOut:
    return requests.submit(get_services(), call.nip, call.body)


@endpoint(api, "GET", "/me/requests", summary="The caller's requests and annual-leave balance",
          roles=EMPLOYEE, needs_nip=True, query=s.MyRequestsQuery, response=s.MyRequests,
          errors={**NOT_FOUND_EMPLOYEE, Kind.INVALID: ("invalid_date",)})
def my_requests(call: Call[None, s.MyRequestsQuery]) -> s.MyRequests:
    return requests.mine(get_services(), call.nip, call.query)


@endpoint(api, "DELETE", "/me/requests/{request_id}", summary="Cancel the caller's pending request",
          roles=EMPLOYEE, needs_nip=True, response=s.RequestOut,
          errors={**REQUEST_NOT_FOUND, Kind.CONFLICT: ("request_not_pending",)})
def cancel_request(call: Call[None, None]) -> s.RequestOut:
    return requests.cancel(get_services(), call.nip, call.params["request_id"])


@endpoint(api, "POST", "/me/requests/{request_id}/attachment", summary="A presigned upload for the "
          "document of the caller's pending request (PDF, JPEG or PNG)",
          roles=EMPLOYEE, needs_nip=True, body=s.AttachmentIn, response=s.AttachmentUploadOut, created=True,
          errors={**REQUEST_NOT_FOUND, Kind.CONFLICT: ("request_not_pending",),
                  Kind.INVALID: ("unsupported_attachment",)},
          notes="POST the file to upload.url with upload.fields (Content-Type among them), at most "
                "HADIR_ATTACHMENT_MAX_BYTES (2 MB), before expires_at; then PUT the upload_id.")
def prepare_attachment(call: Call[s.AttachmentIn, None]) -> s.AttachmentUploadOut:
    return requests.prepare_attachment(get_services(), call.nip, call.params["request_id"], call.body)


@endpoint(api, "PUT", "/me/requests/{request_id}/attachment", summary="Attach the uploaded document to "
          "the caller's pending request (audited)",
          roles=EMPLOYEE, needs_nip=True, body=s.AttachmentConfirmIn, response=s.RequestOut,
          errors={**REQUEST_NOT_FOUND, Kind.CONFLICT: ("request_not_pending",),
                  Kind.INVALID: ("invalid_upload_id", "attachment_missing", "nonce_mismatch"),
                  Kind.TOO_LARGE: ("attachment_too_large",), Kind.UNSUPPORTED: ("unsupported_attachment",)},
          notes="The type is read from the file's first bytes (%PDF-, JPEG FF D8 FF, the PNG signature) "
                "and must be the one declared: a renamed file is unsupported_attachment. Attaching "
                "again replaces the document; the request's decider sees it as a short-lived link.")
def attach_document(call: Call[s.AttachmentConfirmIn, None]) -> s.RequestOut:
    return requests.attach(get_services(), call.nip, call.params["request_id"], call.body)


@endpoint(api, "GET", "/team/requests", summary="Requests of the supervisor's own staff (admins: everyone's)",
          roles=SITE_MANAGERS, query=s.TeamRequestsQuery, response=s.TeamRequests,
          errors={Kind.INVALID: ("invalid_status", "invalid_date", "invalid_range")},
          notes="With HADIR_REQUEST_APPROVAL_LEVELS=2 a supervisor also sees their staff's staff's "
                "requests (the second level is theirs). Pending requests are all listed; decided ones "
                "only when they overlap from..to (default today - 31 days .. today + 92 days, at most "
                "366 days): an admin's list is one index range per status, not every request ever.")
def team_requests(call: Call[None, s.TeamRequestsQuery]) -> s.TeamRequests:
    return requests.team(get_services(), call.caller, call.query)


@endpoint(api, "POST", "/team/requests/{request_id}", summary="Approve or reject a request (audited)",
          roles=SITE_MANAGERS, body=s.DecisionIn, response=s.RequestOut,
          errors={Kind.NOT_FOUND: ("request_not_found", "employee_not_found"),
                  Kind.FORBIDDEN: ("not_your_staff", "own_request", "second_level_required"),
                  Kind.CONFLICT: ("request_not_pending", "site_exists", "concurrent_update"),
                  Kind.INVALID: ("invalid_decision",)},
          notes="Level 1: the employee's direct supervisor; with HADIR_REQUEST_APPROVAL_LEVELS=2, level 2: "
                "the supervisor's own supervisor; admins decide any level; nobody their own request nor "
                "two levels of one. The employee is told every decision.")
def decide_request(call: Call[s.DecisionIn, None]) -> s.RequestOut:
    return requests.decide(get_services(), call.params["request_id"], call.body, call.caller)
@endpoint(api, "GET", "/audit/log", summary="The audit log: every privileged action, oldest first",
          roles=AUDITOR, query=s.AuditLogQuery, response=s.AuditLog,
          errors={Kind.INVALID: ("invalid_date", "invalid_range", "invalid_cursor", "invalid_limit",
                                 "invalid_subject", "invalid_actor")},
          notes="from/to are UTC dates (inclusive, at most 31 days; default today). Follow "
                "next_cursor until it is null; entries appended meanwhile come at the end.")
def audit_log(call: Call[None, s.AuditLogQuery]) -> s.AuditLog:
    return audit.audit_log(get_services(), call.query)


def _device_id(call: Call) -> str | None:
    """The app's ``X-Device-Id`` (a random id it keeps), if sent."""
    raw = call.headers.get("x-device-id")
    if raw is not None and not DEVICE_ID.match(raw):
        raise Malformed("X-Device-Id must be 8-128 letters, digits, '.', '_', ':' or '-'",
                        code="invalid_device_id")
    return raw


# --- whereabouts (services/pings.py, services/team_now.py) -------------------------------------
@endpoint(api, "GET", "/admin/config/region", summary="The agency's region watched during working hours",
          roles=ADMIN, response=w.RegionConfig,
          notes="version null: nothing stored, no region is watched (only homes on WFH days).")
def get_region_config(call: Call[None, None]) -> w.RegionConfig:
    return agency_config.get_region(get_services())


@endpoint(api, "PUT", "/admin/config/region", summary="Set the agency's region: a GeoJSON Polygon or "
          "MultiPolygon (audited)", roles=ADMIN, body=w.RegionPut, response=w.RegionConfig,
          errors={Kind.INVALID: ("invalid_region",), Kind.CONFLICT: ("config_changed",)},
          notes="Send the version you read (null to create the first). Every problem is listed in "
                "details.problems (422 invalid_region); boundary null stops watching.")
def put_region_config(call: Call[w.RegionPut, None]) -> w.RegionConfig:
    return agency_config.put_region(get_services(), call.body, actor=call.caller.username)


@endpoint(api, "POST", "/me/pings", summary="Report where the caller is, during working hours only",
          roles=EMPLOYEE, needs_nip=True, body=w.PingRequest, response=w.PingOut, created=True,
          errors={**NOT_FOUND_EMPLOYEE,
                  Kind.CONFLICT: ("outside_working_hours", "report_not_working_day", "on_approved_leave", "no_office"),
                  Kind.TOO_MANY_ATTEMPTS: ("ping_too_soon",), Kind.MALFORMED: ("invalid_device_id",),
                  Kind.INVALID: ("invalid_coordinates", "invalid_accuracy", "invalid_captured_at",
                                 "invalid_is_mock")},
          headers=DEVICE_HEADER,
          notes="Refused (409, nothing stored) outside today's working hours of the caller's effective "
                "schedule, on a day off and on approved leave. At most one per HADIR_PING_MIN_INTERVAL_S "
                "(429 ping_too_soon, Retry-After); kept HADIR_PING_RETENTION_DAYS. Outside the region (or, "
                "on an approved WFH day, away from the home site) without an approved leave_region or "
                "official_travel: an episode opens and the supervisor is alerted once. The check-in's spoof "
                "signals are the ping's reasons (mock_location, implausible accuracy, impossible travel, "
                "new_device against the bound device).")
def create_ping(call: Call[w.PingRequest, None]) -> w.PingOut:
    return pings.ping(get_services(), call.nip, call.body, device_id=_device_id(call))


@endpoint(api, "GET", "/team/episodes", summary="Out-of-region (or away-from-home) episodes with their pings",
          roles=SITE_MANAGERS, query=w.EpisodeQuery, response=w.EpisodeList,
          errors={Kind.INVALID: ("invalid_date",)},
          notes="The episodes opened on the date (office-local; default today): a supervisor's own "
                "staff's, an admin's everyone's. Each carries its pings while they are kept.")
def team_episodes(call: Call[None, w.EpisodeQuery]) -> w.EpisodeList:
    return team_now.episodes(get_services(), call.caller, call.query)


@endpoint(api, "GET", "/team/now", summary="Who is where, now: each staff member's state and whether online",
          roles=SITE_MANAGERS, query=w.NowQuery, response=w.TeamNow,
          errors={Kind.INVALID: ("invalid_unit", "unit_required")},
          notes="A supervisor's own staff; an admin's one unit's (?unit=, required: unit_required). Online: a ping or "
                "check-in within HADIR_ONLINE_MINUTES. Every state carries its reasons.")
def team_whereabouts_now(call: Call[None, w.NowQuery]) -> w.TeamNow:
    return team_now.now(get_services(), call.caller, call.query)


# --- tasks and daily work reports (issue 15; services/work.py) -------------------------------------
WORK_UPLOAD_ERRORS = {Kind.INVALID: ("invalid_upload_id", "attachment_missing", "nonce_mismatch"),
                      Kind.TOO_LARGE: ("attachment_too_large",), Kind.UNSUPPORTED: ("unsupported_attachment",)}
TASK_STATE = {Kind.CONFLICT: ("task_transition_invalid",)}
WORK_TYPES_NOTE = ("Attachments: PDF, JPEG, PNG, Word, Excel, PowerPoint (docx/xlsx/pptx, doc/xls) of at most "
                   "HADIR_WORK_ATTACHMENT_MAX_BYTES (5 MB), typed by their first bytes (%PDF-, JPEG, PNG, "
                   "ZIP for Office Open XML, OLE2 for doc/xls); read back as short-lived links.")


@endpoint(api, "POST", "/team/tasks/uploads", summary="A presigned upload for a task's attachment",
          roles=SITE_MANAGERS, body=ws.WorkUploadIn, response=ws.WorkUploadOut, created=True,
          errors={Kind.INVALID: ("unsupported_attachment",)}, notes=WORK_TYPES_NOTE)
def prepare_task_upload(call: Call[ws.WorkUploadIn, None]) -> ws.WorkUploadOut:
    return work.prepare_task_upload(get_services(), call.caller, call.body)


@endpoint(api, "POST", "/team/tasks", summary="Assign a task to one or several of the caller's own staff "
          "(one task each, audited, each told)",
          roles=SITE_MANAGERS, body=ws.TaskIn, response=ws.TaskList, created=True,
          errors={Kind.NOT_FOUND: ("employee_not_found",), Kind.FORBIDDEN: ("not_your_staff", "own_task"),
                  Kind.CONFLICT: ("concurrent_update",),
                  Kind.INVALID: ("invalid_task", *WORK_UPLOAD_ERRORS[Kind.INVALID]),
                  Kind.TOO_LARGE: WORK_UPLOAD_ERRORS[Kind.TOO_LARGE],
                  Kind.UNSUPPORTED: WORK_UPLOAD_ERRORS[Kind.UNSUPPORTED]},
          notes="Supervisors assign to their own staff only (admins to anyone); due today or later "
                "(office-local). " + WORK_TYPES_NOTE)
def assign_task(call: Call[ws.TaskIn, None]) -> ws.TaskList:
    return work.assign(get_services(), call.caller, call.body)


@endpoint(api, "GET", "/team/tasks", summary="Tasks of the supervisor's own staff (admins: everyone's)",
          roles=SITE_MANAGERS, query=ws.TeamTasksQuery, response=ws.TaskList,
          errors={Kind.INVALID: ("invalid_date", "invalid_range", "invalid_status")},
          notes="By due date, from..to at most 184 days (default: the last 31 days and the next 61).")
def team_tasks(call: Call[None, ws.TeamTasksQuery]) -> ws.TaskList:
    return work.team_tasks(get_services(), call.caller, call.query)


@endpoint(api, "POST", "/team/tasks/{nip}/{task_id}", summary="Accept a submitted task or return it with "
          "a comment (audited; the employee is told)",
          roles=SITE_MANAGERS, body=ws.WorkDecisionIn, response=ws.TaskOut,
          errors={Kind.NOT_FOUND: ("employee_not_found", "task_not_found"),
                  Kind.FORBIDDEN: ("not_your_staff", "own_task"), **TASK_STATE,
                  Kind.INVALID: ("invalid_decision", "comment_required")})
def decide_task(call: Call[ws.WorkDecisionIn, None]) -> ws.TaskOut:
    return work.decide_task(get_services(), call.caller, call.params["nip"], call.params["task_id"], call.body)


@endpoint(api, "GET", "/me/tasks", summary="The caller's tasks", roles=EMPLOYEE, needs_nip=True,
          response=ws.TaskList)
def my_tasks(call: Call[None, None]) -> ws.TaskList:
    return work.my_tasks(get_services(), call.nip)


@endpoint(api, "POST", "/me/tasks/{task_id}/submit", summary="Hand in the caller's open or returned task "
          "(audited)", roles=EMPLOYEE, needs_nip=True, body=ws.TaskSubmitIn, response=ws.TaskOut,
          errors={Kind.NOT_FOUND: ("task_not_found",), **TASK_STATE, Kind.INVALID: ("invalid_task",)})
def submit_task(call: Call[ws.TaskSubmitIn, None]) -> ws.TaskOut:
    return work.submit_task(get_services(), call.nip, call.params["task_id"], call.body)


REPORT_WINDOW = ("invalid_date", "report_in_future", "report_not_working_day")
REPORT_NOTE = ("A report of day D is written on a working day of the employee (their schedule), not "
               "ahead of it, until HADIR_REPORT_CUTOFF after D in the office's time zone (default '+1 09:00': "
               "the next morning at 09:00), then report_window_closed; it is rewritten while submitted or "
               "returned, never once accepted (report_accepted).")


@endpoint(api, "POST", "/me/reports/{date}/uploads", summary="A presigned upload for an attachment of the "
          "caller's daily work report", roles=EMPLOYEE, needs_nip=True, body=ws.WorkUploadIn,
          response=ws.WorkUploadOut, created=True,
          errors={**NOT_FOUND_EMPLOYEE, Kind.INVALID: (*REPORT_WINDOW, "unsupported_attachment"),
                  Kind.CONFLICT: ("report_window_closed", "report_accepted")},
          notes=REPORT_NOTE + " " + WORK_TYPES_NOTE)
def prepare_report_upload(call: Call[ws.WorkUploadIn, None]) -> ws.WorkUploadOut:
    return work.prepare_report_upload(get_services(), call.nip, call.params["date"], call.body)


@endpoint(api, "PUT", "/me/reports/{date}", summary="Write the caller's daily work report (laporan kinerja "
          "harian) of a date (audited)", roles=EMPLOYEE, needs_nip=True, body=ws.ReportIn, response=ws.ReportOut,
          errors={**NOT_FOUND_EMPLOYEE,
                  Kind.INVALID: (*REPORT_WINDOW, "invalid_report", "unknown_task",
                                 *WORK_UPLOAD_ERRORS[Kind.INVALID]),
                  Kind.CONFLICT: ("report_window_closed", "report_accepted", "report_changed"),
                  Kind.TOO_LARGE: WORK_UPLOAD_ERRORS[Kind.TOO_LARGE],
                  Kind.UNSUPPORTED: WORK_UPLOAD_ERRORS[Kind.UNSUPPORTED]},
          notes=REPORT_NOTE + " attachments lists what the report keeps: new upload ids are checked and kept, "
                "an attachment id left out is dropped. " + WORK_TYPES_NOTE)
def put_report(call: Call[ws.ReportIn, None]) -> ws.ReportOut:
    return work.put_report(get_services(), call.nip, call.params["date"], call.body)


@endpoint(api, "GET", "/me/reports", summary="The caller's daily work reports",
          roles=EMPLOYEE, needs_nip=True, query=ws.MyReportsQuery, response=ws.ReportList,
          errors={**NOT_FOUND_EMPLOYEE, Kind.INVALID: ("invalid_date", "invalid_range")})
def my_reports(call: Call[None, ws.MyReportsQuery]) -> ws.ReportList:
    return work.my_reports(get_services(), call.nip, call.query)


@endpoint(api, "GET", "/team/reports", summary="Daily work reports of a date: the supervisor's chain's "
          "(admins: everyone's)", roles=SITE_MANAGERS, query=ws.TeamReportsQuery, response=ws.TeamReports,
          errors={Kind.INVALID: ("invalid_date",)},
          notes="A supervisor sees their staff's and their staff's staff's reports (they decide their "
                "direct staff's).")
def team_reports(call: Call[None, ws.TeamReportsQuery]) -> ws.TeamReports:
    return work.team_reports(get_services(), call.caller, call.query)


@endpoint(api, "POST", "/team/reports/{nip}/{date}", summary="Accept a submitted daily work report or "
          "return it with a comment (audited; the employee is told)",
          roles=SITE_MANAGERS, body=ws.WorkDecisionIn, response=ws.ReportOut,
          errors={Kind.NOT_FOUND: ("employee_not_found", "report_not_found"),
                  Kind.FORBIDDEN: ("not_your_staff", "own_report"),
                  Kind.CONFLICT: ("report_not_submitted", "report_changed"),
                  Kind.INVALID: ("invalid_date", "invalid_decision", "comment_required")})
def decide_report(call: Call[ws.WorkDecisionIn, None]) -> ws.ReportOut:
    return work.decide_report(get_services(), call.caller, call.params["nip"], call.params["date"], call.body)


@endpoint(api, "GET", "/audit/reports", summary="An employee's daily work reports over a period (auditors)",
          roles=AUDITOR, query=ws.AuditReportsQuery, response=ws.ReportList,
          errors={Kind.INVALID: ("invalid_subject", "invalid_date", "invalid_range")})
def audit_reports(call: Call[None, ws.AuditReportsQuery]) -> ws.ReportList:
    return work.audit_reports(get_services(), call.query)


openapi.register(api)  # GET /openapi.json, the contract (built on first request)
