"""The AWS calls of the adapters, per method, and the IAM actions each kind of function needs.

Adapters take their clients as providers and call them as ``self._<service>().<method>(``; a
method's calls include those of the same class's methods it calls (``self._sync_groups(``).
"""
from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
ADAPTERS = ROOT / "chalicelib" / "adapters"
_PROVIDER_CALL = r'self\._([a-z0-9_]+)\(\)\.(\w+)\(\s*(?:"(\w+)")?'
_NAMED_OPERATION = ("get_paginator", "generate_presigned_url")  # the operation is the argument
# boto3 method -> IAM actions where they differ (S3 names its permissions per object/bucket);
# S3 under SSE-KMS also needs the key: writes GenerateDataKey, reads Decrypt.
IAM_ACTIONS = {
    ("s3", "head_object"): ("s3:GetObject", "kms:Decrypt"),
    ("s3", "get_object"): ("s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt"),  # a version named
    ("s3", "put_object"): ("s3:PutObject", "kms:GenerateDataKey"),
    ("s3", "generate_presigned_post"): ("s3:PutObject", "kms:GenerateDataKey"),
    ("s3", "copy_object"): ("s3:PutObject", "s3:GetObject", "kms:GenerateDataKey", "kms:Decrypt"),
    ("s3", "delete_objects"): ("s3:DeleteObject",),
    ("s3", "list_objects_v2"): ("s3:ListBucket",),
    ("s3", "list_object_versions"): ("s3:ListBucketVersions",),
    ("cognito-idp", "initiate_auth"): (),  # public API: the user's own password
    ("lambda", "invoke"): ("lambda:InvokeFunction",),
    ("sqs", "send_message_batch"): ("sqs:SendMessage",),
}
# What Lambda itself does with a function's role, besides the code's calls.
RUNTIME = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
           "xray:PutTraceSegments", "xray:PutTelemetryRecords")
PLATFORM = {"absence": ("sqs:SendMessage",), "export": ("sqs:SendMessage",),  # failed runs' DLQ
            "email": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                      "sqs:GetQueueAttributes"),  # the event source mapping
            "import": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                       "sqs:GetQueueAttributes"),  # the import jobs' event source mapping
            "frames": ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                       "dynamodb:ListStreams",  # the sessions stream's event source mapping,
                       "sqs:SendMessage")}  # and its failed batches' DLQ
# An API call recorded at run time (botocore operation) -> IAM action, where they differ.
OPERATION_ACTIONS = {("s3", "HeadObject"): "s3:GetObject", ("s3", "ListObjectsV2"): "s3:ListBucket",
                     ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
                     ("s3", "DeleteObjects"): "s3:DeleteObject", ("sqs", "SendMessageBatch"): "sqs:SendMessage"}


def provider_calls(text: str) -> set[tuple[str, str]]:
    """(service, method) of every ``self._<service>().<method>(`` call in ``text``."""
    import boto3
    services = set(boto3.session.Session().get_available_services())
    calls = set()
    for attr, method, arg in re.findall(_PROVIDER_CALL, text):
        service = attr.replace("_", "-")
        if service in services:
            calls.add((service, arg if method in _NAMED_OPERATION and arg else method))
    return calls


def adapter_methods() -> dict[str, set[tuple[str, str]]]:
    """``Class.method`` -> the AWS calls it makes, through the class's own methods too."""
    direct: dict[str, set[tuple[str, str]]] = {}
    uses: dict[str, set[str]] = {}
    for path in sorted(ADAPTERS.glob("*.py")):
        text = path.read_text()
        for cls in ast.parse(text).body:
            if not isinstance(cls, ast.ClassDef):
                continue
            for fn in cls.body:
                if isinstance(fn, ast.FunctionDef):
                    source = ast.get_source_segment(text, fn) or ""
                    name = f"{cls.name}.{fn.name}"
                    direct[name] = provider_calls(source)
                    uses[name] = {f"{cls.name}.{m}" for m in re.findall(r"self\.(\w+)\(", source)}
    closed = {}
    for name in direct:
        seen, todo = set(), [name]
        while todo:
            m = todo.pop()
            if m in seen or m not in direct:
                continue
            seen.add(m)
            todo += uses[m]
        closed[name] = set().union(*(direct[m] for m in seen))
    return closed


def reached(patterns: tuple[str, ...]) -> dict[str, set[tuple[str, str]]]:
    methods = adapter_methods()
    out = {}
    for p in patterns:
        cls, _, method = p.partition(".")
        found = {k: v for k, v in methods.items()
                 if k.split(".")[0] == cls and (method == "*" or k.split(".")[1] == method)}
        assert found, f"{p}: no such adapter method"
        out.update(found)
    return out


def actions_of(calls: set[tuple[str, str]]) -> set[str]:
    import boto3
    actions: set[str] = set()
    for service, method in calls:
        if (service, method) in IAM_ACTIONS:
            actions |= set(IAM_ACTIONS[(service, method)])
            continue
        api = boto3.client(service, region_name="ap-southeast-3").meta.method_to_api_mapping
        assert method in api, (service, method)
        actions.add(f"{service}:{api[method]}")
    return actions


def needed_actions(kind: str, patterns: tuple[str, ...]) -> set[str]:
    """Every action (DynamoDB aside) a role of ``kind`` needs: its code's, Lambda's own."""
    calls = set().union(*reached(patterns).values())
    return actions_of(calls) | set(RUNTIME) | set(PLATFORM.get(kind, ()))
