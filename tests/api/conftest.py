"""Fixtures shared by the API tests."""
import json

import boto3
import pytest

REGION = "ap-southeast-3"


@pytest.fixture
def tap(aws_env):
    """An SQS queue subscribed to the supervisor topic: what SNS delivered."""
    sqs, sns = boto3.client("sqs", region_name=REGION), boto3.client("sns", region_name=REGION)
    url = sqs.create_queue(QueueName="test-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=aws_env["HADIR_TOPIC_SUPERVISOR_ALERTS"], Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})

    def read():
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in msgs]
    return read
