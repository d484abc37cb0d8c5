"""The whole deployment of one agency's Hadir stage, built from chalicelib/common/resources.py."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import (
    aws_cloudwatch as cw,
    aws_cloudwatch_actions as cw_actions,
    aws_cognito as cognito,
    aws_dynamodb as ddb,
    aws_iam as iam,
    aws_kms as kms,
    aws_logs as logs,
    aws_lambda as lambda_,
    aws_s3 as s3,
    aws_s3_assets as s3_assets,
    aws_secretsmanager as secretsmanager,
    aws_sns as sns,
    aws_sns_subscriptions as subs,
    aws_sqs as sqs,
    aws_wafv2 as wafv2,
)
from chalice.utils import to_cfn_resource_name
from constructs import Construct

from chalicelib.common import resources as r
from hadir_infra import access
from hadir_infra.access import (API, ABSENCE, ANALYTICS, COGNITO_ADMIN, DDB_APPEND_ONLY, DDB_READ,
                                DDB_WRITE, EMAIL, EXPORT, FRAMES, IMPORT, STREAM_READ, Function)
from hadir_infra.analytics import Analytics
from hadir_infra.chalice_app import PrebuiltChalice
from hadir_infra.config import DeployConfig
from hadir_infra.web import API_STAGE, WebApp

_KEY_TYPES = {"S": ddb.AttributeType.STRING, "N": ddb.AttributeType.NUMBER,
              "B": ddb.AttributeType.BINARY}
JOB_TIMEOUT_S = 300
JOB_MEMORY_MB = 1024
# The frame deleter: one DeleteObjects per batch of stream records; `import app` holds ~80 MB.
FRAMES_TIMEOUT_S, FRAMES_MEMORY_MB = 60, 256
IMPORT_STEP_TIMEOUT_S = 900  # < the import queue's visibility timeout (resources.IMPORT_QUEUE)
ANALYTICS_MEMORY_MB = 2048  # the month's recap of 7,000 employees in memory, and pyarrow
_PLACEHOLDER_ROLE = "arn:aws:iam::000000000000:role/replaced-by-cdk"
WARM_UP_ENV = "HADIR_WARM_UP"  # chalicelib/common/settings.py: Settings.warm_up
LOGIN_PATH = "/~1auth~1login"  # POST /auth/login in a stage's MethodSettings ("/" written "~1")
WAF_MANAGED_RULES = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                     "AWSManagedRulesAmazonIpReputationList")

def _key(k: r.Key | None) -> ddb.Attribute | None:
    return ddb.Attribute(name=k.name, type=_KEY_TYPES[k.type]) if k else None


class HadirStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, config: DeployConfig, **kwargs: Any):
        super().__init__(scope, id, **kwargs)
        self.config = config
        keep = cdk.RemovalPolicy.RETAIN

        self.ses_sender = cdk.CfnParameter(
            self, "SesSender", type="String", default=config.ses_sender,
            description="Verified SES identity (e-mail address) supervisors' alerts come from",
            allowed_pattern=r"^[^@\s]+@[^@\s]+$")

        # --- KMS ------------------------------------------------------------------------------
        self.biometric_key = kms.Key(
            self, "BiometricKey", enable_key_rotation=True, removal_policy=keep,
            alias=f"alias/{config.name(r.BIOMETRIC_KEY.alias)}",
            description=r.BIOMETRIC_KEY.purpose, pending_window=cdk.Duration.days(30))
        self.data_key = kms.Key(
            self, "DataKey", enable_key_rotation=True, removal_policy=keep,
            alias=f"alias/{config.name(r.DATA_KEY.alias)}",
            description=r.DATA_KEY.purpose,
            pending_window=cdk.Duration.days(30))

        # --- DynamoDB -------------------------------------------------------------------------
        self.tables: dict[str, ddb.Table] = {}
        for t in r.TABLES:
            table = ddb.Table(
                self, f"Table{to_cfn_resource_name(t.logical)}",
                table_name=config.name(t.logical),
                partition_key=_key(t.hash_key), sort_key=_key(t.range_key),
                billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True),
                deletion_protection=config.deletion_protection,
                encryption=ddb.TableEncryption.AWS_MANAGED,
                time_to_live_attribute=t.ttl_attribute,
                stream=ddb.StreamViewType.NEW_AND_OLD_IMAGES if t.stream else None,
                removal_policy=keep)
            for g in t.gsis:
                table.add_global_secondary_index(
                    index_name=g.name, partition_key=_key(g.hash_key), sort_key=_key(g.range_key),
                    projection_type=ddb.ProjectionType[g.projection])
            self.tables[t.logical] = table

        # --- S3 -------------------------------------------------------------------------------
        self.uploads = s3.Bucket(
            self, "UploadsBucket",
            encryption=s3.BucketEncryption.KMS, encryption_key=self.data_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(
                id=e.rule_id, enabled=True, prefix=e.prefix, expiration=cdk.Duration.days(e.days),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(1))
                for e in r.uploads_expiry(config.raw_image_expiry_days, config.evidence_expiry_days,
                                          config.attachment_expiry_days)],
            cors=[s3.CorsRule(allowed_methods=[s3.HttpMethods.POST],
                              allowed_origins=list(config.cors_origins),
                              allowed_headers=["*"], max_age=3000)],
            removal_policy=keep)
        retention = cdk.Duration.days(config.export_retention_days)
        self.exports = s3.Bucket(
            self, "ExportsBucket",
            encryption=s3.BucketEncryption.KMS, encryption_key=self.data_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True, object_lock_enabled=True,
            object_lock_default_retention=(
                s3.ObjectLockRetention.compliance(retention)
                if config.export_retention_mode == "COMPLIANCE"
                else s3.ObjectLockRetention.governance(retention)),
            removal_policy=keep)
        self.buckets = {r.UPLOADS_BUCKET.logical: self.uploads,
                        r.EXPORTS_BUCKET.logical: self.exports}

        # --- SNS / SQS ------------------------------------------------------------------------
        self.topics = {t.logical: sns.Topic(
            self, f"Topic{to_cfn_resource_name(t.logical)}",
            topic_name=config.name(t.logical), enforce_ssl=True)
            for t in r.TOPICS}
        self.queues: dict[str, sqs.Queue] = {}
        for q in sorted(r.QUEUES, key=lambda q: q.dlq is not None):  # DLQs first
            dlq = None
            if q.dlq:
                dlq = sqs.DeadLetterQueue(queue=self.queues[q.dlq],
                                          max_receive_count=q.max_receive_count)
            queue = sqs.Queue(
                self, f"Queue{to_cfn_resource_name(q.logical)}",
                queue_name=config.name(q.logical),
                encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                visibility_timeout=cdk.Duration.seconds(q.visibility_timeout_s),
                retention_period=cdk.Duration.days(14 if q.dlq is None else 4),
                dead_letter_queue=dlq, removal_policy=cdk.RemovalPolicy.DESTROY)
            if q.subscribes_to:
                self.topics[q.subscribes_to].add_subscription(
                    subs.SqsSubscription(queue, raw_message_delivery=True))
            self.queues[q.logical] = queue
        self.dlqs = [self.queues[q.logical] for q in r.QUEUES
                     if any(o.dlq == q.logical for o in r.QUEUES)]

        # --- Cognito --------------------------------------------------------------------------
        up = r.USER_POOL
        self.user_pool = cognito.UserPool(
            self, "UserPool", user_pool_name=config.name(up.logical),
            self_sign_up_enabled=False, sign_in_aliases=cognito.SignInAliases(username=True),
            custom_attributes={a: cognito.StringAttribute(mutable=True)
                               for a in up.custom_attributes},
            password_policy=cognito.PasswordPolicy(
                min_length=max(up.password_min_length, 8), require_digits=True,
                require_lowercase=True, require_uppercase=False, require_symbols=False),
            account_recovery=cognito.AccountRecovery.NONE,
            feature_plan=cognito.FeaturePlan.LITE,
            deletion_protection=config.deletion_protection, removal_policy=keep)
        for g in up.groups:
            cognito.CfnUserPoolGroup(self, f"Group{to_cfn_resource_name(g)}",
                                     user_pool_id=self.user_pool.user_pool_id, group_name=g)
        self.client = self.user_pool.add_client(
            "AppClient", user_pool_client_name=config.name("app"),
            generate_secret=False, prevent_user_existence_errors=True,
            id_token_validity=cdk.Duration.hours(up.token_hours),
            access_token_validity=cdk.Duration.hours(up.token_hours),
            refresh_token_validity=cdk.Duration.days(up.refresh_token_days),
            auth_flows=cognito.AuthFlow(
                user_password="ALLOW_USER_PASSWORD_AUTH" in up.auth_flows))
        # users must not rewrite custom:nip (their identity) through UpdateUserAttributes
        self.client.node.default_child.write_attributes = list(up.client_write_attributes)

        # The key that pseudonymises NIPs in the logs (HMAC; chalicelib/common/logs.py), random.
        self.log_key = secretsmanager.Secret(
            self, "LogKey", secret_name=config.name(r.LOG_KEY.logical), description=r.LOG_KEY.purpose,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False))

        # --- The application ------------------------------------------------------------------
        self.app = self._chalice_app()
        self.functions = self.app.functions()
        self.kinds = access.classify(list(self.functions))
        self.import_function = next(f for f in self.kinds if f.kind == IMPORT)
        self.jobs_dlq = sqs.Queue(
            self, "JobsDlq", queue_name=config.name("jobs-dlq"),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            retention_period=cdk.Duration.days(14), removal_policy=cdk.RemovalPolicy.DESTROY)
        self.dlqs.append(self.jobs_dlq)
        self.roles: dict[str, iam.Role] = {}
        self.policies: dict[str, iam.Policy] = {}
        for kind in dict.fromkeys(f.kind for f in self.kinds):
            self._role(kind, [f for f in self.kinds if f.kind == kind])
        self._role(ANALYTICS, [access.ANALYTICS_FUNCTION])
        self._wire_functions()
        self._frames_stream()
        self.analytics_function = self._analytics_function()
        self.analytics = Analytics(self, "Analytics", exports=self.exports, key=self.data_key,
                                   agency_id=config.agency_id, stage=config.stage,
                                   workgroup_name=config.name("analytics"))
        self._schedules()
        self._exports_immutable()
        self._abuse_limits()
        self._alarms()
        self.web = WebApp(self, "Web", rest_api_id=self.app.get_resource("RestAPI").ref,
                          uploads=self.uploads, web_dir=config.web_dir,
                          tile_sources=config.map_tile_origins)

        for name, value in {
            "AppUrl": self.web.url,
            "WebBucketName": self.web.bucket.bucket_name,
            "UserPoolId": self.user_pool.user_pool_id,
            "UserPoolClientId": self.client.user_pool_client_id,
            "UploadsBucketName": self.uploads.bucket_name,
            "ExportsBucketName": self.exports.bucket_name,
            "AnalyticsDatabase": self.analytics.database_name,
            "AnalyticsWorkGroup": self.analytics.workgroup.name,
            "BiometricKeyArn": self.biometric_key.key_arn,
        }.items():
            cdk.CfnOutput(self, name, value=value)

    # ------------------------------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """What chalicelib/common/settings.py reads, with the names and ARNs of these constructs."""
        env = {
            "HADIR_STAGE": self.config.stage,
            "HADIR_AGENCY_ID": self.config.agency_id,
            "POWERTOOLS_SERVICE_NAME": "hadir",
            "POWERTOOLS_METRICS_NAMESPACE": "Hadir",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "HADIR_REVIEW_EVIDENCE_DAYS": str(self.config.evidence_expiry_days),  # = the bucket's rule
            r.BIOMETRIC_KEY.env: self.biometric_key.key_arn,
            r.DATA_KEY.env: self.data_key.key_arn,  # exports are written under it explicitly
            r.SES_SENDER_ENV: self.ses_sender.value_as_string,
            r.USER_POOL.pool_id_env: self.user_pool.user_pool_id,
            r.USER_POOL.client_id_env: self.client.user_pool_client_id,
            r.LOG_KEY.env: self.log_key.secret_arn,
        }
        if self.config.personnel_email:  # the personnel agency (BKPSDM): PP 94/2021 notices
            env["HADIR_PERSONNEL_EMAIL"] = self.config.personnel_email
        env.update({t.env: self.tables[t.logical].table_name for t in r.TABLES})
        env.update({b.env: self.buckets[b.logical].bucket_name for b in r.BUCKETS})
        env.update({q.env: self.queues[q.logical].queue_name for q in r.QUEUES})
        env.update({t.env: self.topics[t.logical].topic_arn for t in r.TOPICS})
        return env

    # --- IAM: one role per kind of function -----------------------------------------------------
    def _role(self, kind: str, fns: list[Function]) -> None:
        """A role for the functions of one kind: every action named, every resource a construct's."""
        role = iam.Role(self, f"{kind.capitalize()}Role",
                        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"Hadir {kind} functions (least privilege, written out)")
        log_groups = [cdk.Arn.format(cdk.ArnComponents(
            service="logs", resource="log-group", resource_name=f"/aws/lambda/{self.function_name(f)}",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME), self) for f in fns]
        statements = [
            iam.PolicyStatement(sid="Logs", actions=["logs:CreateLogGroup",
                                                     "logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[*log_groups, *(f"{g}:*" for g in log_groups)]),
            *self._tables_statements(),
            *self._kind_statements(kind),
            iam.PolicyStatement(sid="Tracing", actions=["xray:PutTraceSegments",
                                                        "xray:PutTelemetryRecords"],
                                resources=["*"]),  # X-Ray has no resource-level permissions
        ]
        self.roles[kind] = role
        self.policies[kind] = iam.Policy(self, f"{kind.capitalize()}Policy", roles=[role],
                                         statements=statements, policy_name=self.config.name(kind))

    def _tables_statements(self) -> list[iam.PolicyStatement]:
        table_arns = [t.table_arn for name, t in self.tables.items() if name != r.AUDIT.logical]
        index_arns = [f"{self.tables[t.logical].table_arn}/index/{g.name}"
                      for t in r.TABLES for g in t.gsis]
        return [
            iam.PolicyStatement(sid="TablesReadWrite", actions=DDB_READ + DDB_WRITE,
                                resources=table_arns),
            iam.PolicyStatement(sid="AuditAppendOnly", actions=DDB_APPEND_ONLY,
                                resources=[self.tables[r.AUDIT.logical].table_arn]),
            iam.PolicyStatement(sid="IndexesQuery", actions=["dynamodb:Query"],
                                resources=index_arns)]

    def _kind_statements(self, kind: str) -> list[iam.PolicyStatement]:
        """What the code of one kind of function calls besides DynamoDB (see access.py)."""
        def allow(sid: str, actions: list[str], resources: list[str], **kw: Any) -> iam.PolicyStatement:
            return iam.PolicyStatement(sid=sid, actions=actions, resources=resources, **kw)

        notify = allow("Notify", ["sns:Publish"], [t.topic_arn for t in self.topics.values()])
        job_failures = allow("JobFailures", ["sqs:SendMessage"], [self.jobs_dlq.queue_arn])
        import_queue = self.queues[r.IMPORT_QUEUE.logical].queue_arn
        consume = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                   "sqs:GetQueueAttributes"]
        users = allow("Users", COGNITO_ADMIN, [self.user_pool.user_pool_arn])
        log_key = allow("LogKey", ["secretsmanager:GetSecretValue"], [self.log_key.secret_arn])
        invoke_analytics = allow("InvokeAnalytics", ["lambda:InvokeFunction"], [self._function_arn(
            access.ANALYTICS_FUNCTION)])
        if kind == API:
            api = [
                allow("BiometricTemplates", ["kms:GenerateDataKey", "kms:Decrypt"],  # envelope
                      [self.biometric_key.key_arn]),
                allow("S3DataKey", ["kms:Decrypt", "kms:GenerateDataKey"], [self.data_key.key_arn]),
                allow("Uploads", ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                      [self.uploads.arn_for_objects("*")]),
                # auditors' listings and presigned downloads of a named version; the analytics
                # function alone writes (the recap, POST /admin/recaps, runs there)
                allow("ExportsRead", ["s3:GetObject", "s3:GetObjectVersion"],
                      [self.exports.arn_for_objects("*")]),
                allow("ExportsList", ["s3:ListBucket", "s3:ListBucketVersions"], [self.exports.bucket_arn]),
                notify, log_key, invoke_analytics,
                allow("InvokeImport", ["lambda:InvokeFunction"], [self._function_arn(self.import_function)]),
                allow("ImportQueueSend", ["sqs:SendMessage", "sqs:GetQueueUrl"], [import_queue])]
            return api
        if kind == ABSENCE:
            return [notify, job_failures, log_key]
        if kind == EXPORT:  # the analytics function writes the day's run
            return [invoke_analytics, job_failures, log_key]
        if kind == ANALYTICS:  # PutObject under SSE-KMS needs GenerateDataKey; reading the last
            # run's manifest (the chain) Decrypt; the recap's PP 94/2021 notices
            return [allow("S3DataKey", ["kms:GenerateDataKey", "kms:Decrypt"], [self.data_key.key_arn]),
                    allow("ExportsWrite", ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"],
                          [self.exports.arn_for_objects("*")]),
                    allow("ExportsList", ["s3:ListBucket", "s3:ListBucketVersions"], [self.exports.bucket_arn]),
                    notify, log_key]
        if kind == EMAIL:  # Lambda's event source mapping consumes with the function's role
            return [log_key, allow("QueuesConsume", consume,
                                   [self.queues[q.logical].queue_arn for q in r.QUEUES
                                    if q.handler and access.queue_kind(q) == EMAIL]),
                allow("SendEmail", ["ses:SendEmail"], [cdk.Arn.format(cdk.ArnComponents(
                    service="ses", resource="identity", resource_name="*"), self)],
                    conditions={"StringEquals": {"ses:FromAddress": self.ses_sender.value_as_string}})]
        if kind == FRAMES:  # the sessions stream's event source mapping reads with this role
            return [log_key, job_failures,
                    allow("SessionsStream", STREAM_READ, [self.tables[r.SESSIONS.logical].table_stream_arn]),
                    allow("DeleteFrames", ["s3:DeleteObject"],
                          [self.uploads.arn_for_objects(f"{p}*") for p in r.FRAME_PREFIXES])]
        # IMPORT: the synchronous import, and the import jobs (their file, their queue)
        return [users, log_key,
                allow("ImportFiles", ["s3:GetObject", "s3:GetObjectVersion"],
                      [self.uploads.arn_for_objects(f"{r.IMPORT_PREFIX}*")]),
                allow("ImportFilesKey", ["kms:Decrypt"], [self.data_key.key_arn]),
                allow("ImportQueue", [*consume, "sqs:SendMessage", "sqs:GetQueueUrl"], [import_queue])]

    def _function_arn(self, fn: Function) -> str:
        return cdk.Arn.format(cdk.ArnComponents(service="lambda", resource="function",
                                                resource_name=self.function_name(fn),
                                                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME), self)

    def _analytics_function(self) -> lambda_.CfnFunction:
        """The recap and the daily export (analytics.py), from their own package (pyarrow does not
        fit beside the face engine): not a Chalice function, the same settings, its own role."""
        zip_path = self.config.analytics_zip
        if zip_path is None or not zip_path.is_file():
            raise FileNotFoundError(f"{zip_path} not found: run `bash scripts/package.sh` first "
                                    "(or pass -c analytics_zip=PATH)")
        asset = s3_assets.Asset(self, "AnalyticsPackage", path=str(zip_path))
        f = access.ANALYTICS_FUNCTION
        fn = lambda_.CfnFunction(
            self, f.logical_id, function_name=self.function_name(f), role=self.roles[ANALYTICS].role_arn,
            runtime="python3.12", architectures=["x86_64"], handler=access.ANALYTICS_HANDLER,
            code=lambda_.CfnFunction.CodeProperty(s3_bucket=asset.s3_bucket_name, s3_key=asset.s3_object_key),
            timeout=JOB_TIMEOUT_S, memory_size=ANALYTICS_MEMORY_MB,
            environment=lambda_.CfnFunction.EnvironmentProperty(variables=self.environment()),
            tracing_config=lambda_.CfnFunction.TracingConfigProperty(mode="Active"),
            reserved_concurrent_executions=self._reserved_concurrency(ANALYTICS))
        fn.node.add_dependency(self.policies[ANALYTICS])
        logs.CfnLogGroup(self, f"{f.logical_id}Logs", log_group_name=cdk.Fn.join("", ["/aws/lambda/", fn.ref]),
                         retention_in_days=self.config.log_retention_days)
        return fn

    def function_name(self, fn: Function) -> str:
        """Functions are named (hadir-<agency>-<stage>-<name>): the log groups and the import's
        ARN are known before the functions exist, and no two agencies' names meet."""
        return self.config.name(fn.short_name)

    def _chalice_app(self) -> PrebuiltChalice:
        stage_config: dict[str, Any] = {
            "manage_iam_role": False,
            "iam_role_arn": _PLACEHOLDER_ROLE,
            "autogen_policy": False,
            "api_gateway_stage": API_STAGE,  # = the web app's /api/* behaviour
            "environment_variables": {},
        }
        # app.py resolves queue names at import time (settings.queue_name): import it as this stage
        os.environ["HADIR_STAGE"] = self.config.stage
        os.environ[r.AGENCY_ENV] = self.config.agency_id
        for q in r.QUEUES:
            os.environ[q.env] = self.config.name(q.logical)
        if self.config.lambda_memory_mb:
            stage_config["lambda_memory_size"] = self.config.lambda_memory_mb

        return PrebuiltChalice(self, "App", source_dir=str(_repo_dir()),
                               lambda_zip=self.config.lambda_zip, stage_config=stage_config)

    def _wire_functions(self) -> None:
        env = self.environment()
        for f in self.kinds:
            fn = self.app.get_resource(f.logical_id)
            fn.add_override("Properties.FunctionName", self.function_name(f))
            fn.add_override("Properties.Role", self.roles[f.kind].role_arn)
            own = dict(env)
            if f.kind == API and self.import_function:  # by name: a Ref would be a cycle at most
                own[access.IMPORT_FUNCTION_ENV] = self.function_name(self.import_function)
            if f.kind == API:  # the face models load during the import (the other kinds use none)
                own[WARM_UP_ENV] = "true"
            if f.kind in access.ANALYTICS_CALLERS:
                own[access.ANALYTICS_FUNCTION_ENV] = self.function_name(access.ANALYTICS_FUNCTION)
            fn.add_override("Properties.Environment.Variables", own)
            fn.add_override("Properties.Tracing", "Active")
            # Lambda would create the log group itself, kept forever; this one has a retention.
            logs.CfnLogGroup(self, f"{f.logical_id}Logs",
                             log_group_name=cdk.Fn.join("", ["/aws/lambda/", fn.ref]),
                             retention_in_days=self.config.log_retention_days)
            if f.kind in (ABSENCE, EXPORT):  # walk every employee of a zone; load no face model
                fn.add_override("Properties.Timeout", JOB_TIMEOUT_S)
                fn.add_override("Properties.MemorySize", JOB_MEMORY_MB)
            if f.kind == FRAMES:
                fn.add_override("Properties.Timeout", FRAMES_TIMEOUT_S)
                fn.add_override("Properties.MemorySize", FRAMES_MEMORY_MB)
            if f.handler == r.IMPORT_QUEUE.handler:  # a batch under throttling; within the visibility
                fn.add_override("Properties.Timeout", IMPORT_STEP_TIMEOUT_S)
                fn.add_override("Properties.MemorySize", JOB_MEMORY_MB)
            reserved = self._reserved_concurrency(f.kind)
            if reserved:
                fn.add_override("Properties.ReservedConcurrentExecutions", reserved)
                # SQS pollers beyond the reservation would be throttled, and the throttled
                # messages counted as receives until the DLQ: poll no faster than it allows
                for name, event in self.functions[f.logical_id]["Properties"].get("Events", {}).items():
                    if event["Type"] == "SQS":
                        fn.add_override(f"Properties.Events.{name}.Properties.ScalingConfig",
                                        {"MaximumConcurrency": reserved})
            # SQS event sources check the role's permissions on creation; the queues themselves
            # are referenced by the environment variables, so CloudFormation creates them first.
            fn.node.add_dependency(self.policies[f.kind])

    def _frames_stream(self) -> None:
        """The sessions table's stream drives delete_used_frames, filtered to the one change that
        matters (a session turning used: a check-in or an enrolment read its frames), so the raw
        frames go seconds after, not at the lifecycle's day. A batch that keeps failing is sent
        to the jobs' alarmed dead-letter queue; the lifecycle rule still removes its frames."""
        fn = next(f for f in self.kinds if f.kind == FRAMES)
        used = {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"used": {"BOOL": [True]}},
                                                      "OldImage": {"used": {"BOOL": [False]}}}}
        mapping = lambda_.CfnEventSourceMapping(
            self, "FramesStream", function_name=self.app.get_resource(fn.logical_id).ref,
            event_source_arn=self.tables[r.SESSIONS.logical].table_stream_arn,
            starting_position="LATEST", batch_size=100, maximum_batching_window_in_seconds=0,
            maximum_retry_attempts=2, bisect_batch_on_function_error=True,
            maximum_record_age_in_seconds=3600,
            filter_criteria=lambda_.CfnEventSourceMapping.FilterCriteriaProperty(
                filters=[lambda_.CfnEventSourceMapping.FilterProperty(pattern=json.dumps(used))]),
            destination_config=lambda_.CfnEventSourceMapping.DestinationConfigProperty(
                on_failure=lambda_.CfnEventSourceMapping.OnFailureProperty(
                    destination=self.jobs_dlq.queue_arn)))
        mapping.node.add_dependency(self.policies[FRAMES])  # the mapping checks the role on creation

    def _reserved_concurrency(self, kind: str) -> int | None:
        """The jobs, the queue consumer and the import keep their own concurrency, so a flood of
        API requests cannot starve them; the API may be capped too (api_reserved_concurrency)."""
        if kind == API:
            return self.config.api_concurrency
        return self.config.job_concurrency or None

    def _schedules(self) -> None:
        """One EventBridge rule per job and zone (resources.SCHEDULES), generated by chalice from
        ``@app.schedule`` in UTC cron, which is exact: Indonesia has no daylight saving. Checked
        here so that app.py and resources.py cannot drift apart."""
        for s in r.SCHEDULES:
            logical_id = to_cfn_resource_name(s.handler)
            if logical_id not in self.functions:
                raise RuntimeError(f"schedule {s.name}: app.py defines no function {s.handler!r}")
            events = self.functions[logical_id]["Properties"].get("Events", {})
            rules = [e["Properties"]["Schedule"] for e in events.values() if e["Type"] == "Schedule"]
            if rules != [s.cron]:
                raise RuntimeError(f"{s.handler}: chalice rules {rules} are not [{s.cron}]")
        self._job_failures([to_cfn_resource_name(s.handler) for s in r.SCHEDULES])

    def _job_failures(self, logical_ids: list[str]) -> None:
        """EventBridge invokes scheduled functions asynchronously: after Lambda's retries, a failed
        run goes to a dead-letter queue (alarmed) instead of vanishing."""
        for logical_id in logical_ids:
            fn = self.app.get_resource(logical_id)
            kind = next(f.kind for f in self.kinds if f.logical_id == logical_id)
            config = lambda_.CfnEventInvokeConfig(
                self, f"{logical_id}InvokeConfig", function_name=fn.ref, qualifier="$LATEST",
                maximum_retry_attempts=2, maximum_event_age_in_seconds=3600,
                destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                    on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(
                        destination=self.jobs_dlq.queue_arn)))
            config.node.add_dependency(self.policies[kind])

    # --- exports: written once, never deleted or overwritten by the application -----------------
    def _exports_immutable(self) -> None:
        """Object Lock keeps every version; these denies keep the application roles from deleting
        a version, shortening its retention or overwriting a key: a PutObject must carry
        ``If-None-Match: *`` (S3 conditional writes), so an existing export is never replaced."""
        objects = self.exports.arn_for_objects("*")
        self.exports.add_to_resource_policy(iam.PolicyStatement(
            sid="WriteOnceOnly", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
            actions=["s3:PutObject"], resources=[objects],
            conditions={"Null": {"s3:if-none-match": "true"}}))
        self.exports.add_to_resource_policy(iam.PolicyStatement(
            sid="ApplicationNeverDeletes", effect=iam.Effect.DENY,
            principals=[iam.ArnPrincipal(role.role_arn) for role in self.roles.values()],
            actions=["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention",
                     "s3:BypassGovernanceRetention", "s3:PutObjectLegalHold"],
            resources=[objects]))

    # --- abuse limits ---------------------------------------------------------------------------
    def _abuse_limits(self) -> None:
        """API Gateway throttles the stage and, tighter, the login; an optional WAF web ACL."""
        api, login = self.config.api_throttle, self.config.login_throttle
        rest_api = self.app.get_resource("RestAPI")
        rest_api.add_override("Properties.MethodSettings", [
            {"ResourcePath": "/*", "HttpMethod": "*",
             "ThrottlingRateLimit": api.rate, "ThrottlingBurstLimit": api.burst},
            {"ResourcePath": LOGIN_PATH, "HttpMethod": "POST",
             "ThrottlingRateLimit": login.rate, "ThrottlingBurstLimit": login.burst}])
        rest_api.add_override("Properties.GatewayResponses", gateway_responses())
        if self.config.waf:
            self._web_acl(rest_api)

    def _web_acl(self, rest_api: Any) -> None:
        def managed(name: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name, priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=name)),
                visibility_config=_visibility(name))

        # CloudFront forwards to the API: the client's address is the first of X-Forwarded-For
        rate = wafv2.CfnWebACL.RuleProperty(
            name="RatePerClientIp", priority=0, action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=self.config.waf_rate_limit, aggregate_key_type="FORWARDED_IP",
                    forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                        header_name="X-Forwarded-For", fallback_behavior="MATCH"))),
            visibility_config=_visibility("RatePerClientIp"))
        acl = wafv2.CfnWebACL(
            self, "ApiWebAcl", name=self.config.name("api"), scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(self.config.name("api")),
            rules=[rate, *(managed(n, i) for i, n in enumerate(WAF_MANAGED_RULES, start=1))])
        stage_arn = cdk.Fn.join("", [
            "arn:", cdk.Aws.PARTITION, ":apigateway:", cdk.Aws.REGION, "::/restapis/",
            rest_api.ref, "/stages/", cdk.Fn.ref(f"{rest_api.logical_id}.Stage")])  # SAM's stage
        wafv2.CfnWebACLAssociation(self, "ApiWebAclAssociation", resource_arn=stage_arn,
                                   web_acl_arn=acl.attr_arn)

    def _alarms(self) -> None:
        topic = sns.Topic(self, "AlarmTopic", topic_name=self.config.name("alarms"),
                          enforce_ssl=True)
        if self.config.alarm_email:
            topic.add_subscription(subs.EmailSubscription(self.config.alarm_email))
        action = cw_actions.SnsAction(topic)
        five_min = cdk.Duration.minutes(5)
        names = {i: self.app.get_resource(i).ref for i in self.functions}
        names[access.ANALYTICS_FUNCTION.logical_id] = self.analytics_function.ref
        for logical_id, name in names.items():
            for metric in ("Errors", "Throttles"):
                alarm = cw.Alarm(
                    self, f"{logical_id}{metric}Alarm",
                    alarm_description=f"{logical_id}: Lambda {metric.lower()}",
                    metric=cw.Metric(namespace="AWS/Lambda", metric_name=metric,
                                     dimensions_map={"FunctionName": name},
                                     statistic="Sum", period=five_min),
                    threshold=1, evaluation_periods=1,
                    comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
                alarm.add_alarm_action(action)
        for queue in self.dlqs:
            alarm = cw.Alarm(
                self, f"{queue.node.id}DepthAlarm",
                alarm_description="Messages are waiting in a dead-letter queue",
                metric=queue.metric_approximate_number_of_messages_visible(
                    period=five_min, statistic="Maximum"),
                threshold=1, evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
            alarm.add_alarm_action(action)


# What API Gateway answers itself (no function runs) in the application's envelope and codes
# (chalicelib/common/http.py), not its own {"message": ...}: type -> (status, code, message).
GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "route_not_found", "No such route"),  # an unknown path
    "THROTTLED": (429, "throttled", "Too many requests; retry in a moment"),
    "REQUEST_TOO_LARGE": (413, "body_too_large", "The request is too large"),
    "WAF_FILTERED": (403, "request_blocked", "The request was blocked"),
    "DEFAULT_4XX": (None, "bad_request", "The request cannot be served"),
    "DEFAULT_5XX": (None, "unavailable", "The service is unavailable; retry later"),
}


def gateway_responses() -> dict[str, Any]:
    """SAM ``GatewayResponses``: each of API Gateway's own refusals as a Hadir error body."""
    out: dict[str, Any] = {}
    for kind, (status, code, message) in GATEWAY_RESPONSES.items():
        body = json.dumps({"error": {"code": code, "message": message, "details": {}}})
        headers = {"Content-Type": "'application/json'"}
        if kind == "THROTTLED":
            headers["Retry-After"] = "'1'"
        out[kind] = {"ResponseTemplates": {"application/json": body},
                     "ResponseParameters": {"Headers": headers},
                     **({"StatusCode": status} if status else {})}
    return out


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True)


def _repo_dir() -> Path:
    return Path(os.environ.get("HADIR_APP_DIR") or Path(__file__).resolve().parents[2])
