"""Drain an SQS queue through the Chalice handler Lambda would call (the local stack, the tests
and bench/imports.py): receive, handle, delete; a failed message is made visible again at once
(what its visibility timeout does in AWS, without the wait)."""
from __future__ import annotations

from typing import Any


def drain(sqs: Any, queue_name: str, handler_name: str, *, max_rounds: int = 10_000,
          batch: int = 1) -> tuple[int, int]:
    """(messages handled, handler failures) until the queue is empty or ``max_rounds``."""
    from chalice.app import SQSEvent

    import app as app_module
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    handler = app_module.app.handler_map[handler_name]
    handled = failed = 0
    for _ in range(max_rounds):
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch, WaitTimeSeconds=0).get("Messages", [])
        if not msgs:
            break
        event = {"Records": [{"body": m["Body"], "receiptHandle": m["ReceiptHandle"], "messageId": m["MessageId"],
                              "attributes": {}, "messageAttributes": {}, "eventSourceARN": "", "awsRegion": ""}
                             for m in msgs]}
        try:
            handler.func(SQSEvent(event, None)) if hasattr(handler, "func") else handler(event, None)
        except Exception:  # noqa: BLE001 - as Lambda: the batch is not deleted, SQS redelivers it
            failed += 1
            for m in msgs:
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
            continue
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
        handled += len(msgs)
    return handled, failed
