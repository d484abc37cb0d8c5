"""The whole deployment of one agency's Hadir stage, built from chalicelib/common/resources.py."""
from __future__ import annotations

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
    aws_sns as sns,
    aws_sns_subscriptions as subs,
    aws_sqs as sqs,
)
from chalice.utils import to_cfn_resource_name
from constructs import Construct

from chalicelib.common import resources as r
from hadir_infra.chalice_app import PrebuiltChalice
from hadir_infra.config import DeployConfig
from hadir_infra.web import API_STAGE, WebApp

_KEY_TYPES = {"S": ddb.AttributeType.STRING, "N": ddb.AttributeType.NUMBER,
              "B": ddb.AttributeType.BINARY}
JOB_TIMEOUT_S = 300
JOB_MEMORY_MB = 1024
_PLACEHOLDER_ROLE = "arn:aws:iam::000000000000:role/replaced-by-cdk"

# Only what chalicelib calls (transactions need the per-item actions; PynamoDB describes tables).
DDB_READ = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:ConditionCheckItem",
            "dynamodb:DescribeTable"]
DDB_WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
# The audit log is append-only for the application: it may add entries (PutItem, which IAM also
# checks for a put inside TransactWriteItems) and read them, never change or delete one.
DDB_APPEND_ONLY = ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:DescribeTable"]
COGNITO_ADMIN = ["cognito-idp:AdminCreateUser", "cognito-idp:AdminUpdateUserAttributes",
                 "cognito-idp:AdminSetUserPassword", "cognito-idp:AdminListGroupsForUser",
                 "cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminRemoveUserFromGroup"]


def _key(k: r.Key | None) -> ddb.Attribute | None:
    return ddb.Attribute(name=k.name, type=_KEY_TYPES[k.type]) if k else None


class HadirStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, config: DeployConfig, **kwargs: Any):
        super().__init__(scope, id, **kwargs)
        self.config = config
        stage = config.stage
        keep = cdk.RemovalPolicy.RETAIN

        self.ses_sender = cdk.CfnParameter(
            self, "SesSender", type="String", default=config.ses_sender,
            description="Verified SES identity (e-mail address) supervisors' alerts come from",
            allowed_pattern=r"^[^@\s]+@[^@\s]+$")

        # --- KMS ------------------------------------------------------------------------------
        self.biometric_key = kms.Key(
            self, "BiometricKey", enable_key_rotation=True, removal_policy=keep,
            alias=f"alias/{r.physical_name(stage, r.BIOMETRIC_KEY.alias)}",
            description=r.BIOMETRIC_KEY.purpose, pending_window=cdk.Duration.days(30))
        self.data_key = kms.Key(
            self, "DataKey", enable_key_rotation=True, removal_policy=keep,
            alias=f"alias/{r.physical_name(stage, r.DATA_KEY.alias)}",
            description=r.DATA_KEY.purpose,
            pending_window=cdk.Duration.days(30))

        # --- DynamoDB -------------------------------------------------------------------------
        self.tables: dict[str, ddb.Table] = {}
        for t in r.TABLES:
            table = ddb.Table(
                self, f"Table{to_cfn_resource_name(t.logical)}",
                table_name=r.physical_name(stage, t.logical),
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
            topic_name=r.physical_name(stage, t.logical), enforce_ssl=True)
            for t in r.TOPICS}
        self.queues: dict[str, sqs.Queue] = {}
        for q in sorted(r.QUEUES, key=lambda q: q.dlq is not None):  # DLQs first
            dlq = None
            if q.dlq:
                dlq = sqs.DeadLetterQueue(queue=self.queues[q.dlq],
                                          max_receive_count=q.max_receive_count)
            queue = sqs.Queue(
                self, f"Queue{to_cfn_resource_name(q.logical)}",
                queue_name=r.physical_name(stage, q.logical),
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
            self, "UserPool", user_pool_name=r.physical_name(stage, up.logical),
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
            "AppClient", user_pool_client_name=r.physical_name(stage, "app"),
            generate_secret=False, prevent_user_existence_errors=True,
            auth_flows=cognito.AuthFlow(
                user_password="ALLOW_USER_PASSWORD_AUTH" in up.auth_flows))
        # users must not rewrite custom:nip (their identity) through UpdateUserAttributes
        self.client.node.default_child.write_attributes = list(up.client_write_attributes)

        # --- The application ------------------------------------------------------------------
        self.role = self._app_role()
        self.app = self._chalice_app()
        self.functions = self.app.functions()
        self._wire_functions()
        self._schedules()
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
        }
        env.update({t.env: self.tables[t.logical].table_name for t in r.TABLES})
        env.update({b.env: self.buckets[b.logical].bucket_name for b in r.BUCKETS})
        env.update({q.env: self.queues[q.logical].queue_name for q in r.QUEUES})
        env.update({t.env: self.topics[t.logical].topic_arn for t in r.TOPICS})
        return env

    def _app_role(self) -> iam.Role:
        """The functions' role: every action named, every resource from a construct."""
        stage = self.config.stage
        role = iam.Role(self, "AppRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Hadir Chalice functions (least privilege, written out)")
        log_groups = cdk.Arn.format(cdk.ArnComponents(
            service="logs", resource="log-group",
            resource_name=f"/aws/lambda/{self.stack_name}-*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME), self)
        table_arns = [t.table_arn for name, t in self.tables.items() if name != r.AUDIT.logical]
        index_arns = [f"{self.tables[t.logical].table_arn}/index/{g.name}"
                      for t in r.TABLES for g in t.gsis]
        statements = [
            iam.PolicyStatement(sid="Logs", actions=["logs:CreateLogGroup",
                                                     "logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[log_groups, f"{log_groups}:*"]),
            iam.PolicyStatement(sid="TablesReadWrite", actions=DDB_READ + DDB_WRITE,
                                resources=table_arns),
            iam.PolicyStatement(sid="AuditAppendOnly", actions=DDB_APPEND_ONLY,
                                resources=[self.tables[r.AUDIT.logical].table_arn]),
            iam.PolicyStatement(sid="IndexesQuery", actions=["dynamodb:Query"],
                                resources=index_arns),
            iam.PolicyStatement(sid="BiometricTemplates", actions=[  # envelope encryption
                "kms:GenerateDataKey", "kms:Decrypt"], resources=[self.biometric_key.key_arn]),
            iam.PolicyStatement(sid="S3DataKey", actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                resources=[self.data_key.key_arn]),
            iam.PolicyStatement(sid="Uploads", actions=[
                "s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                resources=[self.uploads.arn_for_objects("*")]),
            iam.PolicyStatement(sid="ExportsWrite", actions=["s3:PutObject", "s3:GetObject"],
                                resources=[self.exports.arn_for_objects("*")]),
            iam.PolicyStatement(sid="ExportsList", actions=["s3:ListBucket"],
                                resources=[self.exports.bucket_arn]),
            iam.PolicyStatement(sid="Notify", actions=["sns:Publish"],
                                resources=[t.topic_arn for t in self.topics.values()]),
            # The app sends nothing to SQS (SNS delivers); Lambda's event source mapping consumes.
            iam.PolicyStatement(sid="QueuesConsume", actions=[
                "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes"],
                resources=[self.queues[q.logical].queue_arn for q in r.QUEUES if q.handler]),
            iam.PolicyStatement(
                sid="SendEmail", actions=["ses:SendEmail"],
                resources=[cdk.Arn.format(cdk.ArnComponents(
                    service="ses", resource="identity", resource_name="*"), self)],
                conditions={"StringEquals": {"ses:FromAddress": self.ses_sender.value_as_string}}),
            iam.PolicyStatement(sid="Users", actions=COGNITO_ADMIN,
                                resources=[self.user_pool.user_pool_arn]),
            iam.PolicyStatement(sid="Tracing", actions=["xray:PutTraceSegments",
                                                        "xray:PutTelemetryRecords"],
                                resources=["*"]),  # X-Ray has no resource-level permissions
        ]
        self.policy = iam.Policy(self, "AppPolicy", roles=[role], statements=statements,
                                 policy_name=f"hadir-{stage}-app")
        return role

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
        for q in r.QUEUES:
            os.environ[q.env] = r.physical_name(self.config.stage, q.logical)
        if self.config.lambda_memory_mb:
            stage_config["lambda_memory_size"] = self.config.lambda_memory_mb

        return PrebuiltChalice(self, "App", source_dir=str(_repo_dir()),
                               lambda_zip=self.config.lambda_zip, stage_config=stage_config)

    def _wire_functions(self) -> None:
        env = self.environment()
        jobs = {to_cfn_resource_name(s.handler) for s in r.SCHEDULES}
        for logical_id in self.functions:
            fn = self.app.get_resource(logical_id)
            fn.add_override("Properties.Role", self.role.role_arn)
            fn.add_override("Properties.Environment.Variables", env)
            fn.add_override("Properties.Tracing", "Active")
            # Lambda would create the log group itself, kept forever; this one has a retention.
            logs.CfnLogGroup(self, f"{logical_id}Logs",
                             log_group_name=cdk.Fn.join("", ["/aws/lambda/", fn.ref]),
                             retention_in_days=self.config.log_retention_days)
            if logical_id in jobs:  # walk every employee of a zone; load no face model
                fn.add_override("Properties.Timeout", JOB_TIMEOUT_S)
                fn.add_override("Properties.MemorySize", JOB_MEMORY_MB)
            # SQS event sources check the role's permissions on creation; the queues themselves
            # are referenced by the environment variables, so CloudFormation creates them first.
            fn.node.add_dependency(self.policy)

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
        self.jobs_dlq = sqs.Queue(
            self, "JobsDlq", queue_name=r.physical_name(self.config.stage, "jobs-dlq"),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            retention_period=cdk.Duration.days(14), removal_policy=cdk.RemovalPolicy.DESTROY)
        self.dlqs.append(self.jobs_dlq)
        self.policy.add_statements(iam.PolicyStatement(
            sid="JobFailures", actions=["sqs:SendMessage"], resources=[self.jobs_dlq.queue_arn]))
        for logical_id in logical_ids:
            fn = self.app.get_resource(logical_id)
            config = lambda_.CfnEventInvokeConfig(
                self, f"{logical_id}InvokeConfig", function_name=fn.ref, qualifier="$LATEST",
                maximum_retry_attempts=2, maximum_event_age_in_seconds=3600,
                destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                    on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(
                        destination=self.jobs_dlq.queue_arn)))
            config.node.add_dependency(self.policy)

    def _alarms(self) -> None:
        topic = sns.Topic(self, "AlarmTopic", topic_name=r.physical_name(self.config.stage, "alarms"),
                          enforce_ssl=True)
        if self.config.alarm_email:
            topic.add_subscription(subs.EmailSubscription(self.config.alarm_email))
        action = cw_actions.SnsAction(topic)
        five_min = cdk.Duration.minutes(5)
        for logical_id in self.functions:
            name = self.app.get_resource(logical_id).ref
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


def _repo_dir() -> Path:
    return Path(os.environ.get("HADIR_APP_DIR") or Path(__file__).resolve().parents[2])
