"""Supervisor notifications: one SNS message per supervisor, fanned out to an SQS queue whose
consumer sends the SES e-mail: ``SnsSesNotifier`` is the Notifier port (once-only delivery is the
use case's, ``services/notices.py``)."""
from __future__ import annotations

import json
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.aws import aws_failure
from chalicelib.common.errors import Internal, JsonObject

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
