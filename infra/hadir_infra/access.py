"""Who may do what: one IAM role per kind of function, each with only the calls its code makes.

The functions of the Chalice app share one zip but not one role:

- ``api``: every route (uploads, templates, exports read for auditors, notifications, login);
  it writes no export (the monthly recap runs in the analytics function, which it invokes), holds
  no Cognito admin right once the import has its own function, and invokes that function.
- ``absence``: the absence jobs (days, notices published to the supervisors' topic).
- ``export``: the scheduled export jobs, which invoke the analytics function for their zone.
- ``analytics``: the monthly recap and the daily export (CSV + Parquet, pyarrow: its own package,
  not a Chalice function), the only writer of the exports bucket.
- ``email``: the queue consumer sending the supervisors' e-mails through SES.
- ``import``: the employee import (Cognito admin calls), invoked by the API, and the import
  jobs' queue consumer (``process_import``: reads the file from the uploads bucket's
  ``imports/``, queues the job's batches), to which the API queues a job's first step.
- ``frames``: the sessions table's stream consumer (``delete_used_frames``), deleting a used
  upload session's raw frames under ``checkin/`` and ``enrolment/`` only.

DynamoDB access is the same for every role (PynamoDB; the audit table append-only).
"""
from __future__ import annotations

from dataclasses import dataclass

from chalice.utils import to_cfn_resource_name

from chalicelib.common import resources as r

API, ABSENCE, EXPORT, EMAIL, IMPORT, ANALYTICS, FRAMES = (
    "api", "absence", "export", "email", "import", "analytics", "frames")
KINDS = (API, ABSENCE, EXPORT, EMAIL, IMPORT, ANALYTICS, FRAMES)
API_LOGICAL_ID = "APIHandler"  # chalice's REST API function
IMPORT_HANDLER = "import_employees"  # @events.lambda_function(name=...) in chalicelib/api/events.py
IMPORT_FUNCTION_ENV = "HADIR_IMPORT_FUNCTION"  # the API invokes the import by this name
RECAP_PREFIX = "recap/"  # the monthly recap's runs (services/recap.py)
ANALYTICS_FUNCTION_ENV = "HADIR_ANALYTICS_FUNCTION"  # the API and the export jobs invoke it by this name
ANALYTICS_HANDLER = "analytics.handler"  # analytics.py, in its own package (requirements-analytics.txt)
ANALYTICS_CALLERS = ("api", "export")

# Only what chalicelib calls (transactions need the per-item actions; PynamoDB describes tables).
# BatchGetItem: reads by key (a check-in's checkin_reads, the recap's days_of, /team/now's ping_states).
DDB_READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
            "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"]
DDB_WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
# The audit log is append-only for the application: it may add entries (PutItem, which IAM also
# checks for a put inside TransactWriteItems) and read them, never change or delete one.
DDB_APPEND_ONLY = ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:DescribeTable"]
# What Lambda's event source mapping calls with the stream consumer's role (the sessions stream).
STREAM_READ = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
               "dynamodb:ListStreams"]
COGNITO_ADMIN = ["cognito-idp:AdminCreateUser", "cognito-idp:AdminUpdateUserAttributes",
                 "cognito-idp:AdminSetUserPassword", "cognito-idp:AdminListGroupsForUser",
                 "cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminRemoveUserFromGroup"]
# Never granted to an application role on the exports (asserted by tests/infra/test_synth.py).
EXPORTS_NEVER = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention",
                 "s3:BypassGovernanceRetention", "s3:PutObjectLegalHold", "s3:PutBucketPolicy",
                 "s3:PutBucketObjectLockConfiguration", "s3:PutLifecycleConfiguration",
                 "s3:PutBucketVersioning"]


@dataclass(frozen=True)
class Function:
    logical_id: str  # in chalice's SAM template
    handler: str  # the chalice function name
    kind: str

    @property
    def short_name(self) -> str:
        """The part of the physical function name after hadir-<agency>-<stage>-."""
        return self.kind if self.kind in (API, ANALYTICS) else self.handler.replace("_", "-")


def queue_kind(q: r.Queue) -> str:
    """The kind of a queue's consumer: the import jobs' holds the Cognito admin rights."""
    return IMPORT if q is r.IMPORT_QUEUE else EMAIL


def classify(logical_ids: list[str]) -> list[Function]:
    """The kind of every function chalice generated; an unknown one stops synthesis (it would
    otherwise run with no role, or with another function's)."""
    known = {API_LOGICAL_ID: ("api_handler", API),
             to_cfn_resource_name(IMPORT_HANDLER): (IMPORT_HANDLER, IMPORT),
             to_cfn_resource_name(r.FRAMES_HANDLER): (r.FRAMES_HANDLER, FRAMES)}
    for s in r.SCHEDULES:
        known[to_cfn_resource_name(s.handler)] = (
            s.handler, ABSENCE if s.handler.startswith("detect_absence") else EXPORT)
    for q in r.QUEUES:
        if q.handler:
            known[to_cfn_resource_name(q.handler)] = (q.handler, queue_kind(q))
    unknown = sorted(set(logical_ids) - set(known))
    if unknown:
        raise RuntimeError(f"functions {unknown} have no role in hadir_infra/access.py")
    return [Function(k, *known[k]) for k in logical_ids]


# What the code of each kind reaches, as adapter methods (``Class.method``, ``Class.*`` for all):
# tests/infra derive the AWS calls from these methods' code, assert each role grants exactly their
# IAM actions, and record the calls the jobs and the consumer really make against moto.
LOGS = "SecretsLogKey.*"  # every function logs, pseudonymising NIPs with the log key
REACHES: dict[str, tuple[str, ...]] = {
    API: ("S3Uploads.*", "KmsVault.*", "S3Exports.list", "S3Exports.get", "S3Exports.download_url",
          "SnsSesNotifier.publish", "CognitoDirectory.login", "CognitoDirectory.refresh", "LambdaImports.run", "LambdaAnalytics.recap",
          "SqsImportQueue.send", LOGS),
    ABSENCE: ("SnsSesNotifier.publish", LOGS),
    EXPORT: ("LambdaAnalytics.export_day", LOGS),
    # the recap and the export chain to the last run (list, get); the recap tells the personnel agency
    ANALYTICS: ("S3Exports.put", "S3Exports.list", "S3Exports.get", "SnsSesNotifier.publish", LOGS),
    EMAIL: ("SnsSesNotifier.send_email", LOGS),
    IMPORT: ("CognitoDirectory.upsert_user", "S3Uploads.stream", "SqsImportQueue.send", LOGS),
    FRAMES: ("S3Uploads.discard", LOGS),
}


ANALYTICS_FUNCTION = Function("AnalyticsFunction", ANALYTICS_HANDLER, ANALYTICS)  # defined by the stack itself
