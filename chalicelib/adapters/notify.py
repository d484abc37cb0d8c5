"""Supervisor notifications: one SNS message per supervisor, fanned out to an SQS queue whose
consumer sends the SES e-mail. ``SnsSesNotifier`` is the Notifier port; the module functions (still
used by the services) add the once-only job-run markers around the same calls."""
from __future__ import annotations

import json
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters import aws
from chalicelib.adapters.s3 import aws_failure
from chalicelib.common.errors import Internal, JsonObject
from chalicelib.common.logs import logger
from chalicelib.common.settings import get_settings
from chalicelib.adapters.storage.repos import Store

SUBJECT_MAX = 99  # SNS takes subjects under 100 characters


def notice_kind(notice: JsonObject) -> str:
    """The ``kind`` a notice is published with (subscribers filter on it)."""
    kind = notice.get("kind")
    if not isinstance(kind, str) or not kind:
        raise Internal("A notice needs a kind", code="notice_without_kind")
    return kind


class SnsSesNotifier:
    """Notifier over SNS (supervisor notices, fanned out to the e-mail queue) and SES (the
    e-mails). Each provider returns its boto3 client; once-only delivery is the use case's job."""

    def __init__(self, sns_provider: Callable[[], Any], ses_provider: Callable[[], Any],
                 topic_arn: str, sender: str):
        self._sns = sns_provider
        self._ses = ses_provider
        self.topic_arn = topic_arn
        self.sender = sender

    def publish(self, notice: JsonObject, subject: str) -> None:
        """One SNS message: the notice as JSON, attribute ``kind`` = ``notice["kind"]``."""
        kind = notice_kind(notice)
        if not self.topic_arn:
            raise Internal("No notification topic is configured", code="notify_not_configured")
        try:
            self._sns().publish(
                TopicArn=self.topic_arn, Message=json.dumps(notice), Subject=subject[:SUBJECT_MAX],
                MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}})
        except (ClientError, BotoCoreError) as exc:
            raise aws_failure(exc, "The notice could not be published", "notify_failure") from exc

    def send_email(self, to: str, subject: str, body: str) -> None:
        """One plain-text e-mail from the configured (SES-verified) sender."""
        if not self.sender:
            raise Internal("No e-mail sender is configured", code="email_not_configured")
        try:
            self._ses().send_email(
                Source=self.sender, Destination={"ToAddresses": [to]},
                Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": body}}})
        except (ClientError, BotoCoreError) as exc:
            raise aws_failure(exc, "The e-mail could not be sent", "email_failure") from exc


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
