"""HTTP routes as a Chalice Blueprint: parse, authorise, call one service function, return."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.adapters import auth
from chalicelib.common.errors import Forbidden
from chalicelib.common.http import status_of, handle_errors, json_body, json_response, require_object
from chalicelib.services import admin, checkin, enrolment, get_services, queries, sites

api = Blueprint(__name__)

EMPLOYEE = ("employee",)
ADMIN = ("admin",)
SUPERVISOR = ("supervisor",)
AUDITOR = ("auditor", "admin")
SITE_MANAGERS = ("admin", "supervisor")  # supervisors: their own staff only (checked by the service)


def _request():
    return api.current_request


def _caller(roles):
    return auth.principal_from_headers(_request().headers, roles)


def _nip(principal: auth.Principal) -> str:
    if not principal.nip:
        raise Forbidden("This account has no NIP", code="no_nip")
    return principal.nip


@api.route("/auth/login", methods=["POST"])
@handle_errors
def login():
    body = require_object(json_body(_request()), "username", "password")
    return auth.login(str(body["username"]), str(body["password"]))


@api.route("/admin/offices", methods=["POST"])
@handle_errors
def create_office():
    _caller(ADMIN)
    return json_response(admin.create_office(get_services(), json_body(_request())), 201)


@api.route("/admin/employees", methods=["POST"], content_types=["application/json", "text/csv"])
@handle_errors
def import_employees():
    _caller(ADMIN)
    req = _request()
    ctype = (req.headers.get("content-type") or "application/json").lower()
    body = None if ctype.startswith("text/csv") else json_body(req)
    rows = admin.parse_employee_rows(req.raw_body or b"", ctype, body)
    status, result = admin.import_employees(get_services(), rows)
    return json_response(result, status)


@api.route("/admin/employees/{nip}/enrollment", methods=["DELETE"])
@handle_errors
def reset_enrollment(nip):
    caller = _caller(ADMIN)
    reason = (_request().query_params or {}).get("reason")
    return admin.reset_enrolment(get_services(), nip, actor=caller.username, reason=reason)


@api.route("/admin/employees/{nip}/sites", methods=["POST"])
@handle_errors
def assign_site(nip):
    caller = _caller(SITE_MANAGERS)
    return json_response(sites.assign(get_services(), nip, json_body(_request()), caller), 201)


@api.route("/admin/employees/{nip}/sites", methods=["GET"])
@handle_errors
def employee_sites(nip):
    return sites.list_for(get_services(), nip, _caller(SITE_MANAGERS))


@api.route("/admin/employees/{nip}/sites/{site_id}", methods=["DELETE"])
@handle_errors
def remove_site(nip, site_id):
    return sites.remove(get_services(), nip, site_id, _caller(SITE_MANAGERS))


@api.route("/me/enrollment/uploads", methods=["POST"])
@handle_errors
def enrollment_uploads():
    nip = _nip(_caller(EMPLOYEE))
    return json_response(enrolment.open_uploads(get_services(), nip), 201)


@api.route("/me/enrollment", methods=["POST"])
@handle_errors
def enroll():
    nip = _nip(_caller(EMPLOYEE))
    body = require_object(json_body(_request()), "session_id")
    return json_response(enrolment.enrol(get_services(), nip, body["session_id"], body.get("consent")), 201)


@api.route("/checkins/uploads", methods=["POST"])
@handle_errors
def checkin_uploads():
    nip = _nip(_caller(EMPLOYEE))
    return json_response(checkin.open_uploads(get_services(), nip), 201)


@api.route("/checkins", methods=["POST"])
@handle_errors
def create_checkin():
    nip = _nip(_caller(EMPLOYEE))
    req = _request()
    result = checkin.check_in(get_services(), nip, json_body(req), req.headers.get("idempotency-key"),
                              lambda_context=getattr(api, "lambda_context", None))
    timing = ", ".join(f"{k};dur={v}" for k, v in result.get("timings_ms", {}).items())
    status = status_of(result["error"]) if result.get("error") else result["status"]
    return Response(result["body"], status_code=status,
                    headers={"Content-Type": "application/json", "Server-Timing": timing})


@api.route("/me", methods=["GET"])
@handle_errors
def me():
    caller = _caller(None)
    return queries.me(get_services(), _nip(caller), caller.groups)


@api.route("/me/attendance", methods=["GET"])
@handle_errors
def my_attendance():
    nip = _nip(_caller(None))
    q = _request().query_params or {}
    return queries.my_attendance(get_services(), nip, q.get("from"), q.get("to"))


@api.route("/team/attendance", methods=["GET"])
@handle_errors
def team_attendance():
    nip = _nip(_caller(SUPERVISOR))
    return queries.team_attendance(get_services(), nip, (_request().query_params or {}).get("date"))


@api.route("/audit/exports", methods=["GET"])
@handle_errors
def audit_exports():
    _caller(AUDITOR)
    return queries.exports(get_services(), (_request().query_params or {}).get("date"))
