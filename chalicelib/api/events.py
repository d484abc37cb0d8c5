"""Scheduled, queue and invoked handlers: thin adapters from events to the use cases."""
from __future__ import annotations

import json

from chalice import Blueprint

from chalicelib.adapters import imports
from chalicelib.adapters.storage import session_stream
from chalicelib.common.logs import failures_scrubbed, flush_metrics, logger
from chalicelib.common.resources import EMAIL_QUEUE, FRAMES_HANDLER, IMPORT_QUEUE, SCHEDULES, Schedule
from chalicelib.common.settings import queue_name
from chalicelib.services import import_jobs, jobs, notices, sessions
from chalicelib.wiring import get_services

events = Blueprint(__name__)


def _register(schedule: Schedule):
    job, zone = schedule.handler.rsplit("_", 1)
    zone = zone.upper()

    def handler(event):
        try:
            with failures_scrubbed(schedule.handler):  # the runtime prints what escapes
                if job == "detect_absence":
                    return jobs.detect_absence(get_services(), zone)
                return get_services().analytics.export_day(zone)  # the analytics function's
        finally:
            flush_metrics()

    handler.__name__ = schedule.handler
    events.schedule(schedule.cron, name=schedule.handler, description=schedule.purpose)(handler)
    return handler


HANDLERS = {s.handler: _register(s) for s in SCHEDULES}


@events.on_sqs_message(queue=queue_name(EMAIL_QUEUE.logical), batch_size=10, name=EMAIL_QUEUE.handler)
def send_supervisor_email(event):
    with failures_scrubbed(EMAIL_QUEUE.handler):  # raised on: the batch is retried
        for record in event:
            notice = json.loads(record.body)
            if isinstance(notice, dict) and "Message" in notice and "Type" in notice:
                notice = json.loads(notice["Message"])  # non-raw SNS delivery
            sent = notices.send_email(get_services(), notice)
            logger.info("supervisor e-mail", extra={"supervisor_nip": notice.get("supervisor_nip"), "sent": sent})
    flush_metrics()


@events.on_sqs_message(queue=queue_name(IMPORT_QUEUE.logical), batch_size=1, name=IMPORT_QUEUE.handler)
def process_import(event):
    """One step of an import job (services/import_jobs.py); raised on: SQS redelivers it."""
    try:
        with failures_scrubbed(IMPORT_QUEUE.handler):
            for record in event:
                import_jobs.handle(get_services(), json.loads(record.body))
    finally:
        flush_metrics()


IMPORT_FUNCTION = "import_employees"  # deployed as hadir-<stage>-import_employees (HADIR_IMPORT_FUNCTION)


@events.lambda_function(name=IMPORT_FUNCTION)
def import_employees(event, context):
    """The employee import, invoked by the API (adapters/imports.py LambdaImports): the only
    function holding Cognito admin rights. ``{"rows", "actor"}`` -> ``{"result"}`` | ``{"error"}``."""
    try:
        with failures_scrubbed(IMPORT_FUNCTION):
            return imports.handle(get_services(), event)
    finally:
        flush_metrics()


@events.lambda_function(name=FRAMES_HANDLER)
def delete_used_frames(event, context):
    """The sessions table's stream (infra: an event source mapping filtered to the records that mark
    a session used): that session's raw frames are deleted. ``{"Records": [...]}`` -> ``{"frames"}``."""
    try:
        with failures_scrubbed(FRAMES_HANDLER):
            keys = session_stream.used_frames(event.get("Records") if isinstance(event, dict) else None)
            out = sessions.delete_used_frames(get_services(), keys)
            logger.info("used frames deleted", extra=out)
            return out
    finally:
        flush_metrics()
