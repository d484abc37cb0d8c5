"""Supervisor notifications: one SNS message per supervisor, fanned out to an SQS queue whose
consumer sends the SES e-mail. Both steps are once-only (job-run markers)."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters import aws
from chalicelib.common.logs import logger
from chalicelib.common.settings import get_settings
from chalicelib.adapters.storage.repos import Store


def publish_absence_notice(store: Store, notice: dict[str, Any]) -> bool:
    """Publish once per (date, zone, supervisor); False if it was already sent."""
    key = f"absence-notice#{notice['date']}#{notice['zone']}#{notice['supervisor_nip']}"
    if not store.claim(key, {"count": len(notice["absentees"])}):
        return False
    try:
        aws.client("sns").publish(
            TopicArn=get_settings().topic_arn, Message=json.dumps(notice),
            Subject=f"Hadir: {len(notice['absentees'])} absent on {notice['date']}"[:99],
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "absence_notice"}})
    except Exception:
        store.release(key)
        raise
    logger.info("absence notice published", extra={"supervisor_nip": notice["supervisor_nip"],
                                                   "date": notice["date"], "count": len(notice["absentees"])})
    return True


def send_email(store: Store, notice: dict[str, Any]) -> bool:
    """The SES e-mail for one notice; once only."""
    s = get_settings()
    to = notice.get("supervisor_email")
    key = f"absence-email#{notice['date']}#{notice['zone']}#{notice['supervisor_nip']}"
    if not to or not s.ses_sender:
        logger.warning("no e-mail address for notice", extra={"supervisor_nip": notice["supervisor_nip"]})
        return False
    if not store.claim(key, {}):
        return False
    lines = [f"- {a['nip']} {a['name']} ({a['office_id']})" for a in notice["absentees"]]
    body = (f"Staff without an accepted check-in on {notice['date']} ({notice['zone']}):\n"
            + "\n".join(lines) + "\n\nConfirm or excuse each absence in Hadir.")
    try:
        aws.client("ses").send_email(
            Source=s.ses_sender, Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": f"Hadir: absences on {notice['date']}"},
                     "Body": {"Text": {"Data": body}}})
    except Exception:
        store.release(key)
        raise
    return True
