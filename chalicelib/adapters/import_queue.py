"""The import job's steps on SQS (queue ``import-jobs``, consumed by ``process_import``)."""
from __future__ import annotations

import json
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.aws import aws_failure
from chalicelib.common.errors import JsonObject

_BATCH = 10  # SendMessageBatch's limit


class SqsImportQueue:
    def __init__(self, sqs_provider: Callable[[], Any], queue_name: str):
        self._sqs = sqs_provider
        self.queue_name = queue_name
        self._url: str | None = None

    def send(self, messages: list[JsonObject]) -> None:
        """Every message sent, or Unavailable ``import_unavailable`` (sending again is harmless:
        each step is idempotent)."""
        try:
            url = self._queue_url()
            for i in range(0, len(messages), _BATCH):
                chunk = messages[i:i + _BATCH]
                out = self._sqs().send_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(n), "MessageBody": json.dumps(m, separators=(",", ":"))}
                    for n, m in enumerate(chunk)])
                if out.get("Failed"):
                    raise ClientError({"Error": {"Code": "InternalError", "Message": "batch failed"},
                                       "ResponseMetadata": {"HTTPStatusCode": 500}}, "SendMessageBatch")
        except (ClientError, BotoCoreError) as exc:
            raise aws_failure(exc, "The import could not be queued; try again", "import_unavailable") from exc

    def _queue_url(self) -> str:
        if self._url is None:
            self._url = self._sqs().get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        return self._url
