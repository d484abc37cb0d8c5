"""Request and response models of tasks and daily work reports (``services/work.py``), kept
apart from ``schemas.py`` only to keep that shared file small; the same bases and conventions."""

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from chalicelib.policy.attachments import WORK_CONTENT_TYPES
from chalicelib.services.schemas import Day, Query, Request, Response, UploadTarget

TASK_ID_PATTERN = r"^tk-[0-9a-f]{20}$"
WorkContentType = Literal[WORK_CONTENT_TYPES]  # type: ignore[valid-type]
UploadId = str


class WorkUploadIn(Request):
    content_type: WorkContentType = Field(description="PDF, JPEG, PNG, Word, Excel or PowerPoint (docx/xlsx/pptx, "
                                                      "doc/xls); the upload must be exactly this")
    error_codes: ClassVar[dict[str, str]] = {"content_type": "unsupported_attachment"}


class WorkUploadOut(Response):
    upload_id: str = Field(description="name it in the task or report once uploaded")
    upload: UploadTarget
    content_type: str
    max_bytes: int
    expires_at: str


class WorkAttachmentOut(Response):
    attachment_id: str = Field(description="the upload id it came from: keep it in a report's attachments")
    content_type: str
    bytes: int
    uploaded_at: str
    url: str = Field(description="a short-lived presigned GET (a download)")
    url_expires_in: int


class WorkEventOut(Response):
    action: str = Field(description="assigned | submitted | accepted | returned")
    by: str
    by_nip: str | None = None
    at: str
    comment: str | None = None


# --- tasks ------------------------------------------------------------------------------------
class TaskIn(Request):
    assignees: list[Annotated[str, Field(pattern=r"^\d{18}$")]] = Field(min_length=1, max_length=25, description="NIPs of the caller's own staff; "
                                                                         "one task each")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    due: Day = Field(description="office-local")
    upload_id: str | None = Field(default=None, max_length=64, description="an upload from POST /team/tasks/uploads")
    error_codes: ClassVar[dict[str, str]] = {"assignees": "invalid_task", "title": "invalid_task",
                                             "description": "invalid_task", "due": "invalid_task",
                                             "upload_id": "invalid_upload_id"}


class TaskSubmitIn(Request):
    note: str | None = Field(default=None, max_length=4000, description="what was done")
    error_codes: ClassVar[dict[str, str]] = {"note": "invalid_task"}


class WorkDecisionIn(Request):
    decision: Literal["accept", "return"]
    comment: str | None = Field(default=None, max_length=2000, description="required to return")
    error_codes: ClassVar[dict[str, str]] = {"decision": "invalid_decision", "comment": "invalid_decision"}


class TaskOut(Response):
    task_id: str
    nip: str
    supervisor_nip: str | None = None
    title: str
    description: str
    due: str
    status: Literal["open", "submitted", "accepted", "returned"]
    note: str | None = None
    attachment: WorkAttachmentOut | None = None
    events: list[WorkEventOut]
    created_at: str
    updated_at: str


class TaskList(Response):
    tasks: list[TaskOut]


class TeamTasksQuery(Query):
    start: Day | None = Field(default=None, alias="from", description="due on or after; default: today - 31 days")
    end: Day | None = Field(default=None, alias="to", description="due on or before; default: from + 92 days")
    status: Literal["open", "submitted", "accepted", "returned", "all"] = "all"
    error_codes: ClassVar[dict[str, str]] = {"from": "invalid_date", "to": "invalid_date", "status": "invalid_status"}


# --- daily work reports -----------------------------------------------------------------------
class ReportIn(Request):
    text: str = Field(min_length=1, max_length=8000, description="what was done (laporan kinerja harian)")
    task_ids: list[str] = Field(default_factory=list, max_length=20, description="the caller's own tasks")
    attachments: list[str] = Field(default_factory=list, max_length=5, description=(
        "the attachments the report keeps: upload ids from POST /me/reports/{date}/uploads (new) or "
        "attachment ids it already has; one left out is dropped"))
    error_codes: ClassVar[dict[str, str]] = {"text": "invalid_report", "task_ids": "invalid_report",
                                             "attachments": "invalid_report"}


class ReportOut(Response):
    nip: str
    name: str | None = None
    date: str
    status: Literal["submitted", "returned", "accepted"]
    text: str
    task_ids: list[str]
    attachments: list[WorkAttachmentOut]
    events: list[WorkEventOut]
    created_at: str
    updated_at: str
    editable_until: str | None = Field(default=None, description="the cut-off (office-local), while editable")


class MyReportsQuery(Query):
    start: Day | None = Field(default=None, alias="from", description="default: to - 30 days")
    end: Day | None = Field(default=None, alias="to", description="default: today (office-local)")
    error_codes: ClassVar[dict[str, str]] = {"from": "invalid_date", "to": "invalid_date"}


class ReportList(Response):
    nip: str
    required_on: list[str] = Field(description="work modes whose days need a report (HADIR_REPORT_REQUIRED_ON)")
    reports: list[ReportOut]


class TeamReportsQuery(Query):
    day: Day = Field(alias="date", description="the reports' office-local date")
    error_codes: ClassVar[dict[str, str]] = {"date": "invalid_date"}


class TeamReports(Response):
    date: str
    reports: list[ReportOut]


class AuditReportsQuery(Query):
    nip: str = Field(pattern=r"^\d{18}$")
    start: Day = Field(alias="from")
    end: Day = Field(alias="to")
    error_codes: ClassVar[dict[str, str]] = {"nip": "invalid_subject", "from": "invalid_date", "to": "invalid_date"}
