"""The typed inputs and outputs of the use cases, which are also the API's request and response
bodies (``docs/openapi.json`` is generated from them).

Requests are strict (JSON types as declared: no "7.5" for a number, no 1 for a string) and ignore
unknown fields. Domain values are parsed by the pure packages inside the models (a position by
``geo.parse_position``, a geofence by ``geo.parse_geofence``, an office's hours by
``policy.OfficeRules``), so their error codes and problem lists reach the client unchanged. For
other fields, ``error_codes`` names the error code of a request whose first invalid field is that
field (``chalicelib.common.http.invalid_input``).
"""

import datetime as dt
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chalicelib.common.errors import InvalidInput, JsonObject
from chalicelib.geo import Position, geofence_to_dict, parse_geofence, parse_position
from chalicelib.services.records import FaceEvidence, GeoEvidence, PositionEvidence
from chalicelib.policy.echelon import InvalidEchelon
from chalicelib.policy.echelon import canonical as echelon_canonical
from chalicelib.policy.login import username_problem
from chalicelib.policy.schedule import PROVINCES
from chalicelib.policy.time_rules import OfficeRules

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
_ID = re.compile(ID_PATTERN)
ROLES = ("employee", "supervisor", "admin", "auditor")
PERSONAL_KINDS = ("home", "assignment", "anywhere")

_CIRCLE = {"type": "object", "required": ["type", "lat", "lon", "radius_m"], "properties": {
    "type": {"const": "circle"}, "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "lon": {"type": "number", "minimum": -180, "maximum": 180},
    "radius_m": {"type": "number", "minimum": 1, "maximum": 50000}}}
_POLYGON = {"type": "object", "required": ["type", "coordinates"], "description":
            "GeoJSON Polygon: rings of [lon, lat], closed, at most 1 degree across",
            "properties": {"type": {"const": "Polygon"}, "coordinates": {
                "type": "array", "items": {"type": "array", "items": {
                    "type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}}}}}
_POSITION = {"type": "object", "required": ["lat", "lon", "accuracy_m", "captured_at"],
             "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                            "lon": {"type": "number", "minimum": -180, "maximum": 180},
                            "accuracy_m": {"type": "number", "minimum": 0, "maximum": 40075000,
                                           "description": "accuracy radius in metres"},
                            "captured_at": {"type": "string", "format": "date-time",
                                            "description": "ISO 8601 with a UTC offset"},
                            "is_mock": {"type": "boolean", "default": False}}}

# Dates and instants a request may name: far-off years are typos or probes, and would overflow the
# date arithmetic (9999-12-31 plus a day); a query's dates are refused as invalid_date.
MIN_DATE, MAX_DATE = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
Day = Annotated[dt.date, Field(ge=MIN_DATE, le=MAX_DATE), WithJsonSchema(
    {"type": "string", "format": "date", "description": "YYYY-MM-DD, 2000-01-01 to 2100-12-31"})]


def _sensible_instant(v: dt.datetime) -> dt.datetime:
    if not MIN_DATE <= v.date() <= MAX_DATE:
        raise ValueError(f"the date must be between {MIN_DATE} and {MAX_DATE}")
    return v


Instant = Annotated[AwareDatetime, AfterValidator(_sensible_instant)]

Geofence = Annotated[JsonObject, AfterValidator(lambda v: geofence_to_dict(parse_geofence(v))),
                     WithJsonSchema({"oneOf": [_CIRCLE, _POLYGON]})]
GeofenceOut = Annotated[JsonObject, WithJsonSchema({"oneOf": [_CIRCLE, _POLYGON]})]
Location = Annotated[Position, BeforeValidator(parse_position), WithJsonSchema(_POSITION)]
Reason = Annotated[JsonObject, WithJsonSchema({
    "type": "object", "required": ["code"], "description": "a rule that applied, with its numbers",
    "properties": {"code": {"type": "string"}, "effect": {"enum": ["reject", "flag", "info"]}},
    "additionalProperties": True})]


# defer_build: a model's validator is built on first use, not at import (a cold start only pays
# for the models its first request needs).
class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, defer_build=True)
    error_codes: ClassVar[dict[str, str]] = {}


class Query(BaseModel):
    """Query strings: every value arrives as a string and is parsed (lax)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, defer_build=True)
    error_codes: ClassVar[dict[str, str]] = {}


class Response(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class ErrorBody(Response):
    code: str
    message: str
    details: JsonObject = Field(default_factory=dict)


class Error(Response):
    """The error envelope of every 4xx and 5xx response."""

    error: ErrorBody


# --- auth -------------------------------------------------------------------------------------
class LoginRequest(Request):
    error_codes: ClassVar[dict[str, str]] = {"username": "invalid_username"}
    username: str = Field(min_length=1, max_length=128,
                          description="the NIP (or an admin's name); trimmed, no inner spaces or control characters")
    password: str = Field(min_length=1, max_length=256)

    @field_validator("username")
    @classmethod
    def _username(cls, v: str) -> str:
        if problem := username_problem(v):
            raise PydanticCustomError(problem, "the username is {problem}", {"problem": problem.replace("_", " ")})
        return v.strip()


class RefreshRequest(Request):
    refresh_token: str = Field(min_length=1, max_length=8192, pattern=r"^[\x21-\x7e]+$",
                               description="the refresh token /auth/login gave (printable ASCII)")


class Tokens(Response):
    id_token: str
    access_token: str
    refresh_token: str | None = None
    expires_in: int


# --- offices ----------------------------------------------------------------------------------
def _window(v: Any) -> Any:
    """``"06:00-10:00"`` or ``["06:00", "10:00"]``."""
    if isinstance(v, str) and "-" in v:
        return tuple(v.split("-"))
    return tuple(v) if isinstance(v, list) else v


Window = Annotated[tuple[str, str], BeforeValidator(_window), WithJsonSchema({
    "oneOf": [{"type": "string", "pattern": r"^\d\d:\d\d-\d\d:\d\d$", "examples": ["06:00-10:00"]},
              {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}]})]


class OfficeRequest(Request):
    office_id: str = Field(pattern=ID_PATTERN, description="lowercase letters, digits and '-'")
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(max_length=64, description="IANA zone: Asia/Jakarta (WIB), Asia/Makassar (WITA), "
                                      "Asia/Jayapura (WIT)")
    geofence: Geofence
    checkin_window: Window | None = None
    work_start: str | None = Field(default=None, max_length=16)
    work_end: str | None = Field(default=None, max_length=16)
    checkout_window: Window | None = None
    province: str | None = Field(default=None, description="two-digit BPS province code (\"51\" Bali): its "
                                 "regional holidays are not working days for the office's staff")
    error_codes: ClassVar[dict[str, str]] = {
        "office_id": "invalid_office", "name": "invalid_office", "geofence": "invalid_geofence",
        "province": "invalid_office",
        "timezone": "invalid_time_rules", "checkin_window": "invalid_time_rules",
        "work_start": "invalid_time_rules", "work_end": "invalid_time_rules",
        "checkout_window": "invalid_time_rules"}

    @model_validator(mode="after")
    def _blank_name(self) -> "OfficeRequest":
        if not self.name.strip():
            raise InvalidInput("The office is not valid", code="invalid_office", details={
                "problems": [{"field": "name", "code": "required", "message": "name is blank"}]})
        if self.province is not None and self.province not in PROVINCES:
            raise InvalidInput("The office is not valid", code="invalid_office", details={
                "problems": [{"field": "province", "code": "unknown_province",
                              "message": "not a two-digit BPS province code", "value": self.province[:8]}]})
        return self

    def rules(self) -> OfficeRules:
        """The office's time rules (InvalidInput ``invalid_time_rules`` with every problem)."""
        given = {k: getattr(self, k) for k in ("checkin_window", "work_start", "work_end",
                                               "checkout_window") if getattr(self, k) is not None}
        return OfficeRules.from_dict({"timezone": self.timezone, **given})


class OfficeOut(Response):
    office_id: str
    name: str
    timezone: str
    geofence: GeofenceOut
    rules: JsonObject
    work_mode: str = "WFO"
    province: str | None = None


# --- employees --------------------------------------------------------------------------------
class EmployeeRow(Request):
    """One row of an import (JSON, or a Simpeg CSV row with its Indonesian headers mapped)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, str_strip_whitespace=True,
                              defer_build=True)
    nip: str = Field(max_length=32, description="18-digit NIP (checked: birth date, appointment, sex digit)")
    name: str = Field(default="", max_length=200)
    unit: str | None = Field(default=None, max_length=200)
    group: str | None = Field(default=None, max_length=200, description="employee group (e.g. guru): "
                              "schedules may apply to it (CSV column group or kelompok)")
    echelon: str | int | None = Field(default=None, description="structural level (eselon) I..V with an "
                                      "optional grade a/b: 'II.a', 'IIIb', '4' (CSV column eselon); stored "
                                      "as 'II.a': the roster's top-two-levels rule compares its level")
    office_ids: list[str] = Field(default_factory=list, max_length=20)
    supervisor_nip: str | None = Field(default=None, max_length=32)
    roles: list[Literal["employee", "supervisor", "admin", "auditor"]] = Field(
        default_factory=lambda: ["employee"], max_length=4)
    email: str | None = Field(default=None, max_length=254)
    password: str | None = Field(default=None, min_length=8, max_length=256)

    @field_validator("echelon")
    @classmethod
    def _echelon(cls, v: str | int | None) -> str | None:
        try:
            return echelon_canonical(v)
        except InvalidEchelon:
            raise PydanticCustomError("invalid_echelon", "eselon I..V with an optional grade a/b, e.g. II.a") from None


class EmployeeRows(RootModel[list[EmployeeRow]]):
    """``application/json``: a list of rows; ``text/csv``: a Simpeg export (``,`` or ``;``)."""


class ImportRow(Response):
    row: int
    nip: Any = None
    ok: bool
    error: ErrorBody | None = Field(default=None, exclude_if=lambda v: v is None)


class ImportResult(Response):
    created: int
    failed: int
    rows: list[ImportRow]


IMPORT_TYPES = ("text/csv", "application/json")
IMPORT_STATES = ("uploaded", "queued", "running", "done", "failed")


class ImportIn(Request):
    error_codes: ClassVar[dict[str, str]] = {"content_type": "unsupported_import"}
    content_type: Literal["text/csv", "application/json"] = Field(
        default="text/csv", description="a Simpeg CSV (UTF-8, ',' or ';') or a JSON list of rows")


class ImportCreated(Response):
    import_id: str
    state: Literal["uploaded", "queued", "running", "done", "failed"]
    upload: "UploadTarget" = Field(description="a presigned POST: send fields (Content-Type among them) "
                                             "and the file; then POST .../start")
    content_type: str
    max_bytes: int
    expires_at: str = Field(description="when the presigned POST expires (UTC)")


class ImportRowsQuery(Query):
    after: int = Field(default=0, ge=0, le=10 ** 9, description="rows after this row number")
    limit: int = Field(default=100, ge=1, le=1000)


class ImportStatus(Response):
    import_id: str
    state: Literal["uploaded", "queued", "running", "done", "failed"]
    created_by: str
    created_at: str
    updated_at: str
    total: int | None = Field(description="the file's rows, once planned (null before)")
    done: int = Field(description="rows saved")
    failed: int = Field(description="rows refused, each with its problems")
    error: ErrorBody | None = Field(default=None, description="why the whole file failed (state failed)")
    rows: list[ImportRow] = Field(description="per-row results after ?after=, in row order")
    next_after: int | None = Field(description="pass as ?after= for the next page (null: no more)")


class ResetQuery(Query):
    reason: str | None = Field(default=None, max_length=500)


class EnrolmentReset(Response):
    nip: str
    status: Literal["not_enrolled"] = "not_enrolled"
    reset_by: str


class TemplateVersionCount(Response):
    model_version: str
    count: int
    current: bool = Field(description="the engine's model version")
    loadable: bool = Field(description="a previous version the engine can still load: its employees may "
                                       "re-enrol themselves")
    nips: list[str] = Field(description="the employees still on this version (empty for the current one)")


class OutdatedEnrolments(Response):
    """Who still needs a previous face model (docs/deploy.md, "Upgrading the face model")."""

    engine_model_version: str
    previous_model_versions: list[str] = Field(description="configured by HADIR_FACE_PREVIOUS_CALIBRATIONS")
    enrolled: int
    outdated: int = Field(description="templates of another version than the engine's: 0 = the previous "
                                      "models can be dropped")
    versions: list[TemplateVersionCount]


# --- personal sites ---------------------------------------------------------------------------
class SiteRequest(Request):
    site_id: str = Field(pattern=ID_PATTERN, description="lowercase letters, digits and '-'")
    kind: Literal["home", "assignment", "anywhere"] = Field(
        description="home = WFH, assignment = dinas luar (DL), anywhere = WFA")
    geofence: Geofence
    valid_from: Day | None = Field(default=None, description="office-local, inclusive")
    valid_to: Day | None = Field(default=None, description="office-local, inclusive")
    note: str | None = Field(default=None, max_length=500)
    error_codes: ClassVar[dict[str, str]] = {
        "site_id": "invalid_site", "note": "invalid_site", "kind": "invalid_site_kind",
        "geofence": "invalid_geofence", "valid_from": "invalid_validity", "valid_to": "invalid_validity"}

    @model_validator(mode="after")
    def _validity(self) -> "SiteRequest":
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise InvalidInput("valid_to is before valid_from", code="invalid_validity", details={
                "problems": [{"field": "valid_to", "code": "before_valid_from",
                              "message": "valid_to is before valid_from"}]})
        return self


class SiteBody(Response):
    site_id: str
    kind: str
    work_mode: str
    geofence: GeofenceOut
    valid_from: str | None = None
    valid_to: str | None = None
    note: str | None = None
    created_by: str = ""
    created_at: str = ""


class SiteOut(SiteBody):
    nip: str
    status: str | None = Field(default=None, exclude_if=lambda v: v is None)
    removed_by: str | None = Field(default=None, exclude_if=lambda v: v is None)


class SiteList(Response):
    nip: str
    sites: list[SiteOut]


# --- devices ----------------------------------------------------------------------------------
DEVICE_ID_PATTERN = r"^[A-Za-z0-9._:-]{8,128}$"  # the app's random id (X-Device-Id)


class DeviceBinding(Request):
    device_id: str = Field(pattern=DEVICE_ID_PATTERN, description="the X-Device-Id of the phone to allow")
    reason: str | None = Field(default=None, max_length=500)
    error_codes: ClassVar[dict[str, str]] = {"device_id": "invalid_device_id", "reason": "invalid_request"}


class DeviceBound(Response):
    nip: str
    device_id: str
    bound_by: str


# --- uploads, enrolment -----------------------------------------------------------------------
class UploadTarget(Response):
    url: str
    fields: dict[str, str]
    key: str


class ChallengeStep(Response):
    pose: Literal["front", "left", "right", "up", "down"] = Field(
        description="as the person sees it: left = turn the head to your own left")


class ChallengeOut(Response):
    id: str
    steps: list[ChallengeStep] = Field(description="uploads[i] is the frame for steps[i]")
    offline: bool = Field(default=False, exclude_if=lambda v: not v, description="the client chose these steps offline: "
                                                     "the check-in is flagged delayed_capture")


class UploadSessionOut(Response):
    session_id: str
    nonce: str | None = Field(default=None, exclude_if=lambda v: v is None,
                              description="check-in only: bind the selfie to this session")
    challenge: ChallengeOut | None = Field(
        default=None, exclude_if=lambda v: v is None,
        description="the liveness challenge (when the agency requires liveness): one frame per step")
    uploads: list[UploadTarget]
    expires_at: str
    max_bytes: int
    content_types: list[str]


class EnrolRequest(Request):
    session_id: str = Field(min_length=1, max_length=64)
    consent: Annotated[bool | None, BeforeValidator(lambda v: v if isinstance(v, bool) else None)] = Field(
        default=None, description="the employee accepted the biometric consent notice (UU 27/2022); "
                                  "anything but true is refused as consent_required")
    error_codes: ClassVar[dict[str, str]] = {"consent": "consent_required"}


class PhotoResult(Response):
    index: int
    ok: bool
    checks: list[JsonObject]


class EnrolmentOut(Response):
    status: Literal["enrolled", "pending_approval"] = Field(
        default="enrolled", description="pending_approval when the agency requires a supervisor's "
                                        "approval (HADIR_ENROLMENT_APPROVAL): check-ins are flagged until then")
    model_version: str
    photos: list[PhotoResult]
    liveness: "LivenessOut | None" = Field(default=None, exclude_if=lambda v: v is None)


# --- check-in ---------------------------------------------------------------------------------
Pose = Literal["front", "left", "right", "up", "down"]
OfflineSteps = Annotated[list[Pose], Field(
    min_length=1, max_length=5,
    description="offline capture: the poses the app asked, in upload order, front first")]


class CheckinUploadsRequest(Request):
    """Optional body of ``POST /checkins/uploads``: a session for a check-in captured offline."""

    offline_steps: OfflineSteps | None = Field(
        default=None, description="open the session for frames already captured offline: one "
                                  "upload per step, the challenge is these steps (marked offline)")
    error_codes: ClassVar[dict[str, str]] = {"offline_steps": "invalid_offline_steps"}


class CheckinRequest(Request):
    session_id: str = Field(min_length=1, max_length=64)
    type: Literal["in", "out"]
    location: Location
    offline_captured_at: Instant | None = Field(
        default=None, description="offline capture: when the frames were taken (ISO 8601 with "
                                  "offset); the time rules use it and the decision is flagged "
                                  "delayed_capture for review")
    offline_steps: OfflineSteps | None = Field(
        default=None, description="offline capture: the steps of the session's offline challenge")
    error_codes: ClassVar[dict[str, str]] = {
        "type": "invalid_type", "session_id": "invalid_session",
        "offline_captured_at": "invalid_offline_captured_at", "offline_steps": "invalid_offline_steps"}


class FaceOut(Response):
    """The face check as the employee sees it (the exact score and threshold are for supervisors
    and auditors: they would let anyone tune a photo against the matcher)."""

    decision: Literal["match", "no_match"] | None = None
    error: str | None = Field(default=None, description="why the photo could not be verified")
    checks: list[JsonObject] = Field(default_factory=list, description="quality gates: value and limits")


class LivenessCheckOut(Response):
    check: Literal["direction", "depth", "identity", "distinct", "fresh", "copy"]
    step: int
    pose: str | None
    ok: bool
    value: float | None = Field(description="none on identity and copy checks for the employee (face "
                                            "scores are for supervisors and auditors)")
    limit: float | None
    code: str | None


class LivenessOut(Response):
    """Each challenge step's measured head pose and every check with its value and limit."""

    passed: bool
    steps: list[JsonObject] = Field(description="pose asked, yaw/pitch/roll measured (degrees)")
    checks: list[LivenessCheckOut]


class GeoOut(Response):
    status: str
    site_id: str | None = None
    distance_m: float | None = None
    accuracy_m: float | None = None


class CheckinOut(Response):
    """The decision and every reason for it. A photo that could not be verified (no face,
    corrupt, too large...) is a rejected, stored attempt: then ``error`` says why, and the
    response has that error's status."""

    checkin_id: str
    decision: Literal["accepted", "flagged", "rejected"]
    kind: Literal["in", "out"]
    work_mode: str | None
    local_date: str
    local_time: str
    timezone: str
    late_minutes: int
    early_leave_minutes: int
    tier: str | None
    reasons: list[Reason]
    office_id: str
    face: FaceOut
    liveness: LivenessOut | None = Field(default=None, exclude_if=lambda v: v is None)
    geo: GeoOut
    error: ErrorBody | None = Field(default=None, exclude_if=lambda v: v is None)


# --- queries ----------------------------------------------------------------------------------
class OfficeBrief(Response):
    office_id: str
    name: str
    timezone: str
    rules: JsonObject
    geofence: JsonObject = Field(description="circle {lat, lon, radius_m} or GeoJSON Polygon")


class EnrolmentState(Response):
    status: Literal["enrolled", "pending_approval", "not_enrolled"] = Field(
        description="pending_approval: enrolled, and check-ins are flagged enrolment_pending until the "
                    "supervisor or an admin approves the enrolment photos")
    enrolled_at: str | None = None


class MySite(SiteBody):
    valid_today: bool


class SiteToday(Response):
    site_id: str
    kind: str
    work_mode: str


class SitesToday(Response):
    date: str
    sites: list[SiteToday]


class Me(Response):
    nip: str
    name: str
    unit: str | None
    roles: list[str]
    supervisor_nip: str | None
    enrollment: EnrolmentState
    offices: list[OfficeBrief]
    sites: list[MySite]
    sites_today: SitesToday


class DateRangeQuery(Query):
    start: Day | None = Field(default=None, alias="from", description="default: to - 6 days")
    end: Day | None = Field(default=None, alias="to", description="default: today (office-local)")
    error_codes: ClassVar[dict[str, str]] = {"from": "invalid_date", "to": "invalid_date"}


class CheckinBrief(Response):
    checkin_id: str
    kind: str
    decision: str
    local_time: str
    work_mode: str | None = None
    late_minutes: int = 0
    reasons: list[Reason] = Field(default_factory=list)


class MyDay(Response):
    date: str
    status: str = Field(description="present, late, pending_review, excused, on_leave, official_travel, "
                                    "absent, weekend, holiday, or "
                                    "no_record (nothing yet: the window may still be open)")
    working_day: bool
    holiday: str | None = None
    first_in: str | None = None
    last_out: str | None = None
    late_minutes: int | None = None
    work_mode: str | None = None
    reasons: list[Reason] = Field(default_factory=list,
                                  description="why the day has its status, each naming its check-in, review or request")
    checkin_ids: list[str] = Field(default_factory=list)
    review_ids: list[str] = Field(default_factory=list)
    request_ids: list[str] = Field(default_factory=list)
    checkins: list[CheckinBrief] = Field(default_factory=list)


class MyAttendance(Response):
    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True, defer_build=True)
    nip: str
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    days: list[MyDay]


class DateQuery(Query):
    day: Day | None = Field(default=None, alias="date",
                                description="office-local date; default: today")
    error_codes: ClassVar[dict[str, str]] = {"date": "invalid_date"}


class StaffDay(Response):
    nip: str
    name: str
    unit: str | None = None
    status: str = Field(description="present, late, pending_review, excused, on_leave, official_travel, "
                                    "absent, weekend, holiday or no_record")
    first_in: str | None = None
    last_out: str | None = None
    late_minutes: int | None = None
    work_mode: str | None = None
    reasons: list[Reason] = Field(default_factory=list,
                                  description="why the day has its status, each naming its check-in, review or request")
    checkin_ids: list[str] = Field(default_factory=list)
    review_ids: list[str] = Field(default_factory=list)
    request_ids: list[str] = Field(default_factory=list)


class TeamAttendance(Response):
    supervisor_nip: str
    date: str
    staff: list[StaffDay]


class ExportDateQuery(Query):
    day: Day = Field(alias="date")
    error_codes: ClassVar[dict[str, str]] = {"date": "invalid_date"}


class ExportFile(Response):
    key: str
    bytes: int
    url: str = Field(description="presigned GET of exactly this version")
    version_id: str | None = Field(default=None, description="the object's only version (write-once)")


class ExportRun(Response):
    """One run of a day's export: write-once files under ``run=<run_id>/``, the manifest chained
    to the previous run's (verify offline: ``python tools/verify_exports.py DIR``)."""

    run_id: str = Field(description="UTC time of the run + random; sorts as the runs were made")
    zone: str | None = None
    created_at: str | None = Field(default=None, description="the manifest's generated_at")
    sequence: int | None = Field(default=None, description="1 for the day's first run")
    manifest_sha256: str | None = Field(default=None, description="null: the run wrote no manifest")
    previous_manifest_sha256: str | None = None
    files: list[ExportFile]
    parquet: list[ExportFile] = Field(default_factory=list, description=(
        "the run's rows as Parquet under analytics/ (the Athena tables' files), each vouched for "
        "by the manifest's parquet entries (sha256)"))


class ExportList(Response):
    date: str
    files: list[ExportFile] = Field(description="the latest complete run's files")
    runs: list[ExportRun] = Field(default_factory=list, description="every run, oldest first")
    expires_in: int


# --- the monthly recap ----------------------------------------------------------------------------
MONTH_PATTERN = r"^(20\d\d|2100)-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=MONTH_PATTERN, description="YYYY-MM, 2000-01 to 2100-12")]


class RecapRequest(Request):
    month: Month
    error_codes: ClassVar[dict[str, str]] = {"month": "invalid_month"}


class RecapMonthQuery(Query):
    month: Month
    error_codes: ClassVar[dict[str, str]] = {"month": "invalid_month"}


class RecapFile(Response):
    name: str
    key: str
    bytes: int
    sha256: str
    version_id: str | None = None


class RecapRun(Response):
    """One run of a month's recap: recap.csv (one row per employee), units.csv (per unit) and
    manifest.json, write-once under ``recap/year=/month=/agency=/run=<run_id>/``."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True, defer_build=True)
    month: str
    run_id: str
    start: str = Field(alias="from", description="the period's first day")
    through: str = Field(description="the last day counted: the month's end, or for the current "
                                     "month the last day that ended in WIB")
    employees: int
    units: int
    sequence: int = Field(description="1 for the month's first run")
    manifest_sha256: str
    previous_manifest_sha256: str | None = None
    files: list[RecapFile]
    discipline_notices: int = Field(0, description="PP 94/2021 notices this run sent the personnel agency: "
                                                   "thresholds of unexcused absence newly reached")


class RecapList(Response):
    month: str
    files: list[ExportFile] = Field(description="the latest complete run's files")
    runs: list[ExportRun] = Field(default_factory=list, description="every run, oldest first")
    expires_in: int


# --- reviews ------------------------------------------------------------------------------------

class ReviewQuery(Query):
    start: Day | None = Field(default=None, alias="from", description="default: to - 30 days")
    end: Day | None = Field(default=None, alias="to", description="default: today (UTC+7..+9)")
    unit: str | None = Field(default=None, max_length=200,
                             description="admins: the unit whose queue (required; supervisors: ignored)")
    error_codes: ClassVar[dict[str, str]] = {"from": "invalid_date", "to": "invalid_date", "unit": "invalid_unit"}


class FlaggedCheckin(Response):
    checkin_id: str
    local_date: str
    local_time: str
    office_id: str
    work_mode: str | None = None
    late_minutes: int = 0
    reasons: list[Reason] = Field(description="every rule that applied, with its numbers")
    face: FaceEvidence = Field(description="score and threshold, liveness checks and figures")
    geo: GeoEvidence = Field(description="status, the site matched, distance, accuracy radius and margin")
    position: PositionEvidence
    fence: JsonObject | None = Field(default=None, description="the geofence of the site the check-in "
                                     "was judged against (the matched one, else the office), for a map")
    selfie_url: str | None = Field(default=None, description="short-lived presigned GET of the selfie "
                                   "(kept encrypted until decided or HADIR_REVIEW_EVIDENCE_DAYS)")


class EpisodeReview(Response):
    decision: Literal["approved", "rejected"]
    reviewer: str
    at: str
    comment: str | None = None


class EpisodePing(Response):
    at: str
    lat: float
    lon: float
    accuracy_m: float
    is_mock: bool
    outside: bool
    reasons: list[Reason]


class EpisodeOut(Response):
    episode_id: str
    nip: str
    name: str
    unit: str | None = None
    kind: Literal["outside_region", "away_from_home"]
    local_date: str
    opened_at: str
    last_at: str
    closed_at: str | None = Field(default=None, description="null: still open")
    pings: int
    first: JsonObject = Field(description="the opening ping: position, accuracy and its reasons")
    evidence: list[EpisodePing] = Field(description="the pings from its opening to its closing (while kept), "
                                        "oldest first, at most 200")
    review_id: str | None = Field(default=None, description="w.<nip>.<date>.<episode_id>: decided by "
                                  "POST /team/reviews/{review_id}")
    review: EpisodeReview | None = Field(default=None, description="the supervisor's decision: approved = "
                                         "justified, rejected = unjustified; null: pending")


class ReviewItem(Response):
    review_id: str = Field(description="c.<nip>.<date>.<checkin_id>, e.<nip>.<enrolment_id> or "
                           "w.<nip>.<date>.<episode_id>")
    kind: Literal["checkin", "enrolment", "episode"]
    nip: str
    name: str
    unit: str | None = None
    since: str = Field(description="when the check-in was made, the enrolment stored or the episode opened (UTC)")
    checkin: FlaggedCheckin | None = None
    episode: EpisodeOut | None = Field(default=None, description="episode: the out-of-region (or away-from-home) "
                                       "stretch with its pings (positions, accuracy, times, reasons) as evidence")
    photos: list[str] = Field(default_factory=list, description="enrolment: presigned GETs of the photos")


class ReviewQueue(Response):
    start: str
    end: str
    items: list[ReviewItem]


class ReviewDecision(Request):
    decision: Literal["approve", "reject"]
    comment: str | None = Field(default=None, max_length=500, description="required to reject")
    error_codes: ClassVar[dict[str, str]] = {"decision": "invalid_decision", "comment": "invalid_comment"}


class ReviewOut(Response):
    review_id: str
    kind: Literal["checkin", "enrolment", "episode"]
    nip: str
    decision: Literal["approved", "rejected"]
    reviewer: str
    at: str
    comment: str | None = None
    day_status: str | None = Field(default=None, description="checkin: the day's status after the review")
    reasons: list[Reason] = Field(default_factory=list, description="checkin: the day's reasons after it")


# --- notifications ------------------------------------------------------------------------------

class NotificationQuery(Query):
    limit: int = Field(default=50, ge=1, le=200)
    error_codes: ClassVar[dict[str, str]] = {"limit": "invalid_limit"}


class NotificationOut(Response):
    notification_id: str
    at: str
    topic: str = Field(description="review_decided | request_decided")
    ref: str = Field(description="the review or request id")
    message: str
    details: JsonObject = Field(default_factory=dict)


class NotificationList(Response):
    nip: str
    items: list[NotificationOut] = Field(description="newest first")
# --- leave and permission requests ------------------------------------------------------------
REQUEST_TYPES = ("excuse", "leave", "official_travel", "wfh", "leave_region")
REQUEST_STATES = ("pending", "approved", "rejected", "cancelled")
REQUEST_ID_PATTERN = r"^rq-[0-9a-f]{20}$"


class RequestIn(Request):
    type: Literal["excuse", "leave", "official_travel", "wfh", "leave_region"] = Field(
        description="excuse (a past absence), leave, official_travel (dinas luar), wfh, leave_region")
    subtype: str | None = Field(default=None, max_length=40, description=(
        "excuse: sick | important_reason; leave: annual | sick | important_reason | maternity | big | "
        "unpaid; none for the other types"))
    start: Day = Field(description="office-local, inclusive")
    end: Day = Field(description="office-local, inclusive")
    reason: str = Field(min_length=1, max_length=1000, description="what the supervisor reads")
    destination: Geofence | None = Field(default=None, description="official_travel: where (required)")
    destination_name: str | None = Field(default=None, max_length=200,
                                         description="official_travel, leave_region: the place's name")
    error_codes: ClassVar[dict[str, str]] = {
        "type": "invalid_request_type", "subtype": "invalid_request_type", "start": "invalid_request_dates",
        "end": "invalid_request_dates", "reason": "invalid_request", "destination": "invalid_geofence",
        "destination_name": "invalid_request"}

    @model_validator(mode="after")
    def _blank_reason(self) -> "RequestIn":
        if not self.reason.strip():
            raise InvalidInput("The reason is blank", code="invalid_request", details={
                "problems": [{"field": "reason", "code": "blank", "message": "reason is blank"}]})
        return self


class DecisionIn(Request):
    decision: Literal["approve", "reject"]
    comment: str | None = Field(default=None, max_length=1000)
    error_codes: ClassVar[dict[str, str]] = {"decision": "invalid_decision", "comment": "invalid_decision"}


class DecisionOut(Response):
    level: int = Field(description="1: the direct supervisor; 2: the second level")
    decision: Literal["approved", "rejected"]
    by: str
    by_nip: str | None = None
    at: str
    comment: str | None = None


class AttachmentIn(Request):
    content_type: Literal["application/pdf", "image/jpeg", "image/png"] = Field(
        description="the document's type; the upload must be exactly this, and its bytes must say so")
    error_codes: ClassVar[dict[str, str]] = {"content_type": "unsupported_attachment"}


class AttachmentUploadOut(Response):
    request_id: str
    upload_id: str = Field(description="send it back to PUT .../attachment once uploaded")
    upload: UploadTarget = Field(description="a presigned POST: send fields (Content-Type among them) "
                                             "and the file")
    content_type: str
    max_bytes: int
    expires_at: str = Field(description="when the presigned POST expires (UTC)")


class AttachmentConfirmIn(Request):
    upload_id: str = Field(min_length=1, max_length=64)
    error_codes: ClassVar[dict[str, str]] = {"upload_id": "invalid_upload_id"}


class AttachmentOut(Response):
    content_type: Literal["application/pdf", "image/jpeg", "image/png"] = Field(
        description="as the file's own bytes say (magic bytes)")
    bytes: int
    uploaded_at: str
    url: str = Field(description="a short-lived presigned GET (a download)")
    url_expires_in: int = Field(description="seconds")


class RequestOut(Response):
    request_id: str
    nip: str
    name: str
    type: str
    subtype: str | None = None
    start: str
    end: str
    status: Literal["pending", "approved", "rejected", "cancelled"]
    reason: str
    working_days: int = Field(description="working days the request covers (calendar of the agency)")
    day_status: str | None = Field(description="what an approval makes of the days it covers: excused, "
                                               "on_leave, official_travel; none for wfh and leave_region")
    destination: GeofenceOut | None = None
    destination_name: str | None = None
    home_site_id: str | None = None
    site_id: str | None = Field(default=None, description="official_travel, once approved: the "
                                                          "assignment site (DL) created for its dates")
    levels_required: int
    approvals: int
    decisions: list[DecisionOut]
    attachment: AttachmentOut | None = Field(default=None, description="the document attached (a "
                                             "medical certificate...), with a short-lived link")
    created_at: str
    updated_at: str


class LeaveBalanceOut(Response):
    """Annual leave of the year in working days (PP 11/2017): 12, plus what the previous year left
    unused of its own 12, at most 18 in all; pending requests reserve days. Cuti bersama is taken
    from annual leave: the year's (on weekdays) counts against ``remaining``, last year's in its
    carry-over."""

    year: int
    entitlement: int
    carried_over: int
    total: int
    taken: int
    reserved: int
    remaining: int
    cuti_bersama_days: int = Field(0, description="the year's cuti bersama days on weekdays, taken from "
                                                  "annual leave (not counted in `taken`)")


class MyRequestsQuery(Query):
    start: Day | None = Field(default=None, alias="from", description="requests ending on or after")
    end: Day | None = Field(default=None, alias="to", description="requests starting on or before")
    error_codes: ClassVar[dict[str, str]] = {"from": "invalid_date", "to": "invalid_date"}


class MyRequests(Response):
    nip: str
    requests: list[RequestOut]
    leave_balance: LeaveBalanceOut


class TeamRequestsQuery(Query):
    status: Literal["pending", "approved", "rejected", "cancelled", "all"] = Field(
        default="pending", description="default: pending (those waiting for a decision)")
    start: Day | None = Field(default=None, alias="from", description="decided requests (every status but "
                              "pending) overlapping from..to; default: today - 31 days")
    end: Day | None = Field(default=None, alias="to", description="default: today + 92 days (WFH and leave "
                            "planned ahead); pending requests are listed whatever their dates")
    error_codes: ClassVar[dict[str, str]] = {"status": "invalid_status", "from": "invalid_date", "to": "invalid_date"}


class TeamRequests(Response):
    status: str
    requests: list[RequestOut]
# --- audit log --------------------------------------------------------------------------------
class AuditLogQuery(Query):
    start: Day | None = Field(default=None, alias="from", description="UTC date; default: to")
    end: Day | None = Field(default=None, alias="to", description="UTC date; default: today (UTC)")
    actor: str | None = Field(default=None, min_length=1, max_length=128,
                              description="who acted: a username (admin, an auditor) or a NIP")
    subject: str | None = Field(default=None, min_length=1, max_length=200,
                                description="what was acted on: a NIP, or a subject as listed "
                                            "(employee#<nip>, office#<id>, export#<date>)")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, min_length=1, max_length=1024,
                               description="the next_cursor of the previous page (opaque)")
    error_codes: ClassVar[dict[str, str]] = {
        "from": "invalid_date", "to": "invalid_date", "actor": "invalid_actor",
        "subject": "invalid_subject", "limit": "invalid_limit", "cursor": "invalid_cursor"}


class AuditEntryOut(Response):
    entry_id: str
    at: str = Field(description="UTC instant of the action")
    subject: str
    action: str
    actor: str
    details: JsonObject = Field(default_factory=dict)
    before: JsonObject | None = Field(default=None, description="the state before (null: none)")
    after: JsonObject | None = Field(default=None, description="the state after (null: none)")


class AuditLog(Response):
    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True, defer_build=True)
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    entries: list[AuditEntryOut] = Field(description="oldest first")
    next_cursor: str | None = Field(default=None, description="pass as cursor for the next page; "
                                                              "null: this was the last")


# --- agency configuration: calendar and TL/PSW table (services/agency_config.py) ---------------
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class NamedDay(Request):
    date: str = Field(pattern=DATE_PATTERN, description="YYYY-MM-DD, inside the year it is listed under")
    name: str = Field(min_length=1, max_length=120)


class CalendarYear(Request):
    cuti_bersama: list[NamedDay] | None = Field(
        default=None, max_length=40, description="the year's cuti bersama (joint decree); listed, it "
        "replaces the holidays package's for the year (even empty); absent: the package's")
    regional_holidays: dict[str, Annotated[list[NamedDay], Field(max_length=60)]] = Field(
        default_factory=dict, max_length=40, description="by two-digit province code (e.g. \"51\" Bali)")
    agency_holidays: list[NamedDay] = Field(default_factory=list, max_length=60)
    extra_working_days: list[NamedDay] = Field(
        default_factory=list, max_length=60, description="working days whatever else says (a revised decree)")


class CalendarDocument(Request):
    years: dict[str, CalendarYear] = Field(max_length=10, description="by year, \"2026\"")
    package_cuti_bersama: bool = Field(default=True, description="years that list no cuti_bersama take "
                                                                 "the holidays package's")
    source: str = Field(default="agency", max_length=120, description="e.g. the decree's number")


class TierRow(Request):
    tier: str = Field(min_length=1, max_length=16, description="TL1 ... / PSW1 ...")
    min_minutes: int
    max_minutes: int | None = Field(description="null on the last tier only (open-ended)")
    percent: float = Field(description="of the day's performance allowance")


class LatenessDocument(Request):
    late: list[TierRow] = Field(description="TL tiers, from 1 minute, contiguous, the last open-ended")
    early_leave: list[TierRow] = Field(description="PSW tiers, the same rules")
    absent_percent: float = Field(default=4.0, description="absent without notice")
    grace_minutes: int = Field(default=0, description="lateness up to so many minutes is not late (0-120)")
    daily_cap_percent: float | None = Field(default=None, description="one day's TL + PSW cut at most; "
                                                                      "null: no cap")
    missing_checkout_counts: bool = Field(default=True, description="no check-out costs the last PSW tier")
    source: str = Field(default="agency", max_length=120, description="e.g. the regulation")


class CalendarPut(Request):
    version: int | None = Field(default=None, ge=1, description="the version read; null to create the first")
    document: CalendarDocument
    error_codes: ClassVar[dict[str, str]] = {"version": "invalid_calendar", "document": "invalid_calendar"}


class LatenessPut(Request):
    version: int | None = Field(default=None, ge=1, description="the version read; null to create the first")
    document: LatenessDocument
    error_codes: ClassVar[dict[str, str]] = {"version": "invalid_lateness_table",
                                             "document": "invalid_lateness_table"}


HHMM_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
HHMM = Annotated[str, Field(pattern=HHMM_PATTERN)]
HHMMPair = Annotated[list[HHMM], Field(min_length=2, max_length=2, description="[start, end), local HH:MM")]


class DayHoursIn(Request):
    start: HHMM
    end: HHMM
    break_minutes: int | None = Field(default=None, ge=0, le=600,
                                      description="unpaid; absent: 60, 90 on Friday")


ScheduleHours = Annotated[dict[str, DayHoursIn], Field(
    max_length=8, description="\"default\" for every working weekday, \"0\" (Monday) .. \"6\" (Sunday) for one")]


class AppliesTo(Request):
    office_ids: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=500)
    units: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=500)
    groups: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=500)


class ScheduleVariant(Request):
    id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=120)
    valid_from: str = Field(pattern=DATE_PATTERN, description="first day, inclusive")
    valid_to: str = Field(pattern=DATE_PATTERN, description="last day, inclusive")
    hours: ScheduleHours
    checkin_window: HHMMPair | None = None
    checkout_window: HHMMPair | None = None


class FlexibleStart(Request):
    start_window: HHMMPair = Field(description="the check-in may come in it; lateness counts past its end")


class ScheduleIn(Request):
    id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=120)
    applies_to: AppliesTo = Field(default_factory=AppliesTo, description="all empty: agency-wide; "
                                  "precedence group > unit > office > agency-wide")
    valid_from: str | None = Field(default=None, pattern=DATE_PATTERN, description="inclusive; null: open")
    valid_to: str | None = Field(default=None, pattern=DATE_PATTERN, description="inclusive; null: open")
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=lambda: [0, 1, 2, 3, 4],
                                                              min_length=1, max_length=7)
    hours: ScheduleHours | None = Field(default=None, description="absent: the national 07:30-16:00, "
                                        "Friday 07:30-16:30")
    checkin_window: HHMMPair = Field(default_factory=lambda: ["06:00", "10:00"])
    checkout_window: HHMMPair = Field(default_factory=lambda: ["15:00", "20:00"])
    flexible: FlexibleStart | None = None
    variants: list[ScheduleVariant] = Field(default_factory=list, max_length=40)
    seasonal: bool = Field(default=True, description="the document's seasons (Ramadan) apply")


class SchedulesDocument(Request):
    schedules: list[ScheduleIn] = Field(default_factory=list, max_length=200)
    seasons: list[ScheduleVariant] = Field(default_factory=list, max_length=40,
                                           description="agency-wide date ranges (Ramadan) for every seasonal schedule")
    source: str = Field(default="agency", max_length=120)


class SchedulesPut(Request):
    version: int | None = Field(default=None, ge=1, description="the version read; null to create the first")
    document: SchedulesDocument
    error_codes: ClassVar[dict[str, str]] = {"version": "invalid_schedules", "document": "invalid_schedules"}


class ConfigMeta(Response):
    kind: Literal["calendar", "lateness", "schedules"]
    version: int | None = Field(description="null: nothing stored, the defaults apply; send it back on PUT")
    stored: bool
    updated_at: str | None = None
    updated_by: str | None = None


class CalendarConfig(ConfigMeta):
    document: CalendarDocument


class LatenessConfig(ConfigMeta):
    document: LatenessDocument


# --- event days: an office's check-in point for one date (services/events.py) ------------------
class EventRequest(Request):
    office_id: str = Field(pattern=ID_PATTERN, description="an existing office")
    date: Day = Field(description="the office's local date; today or later")
    name: str = Field(min_length=1, max_length=120, description="e.g. \"Upacara HUT RI ke-81\"")
    geofence: Geofence = Field(description="where the office's staff check in that day")
    checkin_window: Window | None = Field(default=None, description="that day's check-in window; "
                                                                    "null: the office's")
    also_office: bool = Field(default=False, description="the office's own geofence is accepted too")
    error_codes: ClassVar[dict[str, str]] = {
        "office_id": "invalid_event", "date": "invalid_event", "name": "invalid_event",
        "geofence": "invalid_geofence", "checkin_window": "invalid_time_rules", "also_office": "invalid_event"}

    @model_validator(mode="after")
    def _blank_name(self) -> "EventRequest":
        if not self.name.strip():
            raise InvalidInput("The event is not valid", code="invalid_event", details={
                "problems": [{"field": "name", "code": "required", "message": "name is blank"}]})
        return self


class EventOut(Response):
    office_id: str
    date: str
    name: str
    geofence: GeofenceOut
    checkin_window: list[str] | None = None
    also_office: bool = False
    created_by: str = ""
    created_at: str = ""
    status: Literal["active", "removed"] = "active"


class EventList(Response):
    version: int | None = Field(description="the events document's version (null: none stored)")
    events: list[EventOut] = Field(description="by date, then office")


class EventQuery(Query):
    office_id: str | None = Field(default=None, pattern=ID_PATTERN)
    start: Day | None = Field(default=None, alias="from", description="from this date (inclusive)")
    error_codes: ClassVar[dict[str, str]] = {"office_id": "invalid_event", "from": "invalid_date",
                                             "start": "invalid_date"}

class SchedulesConfig(ConfigMeta):
    document: SchedulesDocument


# --- WFO/WFH rosters (policy/roster.py) -------------------------------------------------------------
MAX_ROSTER_DAYS = 62  # two months of calendar days


class RosterRequest(Request):
    unit: str = Field(min_length=1, max_length=200, description="the unit (unit_kerja) as imported")
    first: Day = Field(description="the period's first day, office-local")
    through: Day = Field(description="the period's last day, inclusive")
    max_share: float = Field(default=0.3, ge=0, le=1, description="most of the unit's headcount in the office "
                                                                   "per working day: floor(max_share * headcount)")
    min_share: float = Field(default=0.0, ge=0, le=1, description="fewest: ceil(min_share * headcount)")
    error_codes: ClassVar[dict[str, str]] = {"unit": "invalid_roster", "first": "invalid_roster",
                                             "through": "invalid_roster", "max_share": "invalid_roster",
                                             "min_share": "invalid_roster"}

    @model_validator(mode="after")
    def _period(self) -> "RosterRequest":
        days = (self.through - self.first).days + 1
        if not 1 <= days <= MAX_ROSTER_DAYS:
            raise InvalidInput(f"The period is 1 to {MAX_ROSTER_DAYS} days, first to through",
                               code="invalid_roster", details={"problems": [
                                   {"field": "through", "code": "bad_period", "days": days,
                                    "max_days": MAX_ROSTER_DAYS}]})
        return self


class RosterRow(Response):
    nip: str
    name: str
    echelon: str | None
    group: str = Field(description="its fairness group: level:<n> for the two top levels, else rotation")
    office_days: int
    available_days: int
    days: list[Literal["WFO", "WFH", "leave", "official_travel", "off"]] = Field(
        description="one per roster day: off = not one of this employee's working days")


class RosterOut(Response):
    unit: str
    days: list[dt.date]
    headcount: int
    lo: int = Field(description="fewest in the office per day")
    hi: int = Field(description="most in the office per day")
    top_levels: list[int] = Field(description="the two highest structural levels present (1 = eselon I)")
    rotation: dict[str, int] = Field(description="per fairness group its k: office days k or k + 1 "
                                                 "(capped by the days available)")
    staff: list[RosterRow]
    published: bool = Field(default=False, description="false: a proposal (nothing stored); true: as published")
    roster_id: str | None = Field(default=None, description="published: <month>#<unit>")
    version: int | None = Field(default=None, description="published: 1, one more on each re-publish")
    published_at: str | None = None
    published_by: str | None = None
    notified: int | None = Field(default=None, description="publish: the notices sent (employees and supervisors)")


class RosterPublishRequest(RosterRequest):
    """Publish: solved again server-side from the unit's staff (a client's assignment is never
    taken); first and through within one month: the unit's roster of that month is replaced."""

    replaces: int | None = Field(default=None, ge=1, description="the published version this replaces "
                                                                  "(none: there must be none yet)")
    error_codes: ClassVar[dict[str, str]] = {**RosterRequest.error_codes, "replaces": "invalid_roster"}

    @model_validator(mode="after")
    def _one_month(self) -> "RosterPublishRequest":
        if (self.first.year, self.first.month) != (self.through.year, self.through.month):
            raise InvalidInput("A published roster lies within one month", code="invalid_roster",
                               details={"problems": [{"field": "through", "code": "not_one_month",
                                                      "first": self.first.isoformat(),
                                                      "through": self.through.isoformat()}]})
        return self


class RosterQuery(Query):
    unit: str = Field(min_length=1, max_length=200)
    month: Month
    error_codes: ClassVar[dict[str, str]] = {"unit": "invalid_roster", "month": "invalid_month"}


class MyRosterQuery(Query):
    month: Month
    error_codes: ClassVar[dict[str, str]] = {"month": "invalid_month"}


class MyRosterDay(Response):
    date: dt.date
    status: Literal["WFO", "WFH", "leave", "official_travel", "off"]


class MyRosterOut(Response):
    nip: str
    month: str
    unit: str | None
    roster_id: str | None = Field(description="none: no roster published for your unit that month")
    version: int | None
    published_at: str | None
    days: list[MyRosterDay]
