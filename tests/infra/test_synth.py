"""The synthesized CloudFormation template: valid (cfn-lint) and secure (CDK assertions).

Given the prod stage synthesized offline from chalicelib/common/resources.py, when the template is
inspected, then every data store is encrypted, private, recoverable and reachable only with TLS,
and the application's role names every action on resources taken from the constructs.
"""
from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import pytest
from aws_cdk.assertions import Match

from chalicelib.common import resources as r
from hadir_infra.access import STREAM_READ
from tests.infra.calls import needed_actions, provider_calls as _provider_calls
from tests.infra.conftest import CONTEXT, INFRA, REGION, ROOT, clean_env, ensure_cdk_cli

pytestmark = pytest.mark.infra
AGENCY = CONTEXT["agency_id"]


def resources_of(template_json: dict, type_: str) -> dict[str, dict]:
    return {k: v for k, v in template_json["Resources"].items() if v["Type"] == type_}


def functions(template_json: dict) -> dict[str, dict]:
    return resources_of(template_json, "AWS::Serverless::Function")


# --- validity ---------------------------------------------------------------------------------

@pytest.fixture(params=["no web app", "web app", "other agency with WAF"])
def any_template_path(request, template_path, tmp_path):
    if request.param == "no web app":
        return template_path
    fixture = "web_template_json" if request.param == "web app" else "other_agency_template_json"
    path = tmp_path / "other.template.json"
    path.write_text(json.dumps(request.getfixturevalue(fixture)))
    return path


def test_cfn_lint_reports_no_error(any_template_path):
    template_path = any_template_path
    cfn_lint = pathlib.Path(sys.executable).parent / "cfn-lint"
    cmd = [str(cfn_lint)] if cfn_lint.exists() else [shutil.which("cfn-lint") or "cfn-lint"]
    proc = subprocess.run(
        cmd + ["--non-zero-exit-code", "error", str(template_path)],
        capture_output=True, text=True, env=clean_env(), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cdk_cli_pin_matches_the_installed_cli():
    ensure_cdk_cli()
    pinned = json.loads((INFRA / "package.json").read_text())["devDependencies"]["aws-cdk"]
    installed = json.loads((INFRA / "node_modules" / "aws-cdk" / "package.json").read_text())
    lock = json.loads((INFRA / "package-lock.json").read_text())
    assert installed["version"] == pinned == lock["packages"]["node_modules/aws-cdk"]["version"]


# --- DynamoDB ---------------------------------------------------------------------------------

def test_every_table_from_resources_py_is_on_demand_recoverable_and_protected(template, template_json):
    tables = resources_of(template_json, "AWS::DynamoDB::Table")
    assert sorted(t["Properties"]["TableName"] for t in tables.values()) == sorted(
        r.physical_name(AGENCY, "prod", t.logical) for t in r.TABLES)
    template.all_resources_properties("AWS::DynamoDB::Table", {
        "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": True,
        "SSESpecification": {"SSEEnabled": True},
    })


@pytest.mark.parametrize("table", r.TABLES, ids=lambda t: t.logical)
def test_table_keys_ttl_and_indexes_match_resources_py(template, table):
    props: dict = {"TableName": r.physical_name(AGENCY, "prod", table.logical),
                   "KeySchema": [{"AttributeName": table.hash_key.name, "KeyType": "HASH"}]
                   + ([{"AttributeName": table.range_key.name, "KeyType": "RANGE"}]
                      if table.range_key else [])}
    if table.ttl_attribute:
        props["TimeToLiveSpecification"] = {"AttributeName": table.ttl_attribute, "Enabled": True}
    if table.gsis:
        props["GlobalSecondaryIndexes"] = [Match.object_like({"IndexName": g.name})
                                           for g in table.gsis]
    template.has_resource_properties("AWS::DynamoDB::Table", props)


# --- S3 ---------------------------------------------------------------------------------------

def test_buckets_are_encrypted_private_and_owner_enforced(template, template_json):
    """The data buckets under the data key; the web app's (public files, read by CloudFront
    through origin access control) under S3's own keys, as private."""
    template.resource_count_is("AWS::S3::Bucket", len(r.BUCKETS) + 2)  # + the web app's, Athena's results
    private = {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                  "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
               "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}
    template.all_resources_properties("AWS::S3::Bucket", private)
    data = [b["Properties"] for k, b in resources_of(template_json, "AWS::S3::Bucket").items()
            if not k.startswith("WebBucket")]
    assert len(data) == len(r.BUCKETS) + 1  # the Athena results under the data key too
    for props in data:
        [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms" and rule["BucketKeyEnabled"]
        assert "KMSMasterKeyID" in rule["ServerSideEncryptionByDefault"]


def test_every_bucket_denies_requests_without_tls(template_json):
    buckets = resources_of(template_json, "AWS::S3::Bucket")
    policies = resources_of(template_json, "AWS::S3::BucketPolicy").values()
    tls_only = {p["Properties"]["Bucket"]["Ref"] for p in policies
                for s in p["Properties"]["PolicyDocument"]["Statement"]
                if s["Effect"] == "Deny" and s["Action"] == "s3:*"
                and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}}
    assert tls_only == set(buckets)


def test_uploads_expire_raw_images_after_the_configured_days_and_allow_presigned_post(template):
    template.has_resource_properties("AWS::S3::Bucket", {
        "LifecycleConfiguration": {"Rules": Match.array_with([Match.object_like({
            "Status": "Enabled", "ExpirationInDays": int(CONTEXT["raw_image_expiry_days"])})])},
        "CorsConfiguration": {"CorsRules": [Match.object_like({"AllowedMethods": ["POST"]})]},
    })


def test_request_attachments_are_kept_by_their_own_rule_not_with_the_raw_photos(template_json):
    # Given the uploads bucket's lifecycle rules
    [uploads] = [b for b in resources_of(template_json, "AWS::S3::Bucket").values()
                 if "CorsConfiguration" in b["Properties"]]
    rules = uploads["Properties"]["LifecycleConfiguration"]["Rules"]
    # Then checked attachments expire after attachment_expiry_days, by a rule of their own
    covering = [(rule["Prefix"], rule["ExpirationInDays"]) for rule in rules
                if r.ATTACHMENT_PREFIX.startswith(rule.get("Prefix", ""))]
    assert covering == [(r.ATTACHMENT_PREFIX, int(CONTEXT["attachment_expiry_days"]))]
    # And what phones upload raw (an attachment before its check among it) after the raw expiry
    raw = {rule["Prefix"]: rule["ExpirationInDays"] for rule in rules if rule["Prefix"] in r.UPLOAD_PREFIXES}
    assert raw == {p: int(CONTEXT["raw_image_expiry_days"]) for p in r.UPLOAD_PREFIXES}
    assert r.ATTACHMENT_UPLOAD_PREFIX in raw and not r.ATTACHMENT_PREFIX.startswith(r.ATTACHMENT_UPLOAD_PREFIX)


def test_exports_are_versioned_and_locked_in_compliance_mode(template):
    template.has_resource_properties("AWS::S3::Bucket", {
        "VersioningConfiguration": {"Status": "Enabled"},
        "ObjectLockEnabled": True,
        "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {
            "Mode": "COMPLIANCE", "Days": int(CONTEXT["export_retention_days"])}}},
    })


# --- KMS, Cognito, messaging -------------------------------------------------------------------

def test_kms_keys_rotate_and_the_biometric_key_has_its_alias(template):
    template.all_resources_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties("AWS::KMS::Alias", {
        "AliasName": f"alias/{r.physical_name(AGENCY, 'prod', r.BIOMETRIC_KEY.alias)}"})


def test_user_pool_groups_and_password_client_without_secret(template):
    template.has_resource_properties("AWS::Cognito::UserPool", {
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
        "Schema": Match.array_with([Match.object_like({"Name": a, "AttributeDataType": "String"})
                                    for a in r.USER_POOL.custom_attributes]),
    })
    for group in r.USER_POOL.groups:
        template.has_resource_properties("AWS::Cognito::UserPoolGroup", {"GroupName": group})
    template.has_resource_properties("AWS::Cognito::UserPoolClient", {
        "GenerateSecret": False,
        "ExplicitAuthFlows": Match.array_with(list(r.USER_POOL.auth_flows)),
        "WriteAttributes": list(r.USER_POOL.client_write_attributes),
    })


def test_tokens_last_a_working_day_and_refresh_tokens_a_month(template_json):
    """So the 07:30 peak asks Cognito for no token (docs/capacity.md: its sign-in quota)."""
    for c in resources_of(template_json, "AWS::Cognito::UserPoolClient").values():
        p = c["Properties"]
        minutes = {"minutes": 1, "hours": 60, "days": 1440}
        units = p["TokenValidityUnits"]
        assert p["IdTokenValidity"] * minutes[units["IdToken"]] == r.USER_POOL.token_hours * 60
        assert p["AccessTokenValidity"] * minutes[units["AccessToken"]] == r.USER_POOL.token_hours * 60
        assert p["RefreshTokenValidity"] * minutes[units["RefreshToken"]] == r.USER_POOL.refresh_token_days * 1440


def test_users_cannot_rewrite_their_own_nip_or_agency(template_json):
    """custom:nip is the caller's identity: the app client may write no custom attribute, and
    names at least one attribute (an empty list would mean every attribute)."""
    clients = resources_of(template_json, "AWS::Cognito::UserPoolClient").values()
    assert clients
    for c in clients:
        writable = c["Properties"].get("WriteAttributes")
        assert writable and not [a for a in writable if a.startswith("custom:")], writable


def test_queues_have_their_dead_letter_queues_and_topic_subscriptions(template, template_json):
    queues = resources_of(template_json, "AWS::SQS::Queue")
    by_name = {q["Properties"]["QueueName"]: (k, q) for k, q in queues.items()}
    for q in r.QUEUES:
        logical_id, queue = by_name[r.physical_name(AGENCY, "prod", q.logical)]
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        if q.dlq:
            dlq_id, _ = by_name[r.physical_name(AGENCY, "prod", q.dlq)]
            assert queue["Properties"]["RedrivePolicy"] == {
                "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                "maxReceiveCount": q.max_receive_count}
        if q.subscribes_to:
            template.has_resource_properties("AWS::SNS::Subscription", {
                "Protocol": "sqs", "RawMessageDelivery": True,
                "Endpoint": {"Fn::GetAtt": [logical_id, "Arn"]}})


# --- schedules --------------------------------------------------------------------------------

@pytest.mark.parametrize("schedule", r.SCHEDULES, ids=lambda s: s.name)
def test_each_job_runs_once_per_zone_and_targets_its_function(template_json, schedule):
    """Chalice's EventBridge rule (@app.schedule, UTC cron) on the job's own function."""
    from chalice.utils import to_cfn_resource_name

    fn = functions(template_json).get(to_cfn_resource_name(schedule.handler))
    assert fn, f"no Chalice function {schedule.handler}"
    rules = [e["Properties"]["Schedule"] for e in fn["Properties"].get("Events", {}).values()
             if e["Type"] == "Schedule"]
    assert rules == [schedule.cron]


def test_one_schedule_per_job_and_zone():
    assert {(s.handler.rsplit("_", 1)[0], s.zone) for s in r.SCHEDULES} == {
        (job, zone) for job in {s.handler.rsplit("_", 1)[0] for s in r.SCHEDULES}
        for zone in r.ZONES}


@pytest.mark.parametrize("schedule", r.SCHEDULES, ids=lambda s: s.name)
def test_utc_cron_fires_at_the_local_time_on_the_local_days(schedule):
    """Given the UTC cron of a job, when it fires during a week, then in the zone's own time zone
    it is the intended local time, on working days only for absence detection."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from local.cron import fires_between

    zone, offset = r.ZONES[schedule.zone]
    assert zone == schedule.timezone
    assert ZoneInfo(zone).utcoffset(datetime(2026, 7, 1)).total_seconds() == offset * 3600
    week = fires_between(schedule, datetime(2026, 3, 1, tzinfo=timezone.utc),  # Sun .. Sun
                         datetime(2026, 3, 8, tzinfo=timezone.utc))
    local = [t.astimezone(ZoneInfo(zone)) for t in week]
    job = schedule.handler.rsplit("_", 1)[0]
    want = r.ABSENCE_LOCAL_TIME if job == "detect_absence" else r.EXPORT_LOCAL_TIME
    assert {(t.hour, t.minute) for t in local} == {want}
    days = sorted({t.strftime("%a") for t in local})
    if job == "detect_absence":
        assert days == sorted(["Mon", "Tue", "Wed", "Thu", "Fri"]), local
    else:
        assert len(days) == 7, local


# --- alarms -----------------------------------------------------------------------------------

def test_every_function_has_error_and_throttle_alarms(template_json):
    alarms = resources_of(template_json, "AWS::CloudWatch::Alarm").values()
    watched = {(a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"]["Ref"])
               for a in alarms if a["Properties"].get("Namespace") == "AWS/Lambda"}
    for fn_id in functions(template_json):
        assert ("Errors", fn_id) in watched and ("Throttles", fn_id) in watched, fn_id
    assert all(a["Properties"]["AlarmActions"] for a in alarms)


def test_every_dead_letter_queue_has_a_depth_alarm(template_json):
    queues = resources_of(template_json, "AWS::SQS::Queue")
    dlq_ids = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
               for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    dlq_ids |= {k for k, q in queues.items()
                if q["Properties"]["QueueName"].endswith("jobs-dlq")}
    alarms = resources_of(template_json, "AWS::CloudWatch::Alarm").values()
    watched = {a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in alarms
               if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"}
    assert dlq_ids and dlq_ids <= watched


def test_failed_scheduled_runs_land_in_an_alarmed_dead_letter_queue(template_json):
    from chalice.utils import to_cfn_resource_name
    configs = resources_of(template_json, "AWS::Lambda::EventInvokeConfig").values()
    targets = {c["Properties"]["FunctionName"]["Ref"]: c["Properties"] for c in configs}
    queues = resources_of(template_json, "AWS::SQS::Queue")
    alarmed = {a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
               for a in resources_of(template_json, "AWS::CloudWatch::Alarm").values()
               if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"}
    for s in r.SCHEDULES:
        props = targets[to_cfn_resource_name(s.handler)]
        dest = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"]
        assert dest[1] == "Arn" and dest[0] in queues and dest[0] in alarmed, s.handler
        assert props["MaximumRetryAttempts"] == 2


def test_scheduled_jobs_get_job_sized_timeout_and_memory(template_json):
    from chalice.utils import to_cfn_resource_name
    from hadir_infra.stack import JOB_MEMORY_MB, JOB_TIMEOUT_S
    fns = functions(template_json)
    for s in r.SCHEDULES:
        props = fns[to_cfn_resource_name(s.handler)]["Properties"]
        assert (props["Timeout"], props["MemorySize"]) == (JOB_TIMEOUT_S, JOB_MEMORY_MB)


def test_alarm_email_subscribes_to_the_alarm_topic(template):
    template.has_resource_properties("AWS::SNS::Subscription", {
        "Protocol": "email", "Endpoint": CONTEXT["alarm_email"]})


# --- functions and IAM ------------------------------------------------------------------------

def test_functions_run_python_312_each_kind_with_its_own_written_role(template_json):
    from hadir_infra.access import classify
    role_ids = set(resources_of(template_json, "AWS::IAM::Role"))
    kinds = {f.logical_id: f.kind for f in classify(list(functions(template_json)))}
    assert {_kind_of_role(k) for k in role_ids} == set(kinds.values()) | {"analytics"}, "chalice makes no role"
    for fn_id, fn in functions(template_json).items():
        props = fn["Properties"]
        assert props["Runtime"] == "python3.12", fn_id
        role = props["Role"]["Fn::GetAtt"][0]
        assert role in role_ids and _kind_of_role(role) == kinds[fn_id], fn_id


def _kind_of_role(logical_id: str) -> str | None:
    from hadir_infra.access import KINDS
    return next((k for k in KINDS if logical_id.startswith(f"{k.capitalize()}Role")), None)


def test_functions_get_every_setting_the_app_reads(template_json):
    names = {t.env for t in r.TABLES} | {b.env for b in r.BUCKETS} | {q.env for q in r.QUEUES}
    names |= {t.env for t in r.TOPICS} | {k.env for k in r.KMS_KEYS} | {s.env for s in r.SECRETS}
    names |= {r.USER_POOL.pool_id_env, r.USER_POOL.client_id_env, r.SES_SENDER_ENV,
              "HADIR_STAGE", "HADIR_AGENCY_ID"}
    for fn_id, fn in functions(template_json).items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert names <= set(env), (fn_id, names - set(env))
        assert env["HADIR_STAGE"] == "prod" and env["HADIR_AGENCY_ID"] == CONTEXT["agency_id"]
        assert "AWS_ENDPOINT_URL" not in env and "HADIR_NOW" not in env


def test_only_the_api_function_loads_the_face_models_while_it_imports(template_json):
    """HADIR_WARM_UP: the API's cold check-in finds the sessions built; the jobs, the
    consumer and the import use no face model and never build one."""
    warmed = {fn_id for fn_id, fn in functions(template_json).items()
              if fn["Properties"]["Environment"]["Variables"].get("HADIR_WARM_UP") == "true"}
    assert warmed == {"APIHandler"}, warmed


def _statements(template_json: dict):
    for pid, policy in resources_of(template_json, "AWS::IAM::Policy").items():
        for s in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield pid, s
    for rid, role in resources_of(template_json, "AWS::IAM::Role").items():
        for p in role["Properties"].get("Policies", []):
            for s in p["PolicyDocument"]["Statement"]:
                yield rid, s


def _as_list(v):
    return v if isinstance(v, list) else [v]


def test_no_wildcard_actions_in_any_identity_policy(template_json):
    for pid, s in _statements(template_json):
        for action in _as_list(s["Action"]):
            assert action != "*" and not action.endswith(":*"), (pid, action)
        assert "NotAction" not in s and "NotResource" not in s, pid


def test_data_resources_are_named_by_construct_arns_never_star(template_json):
    for pid, s in _statements(template_json):
        services = {a.split(":")[0] for a in _as_list(s["Action"])}
        if "*" in _as_list(s["Resource"]):
            assert services == {"xray"}, (pid, s)  # X-Ray has no resource-level permissions
        if services & {"dynamodb", "s3", "kms", "sqs", "sns", "cognito-idp", "lambda"}:
            for res in _as_list(s["Resource"]):
                assert isinstance(res, dict), (pid, s["Sid"] if "Sid" in s else s, res)
                # no wildcard inside a joined ARN either, but "every object of this one bucket"
                # (or every object under one named prefix: the monthly recap's, the import files')
                from hadir_infra.access import RECAP_PREFIX
                wild = [x for x in _literals(res) if "*" in x]
                prefixes = [[f"/{RECAP_PREFIX}*"], [f"/{r.IMPORT_PREFIX}*"], *([f"/{p}*"] for p in r.FRAME_PREFIXES)]
                assert wild in ([], ["/*"], *prefixes) and (not wild or services == {"s3"}), (pid, s, res)


def _literals(value) -> list[str]:
    """The literal strings of a CloudFormation value (the parts of an Fn::Join, ...)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [x for v in value for x in _literals(v)]
    if isinstance(value, dict):
        return [x for k, v in value.items() if k != "Fn::GetAtt" for x in _literals(v)]
    return []


_NAMED_OPERATION = ("get_paginator", "generate_presigned_url")  # the operation is the argument


def _aws_calls() -> set[tuple[str, str]]:
    """(service, boto3 method) of every AWS client call in chalicelib (PynamoDB aside)."""
    import re
    calls = set()
    for path in (ROOT / "chalicelib").rglob("*.py"):
        text = path.read_text()
        clients = dict(re.findall(r'(\w+) = aws\.client\("([\w-]+)"\)$', text, re.M))
        for var, service in clients.items():
            calls |= {(service, m) for m in re.findall(rf"\b{var}\.(\w+)\(", text)}
            calls |= {(service, m) for m in re.findall(rf'\b{var}\.get_paginator\("(\w+)"', text)}
            calls |= {(service, m) for m in re.findall(
                rf'\b{var}\.generate_presigned_url\(\s*"(\w+)"', text)}
        calls |= set(re.findall(r'aws\.client\("([\w-]+)"\)\.(\w+)\(', text))
        calls |= _provider_calls(text)
    return {c for c in calls if c[1] not in _NAMED_OPERATION}


def test_provider_style_calls_of_the_adapters_are_found():
    """The adapters' calls through providers are seen, operations named by argument included,
    and nothing that is not a boto3 service (``self._clock().now()``) is taken for one."""
    sample = ('self._s3().head_object(Bucket=b)\nself._cognito_idp().get_paginator("list_users")\n'
              'self._s3().generate_presigned_url(\n    "get_object", Params={})\n'
              'self._clock().now()\nself._kms().decrypt(CiphertextBlob=c)')
    assert _provider_calls(sample) == {("s3", "head_object"), ("cognito-idp", "list_users"),
                                       ("s3", "get_object"), ("kms", "decrypt")}
    adapters = ROOT / "chalicelib" / "adapters"
    calls = set().union(*(_provider_calls((adapters / name).read_text())
                          for name in ("s3.py", "vault.py", "notify.py", "auth.py")))
    assert calls <= _aws_calls()
    for call in [("s3", "put_object"), ("s3", "list_objects_v2"), ("s3", "head_object"),
                 ("s3", "generate_presigned_post"), ("s3", "get_object"), ("s3", "delete_objects"),
                 ("kms", "generate_data_key"), ("kms", "decrypt"), ("sns", "publish"),
                 ("ses", "send_email"), ("cognito-idp", "initiate_auth"),
                 ("cognito-idp", "admin_create_user"), ("cognito-idp", "admin_list_groups_for_user"),
                 ("cognito-idp", "admin_remove_user_from_group")]:
        assert call in calls, call


def _granted(template_json: dict) -> dict[str, set[str]]:
    """Kind of function -> every action its role's policy allows."""
    out: dict[str, set[str]] = {}
    for pid, doc in _app_policies(template_json).items():
        kind = next(k for k in ("api", "absence", "export", "email", "import", "analytics", "frames")
                    if pid.startswith(f"{k.capitalize()}Policy"))
        out[kind] = {a for s in doc["Statement"] if s["Effect"] == "Allow"
                     for a in _as_list(s["Action"])}
    return out


def _reaches(template_json: dict) -> dict[str, tuple[str, ...]]:
    from hadir_infra.access import REACHES, classify
    kinds = {f.kind for f in classify(list(functions(template_json)))} | {"analytics"}  # its own package
    return {k: v for k, v in REACHES.items() if k in kinds}


def test_each_role_allows_exactly_the_calls_its_functions_code_makes(template_json):
    """Least privilege per function: the actions of the AWS calls of the adapter methods each
    kind of function reaches (access.REACHES), Lambda's own (logs, tracing, event sources)
    and nothing else; DynamoDB (PynamoDB) is asserted by the table tests."""
    granted = _granted(template_json)
    reaches = _reaches(template_json)
    assert set(granted) == set(reaches)
    for kind, patterns in reaches.items():
        have = {a for a in granted[kind] if not a.startswith("dynamodb:") or a in STREAM_READ}
        want = needed_actions(kind, patterns)
        assert have == want, (kind, "extra", sorted(have - want), "missing", sorted(want - have))


def test_every_aws_call_of_the_code_is_reached_by_some_function(template_json):
    """A new adapter call must be given to the functions that make it (access.REACHES)."""
    from tests.infra.calls import adapter_methods, reached
    owned = set().union(*(set(reached(p)) for p in _reaches(template_json).values()))
    calling = {m for m, calls in adapter_methods().items()  # private ones: through their callers
               if calls and not m.split(".")[1].startswith("_")}
    assert calling <= owned, calling - owned
    assert set().union(*adapter_methods().values()) == _aws_calls()  # every call is an adapter's
    # And the services call only adapter methods some function reaches
    import re
    ports = {"uploads": "S3Uploads", "vault": "KmsVault", "exports": "S3Exports",
             "notifier": "SnsSesNotifier", "directory": "CognitoDirectory", "imports": "LambdaImports",
             "analytics": "LambdaAnalytics"}
    used = set()
    for path in [*(ROOT / "chalicelib" / "services").glob("*.py"), ROOT / "chalicelib" / "api" / "routes.py"]:
        used |= {f"{ports[p]}.{m}" for p, m in re.findall(
            rf"\.({'|'.join(ports)})\.(\w+)\(", path.read_text())}
    assert used and used <= owned, used - owned


def _sessions_table_id(template_json: dict) -> str:
    [sessions_id] = [k for k, t in resources_of(template_json, "AWS::DynamoDB::Table").items()
                     if t["Properties"]["TableName"] == r.physical_name(AGENCY, "prod", r.SESSIONS.logical)]
    return sessions_id


def test_the_sessions_stream_drives_the_frame_deleter_only_when_a_session_is_used(template_json):
    """Raw frames go seconds after the check-in or enrolment that read them (not at the lifecycle's
    day): the sessions table streams both images, and one mapping feeds delete_used_frames the
    MODIFY records that turn ``used`` from false to true, failed batches to the alarmed jobs DLQ."""
    from chalice.utils import to_cfn_resource_name
    sessions_id = _sessions_table_id(template_json)
    table = template_json["Resources"][sessions_id]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    [mapping] = resources_of(template_json, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": [sessions_id, "StreamArn"]}
    assert props["FunctionName"] == {"Ref": to_cfn_resource_name(r.FRAMES_HANDLER)}
    [pattern] = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert pattern == {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"used": {"BOOL": [True]}},
                                                             "OldImage": {"used": {"BOOL": [False]}}}}
    assert props["StartingPosition"] == "LATEST" and props["BisectBatchOnFunctionError"] is True
    assert props["MaximumRetryAttempts"] == 2
    dlq = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert template_json["Resources"][dlq]["Properties"]["QueueName"].endswith("jobs-dlq")
    # And the function is sized for a few deletes, not for the face engine
    from hadir_infra.stack import FRAMES_MEMORY_MB, FRAMES_TIMEOUT_S
    fn = functions(template_json)[to_cfn_resource_name(r.FRAMES_HANDLER)]["Properties"]
    assert (fn["MemorySize"], fn["Timeout"]) == (FRAMES_MEMORY_MB, FRAMES_TIMEOUT_S)


def test_only_the_frame_deleter_reads_the_stream_and_it_deletes_nothing_but_frames(template_json):
    sessions_id = _sessions_table_id(template_json)
    [uploads_id] = [k for k in resources_of(template_json, "AWS::S3::Bucket") if k.startswith("UploadsBucket")]
    stream_reads = [(pid, s) for pid, s in _statements(template_json) if set(_as_list(s["Action"])) & set(STREAM_READ)]
    frames_deletes = [s for pid, s in _statements(template_json)
                      if pid.startswith("FramesPolicy") and "s3:DeleteObject" in _as_list(s["Action"])]
    # The stream is read by one statement, the frames role's, on the sessions stream alone
    [(pid, reads)] = stream_reads
    assert pid.startswith("FramesPolicy") and set(_as_list(reads["Action"])) == set(STREAM_READ)
    assert _as_list(reads["Resource"]) == [{"Fn::GetAtt": [sessions_id, "StreamArn"]}]
    # And its one delete covers the uploads' frame prefixes, nothing else
    [deletes] = frames_deletes
    assert _as_list(deletes["Action"]) == ["s3:DeleteObject"]
    resources = _as_list(deletes["Resource"])
    assert all(_refers_to(x, uploads_id) for x in resources)
    assert sorted(_literals(x)[-1] for x in resources) == sorted(f"/{p}*" for p in r.FRAME_PREFIXES)


def test_no_application_role_can_delete_or_rewrite_exports_or_run_cognito_admin(template_json):
    from hadir_infra.access import EXPORTS_NEVER
    granted = _granted(template_json)
    [exports_id] = [k for k, b in resources_of(template_json, "AWS::S3::Bucket").items()
                    if b["Properties"].get("ObjectLockEnabled")]
    on_exports = {a for pid, s in _statements(template_json) if s["Effect"] == "Allow"
                  and _refers_to(s["Resource"], exports_id) for a in _as_list(s["Action"])}
    assert on_exports and not on_exports & set(EXPORTS_NEVER), on_exports & set(EXPORTS_NEVER)
    assert not [a for a in on_exports if "Delete" in a or "Retention" in a or "Bypass" in a]
    for kind, actions in granted.items():  # no wildcard S3 resource either (asserted above)
        assert not [a for a in actions if a.startswith("s3:Delete") and kind not in ("api", "frames")], kind
    # Only the analytics function writes exports (the daily export and the monthly recap); the
    # API reads them for auditors
    writers = [(pid, s) for pid, s in _statements(template_json) if s["Effect"] == "Allow"
               and "s3:PutObject" in _as_list(s["Action"]) and _refers_to(s["Resource"], exports_id)]
    assert {pid[:len("AnalyticsPolicy")] for pid, _ in writers} == {"AnalyticsPolicy"}, [p for p, _ in writers]
    cognito_admin = {k for k, a in granted.items() if any(x.startswith("cognito-idp:Admin") for x in a)}
    assert cognito_admin == ({"import"} if "import" in granted else {"api"})


def test_the_api_invokes_the_import_by_name_and_alone_knows_it(template_json):
    from hadir_infra.access import IMPORT_FUNCTION_ENV, IMPORT_HANDLER
    from chalice.utils import to_cfn_resource_name
    fns = functions(template_json)
    import_id = to_cfn_resource_name(IMPORT_HANDLER)
    if import_id not in fns:
        pytest.skip("the import has no function of its own in this branch yet")
    name = fns[import_id]["Properties"]["FunctionName"]
    for fn_id, fn in fns.items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert (env.get(IMPORT_FUNCTION_ENV) == name) == (fn_id == "APIHandler"), fn_id
    assert "lambda:InvokeFunction" in _granted(template_json)["api"]
    assert not any(a.startswith("cognito-idp:") for a in _granted(template_json)["api"])


def test_exports_must_be_written_once_and_never_deleted_by_the_application(template_json):
    """Object Lock keeps versions; the bucket policy denies a PutObject without If-None-Match
    (so no export is overwritten) and the application roles' deletes and retention changes."""
    [exports_id] = [k for k, b in resources_of(template_json, "AWS::S3::Bucket").items()
                    if b["Properties"].get("ObjectLockEnabled")]
    [policy] = [p["Properties"]["PolicyDocument"]["Statement"]
                for p in resources_of(template_json, "AWS::S3::BucketPolicy").values()
                if p["Properties"]["Bucket"] == {"Ref": exports_id}]
    by_sid = {s.get("Sid"): s for s in policy}
    write_once = by_sid["WriteOnceOnly"]
    assert write_once["Effect"] == "Deny" and write_once["Principal"] == {"AWS": "*"}
    assert write_once["Action"] == "s3:PutObject"
    assert write_once["Condition"] == {"Null": {"s3:if-none-match": "true"}}
    never = by_sid["ApplicationNeverDeletes"]
    assert never["Effect"] == "Deny"
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention",
            "s3:BypassGovernanceRetention"} <= set(_as_list(never["Action"]))
    principals = {p["Fn::GetAtt"][0] for p in _as_list(never["Principal"]["AWS"])}
    assert principals == set(resources_of(template_json, "AWS::IAM::Role"))


# --- abuse limits -----------------------------------------------------------------------------

def test_the_api_stage_and_login_are_throttled_login_tighter(template_json):
    from hadir_infra.config import API_THROTTLE, LOGIN_THROTTLE
    [api] = resources_of(template_json, "AWS::Serverless::Api").values()
    settings = {(m["ResourcePath"], m["HttpMethod"]): m for m in api["Properties"]["MethodSettings"]}
    stage, login = settings[("/*", "*")], settings[("/~1auth~1login", "POST")]
    assert (stage["ThrottlingRateLimit"], stage["ThrottlingBurstLimit"]) == (API_THROTTLE.rate, API_THROTTLE.burst)
    assert (login["ThrottlingRateLimit"], login["ThrottlingBurstLimit"]) == (LOGIN_THROTTLE.rate, LOGIN_THROTTLE.burst)
    assert login["ThrottlingRateLimit"] < stage["ThrottlingRateLimit"]
    assert login["ThrottlingBurstLimit"] < stage["ThrottlingBurstLimit"]
    # the route exists as written (chalice's OpenAPI body)
    assert "post" in api["Properties"]["DefinitionBody"]["paths"]["/auth/login"]


def test_the_personnel_agencys_address_reaches_the_functions(template_json):
    for fn in functions(template_json).values():
        assert fn["Properties"]["Environment"]["Variables"]["HADIR_PERSONNEL_EMAIL"] == "bkpsdm@pemkab-test.go.id"


def test_api_gateways_own_refusals_come_in_the_error_envelope(template_json):
    # Given the API as synthesized
    [api] = resources_of(template_json, "AWS::Serverless::Api").values()
    responses = api["Properties"]["GatewayResponses"]
    # Then an unknown route, a throttled call, a blocked or oversized request and the defaults
    # answer {"error": {"code", "message", "details"}} as JSON, with the statuses a client expects
    assert set(responses) >= {"MISSING_AUTHENTICATION_TOKEN", "THROTTLED", "REQUEST_TOO_LARGE", "WAF_FILTERED",
                              "DEFAULT_4XX", "DEFAULT_5XX"}
    for kind, answer in responses.items():
        error = json.loads(answer["ResponseTemplates"]["application/json"])["error"]
        assert set(error) == {"code", "message", "details"} and error["code"], kind
        assert answer["ResponseParameters"]["Headers"]["Content-Type"] == "'application/json'"
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == 404
    assert responses["THROTTLED"]["StatusCode"] == 429
    assert responses["THROTTLED"]["ResponseParameters"]["Headers"]["Retry-After"] == "'1'"


def test_jobs_consumer_and_import_keep_reserved_concurrency_the_api_is_not_capped(template_json):
    from hadir_infra.access import classify
    from hadir_infra.config import JOB_CONCURRENCY
    for f in classify(list(functions(template_json))):
        props = functions(template_json)[f.logical_id]["Properties"]
        if f.kind == "api":
            assert "ReservedConcurrentExecutions" not in props
        else:
            assert props["ReservedConcurrentExecutions"] == JOB_CONCURRENCY, f.logical_id
        for event in props.get("Events", {}).values():  # the consumer polls within its reservation
            if event["Type"] == "SQS":
                assert event["Properties"]["ScalingConfig"] == {"MaximumConcurrency": JOB_CONCURRENCY}


def test_without_the_waf_flag_there_is_no_web_acl(template_json):
    assert not resources_of(template_json, "AWS::WAFv2::WebACL")
    assert not resources_of(template_json, "AWS::WAFv2::WebACLAssociation")


def test_with_the_waf_flag_a_regional_acl_guards_the_api_stage(other_agency_template_json):
    from hadir_infra.stack import WAF_MANAGED_RULES
    from tests.infra.conftest import OTHER
    t = other_agency_template_json
    [(acl_id, acl)] = resources_of(t, "AWS::WAFv2::WebACL").items()
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL" and props["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in props["Rules"]}
    managed = {rule["Statement"]["ManagedRuleGroupStatement"]["Name"] for rule in rules.values()
               if "ManagedRuleGroupStatement" in rule["Statement"]}
    assert managed == set(WAF_MANAGED_RULES) >= {"AWSManagedRulesCommonRuleSet",
                                                 "AWSManagedRulesKnownBadInputsRuleSet"}
    rate = rules["RatePerClientIp"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == int(OTHER["waf_rate_limit"])
    assert len({rule["Priority"] for rule in rules.values()}) == len(rules)
    [assoc] = resources_of(t, "AWS::WAFv2::WebACLAssociation").values()
    assert assoc["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    arn = _rendered(assoc["Properties"]["ResourceArn"])
    assert arn.endswith("::/restapis/<RestAPI>/stages/<RestAPI.Stage>"), arn


# --- several agencies in one account ----------------------------------------------------------

_NAME_PROPS = ("TableName", "QueueName", "TopicName", "UserPoolName", "ClientName", "AliasName",
               "PolicyName", "FunctionName", "Name", "LogGroupName", "BucketName", "RoleName")


def _physical_names(template_json: dict) -> set[str]:
    """Every name a resource is given; a joined one with its references to named functions
    resolved (a log group's ``/aws/lambda/<function name>``)."""
    resources = template_json["Resources"]

    def render(value) -> str:
        if isinstance(value, str):
            return value
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return sep.join(render(p) for p in parts)
        if "Ref" in value and "FunctionName" in resources.get(value["Ref"], {}).get("Properties", {}):
            return render(resources[value["Ref"]]["Properties"]["FunctionName"])
        return json.dumps(value)

    names = set()
    for res in resources.values():
        props = res.get("Properties", {})
        for key in _NAME_PROPS:
            if key in props and not (key == "Name" and res["Type"].startswith("AWS::CloudFront")):
                names.add(render(props[key]))
        if res["Type"].startswith("AWS::CloudFront"):  # account-wide names, in their configs
            names |= {render(v["Name"]) for v in props.values() if isinstance(v, dict) and "Name" in v}
    return names


def test_two_agencies_side_by_side_share_no_physical_name(template_json, other_agency_template_json):
    from tests.infra.conftest import OTHER
    ours, theirs = _physical_names(template_json), _physical_names(other_agency_template_json)
    assert len(ours) > 20
    assert not ours & theirs, sorted(ours & theirs)
    literal = [n for n in ours if not n.startswith("{")]
    generated = "hadir" + AGENCY.replace("-", "") + "prod"  # CDK's names from the stack name
    assert all(n.startswith((f"hadir-{AGENCY}-prod-", f"alias/hadir-{AGENCY}-prod-",
                             f"/aws/lambda/hadir-{AGENCY}-prod-", generated)) for n in literal), literal
    other = OTHER["agency_id"]
    assert all(other in n or other.replace("-", "") in n for n in theirs if not n.startswith("{"))


def test_every_function_is_named_for_its_agency_and_stage(template_json):
    for fn_id, fn in functions(template_json).items():
        name = fn["Properties"]["FunctionName"]
        assert name.startswith(f"hadir-{AGENCY}-prod-") and len(name) <= 64, (fn_id, name)

def test_every_function_log_group_has_a_retention(template_json):
    groups = resources_of(template_json, "AWS::Logs::LogGroup").values()
    named = {g["Properties"]["LogGroupName"]["Fn::Join"][1][1]["Ref"]: g["Properties"]
             for g in groups}
    for fn_id in functions(template_json):
        assert named[fn_id]["RetentionInDays"] == 365, fn_id  # prod default


def test_no_managed_policies_attached(template_json):
    for rid, role in resources_of(template_json, "AWS::IAM::Role").items():
        assert not role["Properties"].get("ManagedPolicyArns"), rid


def _refers_to(value, logical_id: str) -> bool:
    """Whether a CloudFormation value names the resource ``logical_id`` (its ARN, or an ARN
    joined from it such as an index's)."""
    if isinstance(value, dict):
        if value.get("Fn::GetAtt", [None])[0] == logical_id or value.get("Ref") == logical_id:
            return True
        return any(_refers_to(v, logical_id) for v in value.values())
    if isinstance(value, list):
        return any(_refers_to(v, logical_id) for v in value)
    return False


def test_the_audit_table_is_append_only_for_the_application(template_json):
    """The app role may add audit entries and read them, never change or delete one (a
    transaction's put is checked by IAM as PutItem, so transactions need nothing more)."""
    [audit_id] = [k for k, t in resources_of(template_json, "AWS::DynamoDB::Table").items()
                  if t["Properties"]["TableName"] == r.physical_name(AGENCY, "prod", r.AUDIT.logical)]
    on_audit = [(pid, s) for pid, s in _statements(template_json)
                if s["Effect"] == "Allow" and _refers_to(s["Resource"], audit_id)]
    granted = {a for _, s in on_audit for a in _as_list(s["Action"])}
    forbidden = {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                 "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:DeleteTable",
                 "dynamodb:UpdateTable"}
    assert not granted & forbidden, [(pid, s.get("Sid")) for pid, s in on_audit]
    assert {"dynamodb:PutItem", "dynamodb:Query"} <= granted
    assert all(not a.startswith("dynamodb:PartiQL") for a in granted)
    # And the statements for the other tables' reads and writes (one per role) no longer cover it
    rws = [s for _, s in _statements(template_json) if s.get("Sid") == "TablesReadWrite"]
    assert len(rws) == len(resources_of(template_json, "AWS::IAM::Role"))
    for rw in rws:
        assert not _refers_to(rw["Resource"], audit_id)
        assert len(_as_list(rw["Resource"])) == len(r.TABLES) - 1
        # a ping's first read and the recap's days are BatchGetItems (IAM checks that action)
        assert "dynamodb:BatchGetItem" in _as_list(rw["Action"])


# --- the web app (CloudFront + private bucket) ------------------------------------------------

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed cache policy
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AWS managed origin request policy


def _one(template_json: dict, type_: str) -> tuple[str, dict]:
    [(logical_id, res)] = resources_of(template_json, type_).items()
    return logical_id, res["Properties"]


def _distribution(template_json: dict) -> dict:
    return _one(template_json, "AWS::CloudFront::Distribution")[1]["DistributionConfig"]


def _web_bucket_id(template_json: dict) -> str:
    [web] = [k for k in resources_of(template_json, "AWS::S3::Bucket") if k.startswith("WebBucket")]
    return web


def _rendered(value) -> str:
    """A CloudFormation string with its references shown as <LogicalId> (Fn::Join flattened)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_rendered(p) for p in parts)
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    raise AssertionError(value)


def _csp(template_json: dict) -> dict[str, list[str]]:
    _, props = _one(template_json, "AWS::CloudFront::ResponseHeadersPolicy")
    csp = props["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    assert csp["Override"] is True
    text = _rendered(csp["ContentSecurityPolicy"])
    return {d.split()[0]: d.split()[1:] for d in text.split("; ")}


def test_the_app_bucket_is_private_versioned_encrypted_and_tls_only(template, template_json):
    web = _web_bucket_id(template_json)
    props = template_json["Resources"][web]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True}
    assert "WebsiteConfiguration" not in props  # served by CloudFront only, never as a website


def test_cloudfront_reads_the_bucket_through_origin_access_control_not_an_identity(template_json):
    assert not resources_of(template_json, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    oac_id, oac = _one(template_json, "AWS::CloudFront::OriginAccessControl")
    assert oac["OriginAccessControlConfig"] | {"Name": None} == {
        "Name": None, "OriginAccessControlOriginType": "s3", "SigningBehavior": "always",
        "SigningProtocol": "sigv4"}
    dist = _distribution(template_json)
    [s3_origin] = [o for o in dist["Origins"] if "S3OriginConfig" in o]
    assert s3_origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert s3_origin["S3OriginConfig"].get("OriginAccessIdentity", "") == ""
    # And the bucket lets only this distribution read it (the service, on its own ARN)
    web = _web_bucket_id(template_json)
    [policy] = [p["Properties"] for p in resources_of(template_json, "AWS::S3::BucketPolicy").values()
                if p["Properties"]["Bucket"] == {"Ref": web}]
    allows = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allows and all(s["Principal"] == {"Service": "cloudfront.amazonaws.com"} for s in allows)
    assert all("AWS:SourceArn" in s["Condition"]["StringEquals"] for s in allows)
    assert {a for s in allows for a in _as_list(s["Action"])} == {"s3:GetObject"}


def test_the_app_is_https_only_with_index_html_at_the_root(template_json):
    dist = _distribution(template_json)
    assert dist["DefaultRootObject"] == "index.html"
    behaviours = [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]]
    assert {b["ViewerProtocolPolicy"] for b in behaviours} == {"redirect-to-https"}
    [api] = [o for o in dist["Origins"] if "CustomOriginConfig" in o]
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert api["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]


def test_api_is_reached_same_origin_under_api_without_caching(template_json):
    from hadir_infra.web import API_STAGE
    dist = _distribution(template_json)
    [behaviour] = dist["CacheBehaviors"]
    assert behaviour["PathPattern"] == "/api/*"
    assert behaviour["CachePolicyId"] == CACHING_DISABLED
    # every viewer header but Host: Authorization, X-Device-Id, Idempotency-Key, Content-Type
    assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert sorted(behaviour["AllowedMethods"]) == sorted(
        ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"])
    [api] = [o for o in dist["Origins"] if o["Id"] == behaviour["TargetOriginId"]]
    # /api/checkins goes as is to API Gateway: stage "api" (no origin path), route /checkins
    assert _rendered(api["DomainName"]).startswith("<RestAPI>.execute-api.")
    assert not api.get("OriginPath")
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    assert {s["api_gateway_stage"] for s in stages.values()} == {API_STAGE} == {"api"}
    # And the app's files are cached (the default behaviour), the API never
    assert dist["DefaultCacheBehavior"]["CachePolicyId"] != CACHING_DISABLED
    assert dist["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]


def test_every_response_carries_strict_security_headers(template_json):
    _, props = _one(template_json, "AWS::CloudFront::ResponseHeadersPolicy")
    config = props["ResponseHeadersPolicyConfig"]
    sec = config["SecurityHeadersConfig"]
    assert sec["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert sec["StrictTransportSecurity"]["IncludeSubdomains"] is True
    assert sec["ContentTypeOptions"] == {"Override": True}
    assert sec["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert sec["ReferrerPolicy"]["ReferrerPolicy"] in ("no-referrer", "strict-origin-when-cross-origin")
    custom = {h["Header"]: h["Value"] for h in config["CustomHeadersConfig"]["Items"]}
    permissions = dict(p.strip().split("=") for p in custom["Permissions-Policy"].split(","))
    assert permissions["camera"] == "(self)" and permissions["geolocation"] == "(self)"
    assert permissions["microphone"] == "()"
    dist = _distribution(template_json)
    policy_id = {"Ref": _one(template_json, "AWS::CloudFront::ResponseHeadersPolicy")[0]}
    assert all(b["ResponseHeadersPolicyId"] == policy_id
               for b in [dist["DefaultCacheBehavior"], *dist["CacheBehaviors"]])


def test_the_content_security_policy_allows_only_hadir(template_json):
    uploads = next(k for k, b in resources_of(template_json, "AWS::S3::Bucket").items()
                   if "CorsConfiguration" in b["Properties"])
    csp = _csp(template_json)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]  # no inline, no eval
    bucket = [f"https://<{uploads}>.s3.{REGION}.amazonaws.com",
              f"https://s3.{REGION}.amazonaws.com/<{uploads}>/"]  # virtual-hosted and path style
    assert csp["connect-src"] == ["'self'", *bucket]
    assert csp["img-src"] == ["'self'", "blob:", "data:", *bucket]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    every = [s for sources in csp.values() for s in sources]
    assert not [s for s in every if "unsafe" in s or s in ("*", "http:", "https:") or s.startswith("http:")]


def test_the_map_tile_server_is_the_only_extra_image_source(web_template_json):
    from tests.infra.conftest import WEB_TILES
    csp = _csp(web_template_json)
    assert csp["img-src"][-1] == WEB_TILES and WEB_TILES not in csp["connect-src"] + csp["script-src"]


def test_the_app_url_is_an_output(template_json):
    dist_id, _ = _one(template_json, "AWS::CloudFront::Distribution")
    out = template_json["Outputs"]["AppUrl"]["Value"]
    assert _rendered(out) == f"https://<{dist_id}.DomainName>"


def test_without_web_files_nothing_is_deployed(template_json):
    assert not [r for r in template_json["Resources"].values() if r["Type"] == "Custom::CDKBucketDeployment"]


def test_the_web_files_and_config_js_are_deployed_and_the_cache_invalidated(web_template_json):
    web = _web_bucket_id(web_template_json)
    dist_id, _ = _one(web_template_json, "AWS::CloudFront::Distribution")
    [deployment] = [r["Properties"] for r in web_template_json["Resources"].values()
                    if r["Type"] == "Custom::CDKBucketDeployment"]
    assert deployment["DestinationBucketName"] == {"Ref": web}
    assert deployment["DistributionId"] == {"Ref": dist_id}
    assert len(deployment["SourceObjectKeys"]) == 2  # web/ and config.js
    assert deployment["Prune"] is True


def test_config_js_names_the_same_origin_api_and_nothing_secret():
    from hadir_infra.web import config_js
    text = config_js()
    assert text == 'export default {"apiBase": "/api", "tileUrl": null};\n'  # as web/config.js


def _app_policies(t) -> dict[str, dict]:
    return {k: p["Properties"]["PolicyDocument"] for k, p in resources_of(t, "AWS::IAM::Policy").items()
            if _is_app_policy(k)}


def _is_app_policy(logical_id: str) -> bool:
    from hadir_infra.access import KINDS
    return any(logical_id.startswith(f"{k.capitalize()}Policy") for k in KINDS)


def test_the_app_roles_are_the_same_with_or_without_the_web_app(template_json, web_template_json):
    assert _app_policies(template_json) == _app_policies(web_template_json)
    text = json.dumps(_app_policies(template_json))
    assert "cloudfront" not in text and _web_bucket_id(template_json) not in text


def test_the_deployments_own_role_touches_only_the_app_bucket_and_its_assets(web_template_json):
    """The BucketDeployment's function (CDK's) is the only other role: the app's bucket, the
    CDK assets and a CloudFront invalidation, nothing of the data stores."""
    data = {k for k, v in web_template_json["Resources"].items()
            if v["Type"] in ("AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::SQS::Queue",
                             "AWS::SNS::Topic", "AWS::Cognito::UserPool")}
    data |= {k for k in resources_of(web_template_json, "AWS::S3::Bucket")
             if not k.startswith("WebBucket")}
    for pid, s in _statements(web_template_json):
        if _is_app_policy(pid):
            continue
        for d in data:
            assert not _refers_to(s["Resource"], d), (pid, d)


def test_the_import_jobs_consumer_has_the_import_role_its_queue_and_only_the_import_files(template_json):
    """The import jobs' consumer (process_import) runs with the import role (Cognito admin); it
    reads only the uploads bucket's imports/ and consumes and feeds only its own queue, whose
    visibility outlasts the function's timeout; the API may only queue to it, and the e-mail
    consumer never reads it."""
    from chalice.utils import to_cfn_resource_name
    fns = functions(template_json)
    consumer = fns[to_cfn_resource_name(r.IMPORT_QUEUE.handler)]["Properties"]
    assert consumer["Role"] == fns[to_cfn_resource_name("import_employees")]["Properties"]["Role"]
    assert consumer["Timeout"] < r.IMPORT_QUEUE.visibility_timeout_s
    [event] = consumer["Events"].values()
    assert event["Type"] == "SQS" and event["Properties"]["BatchSize"] == 1
    queues = {q["Properties"]["QueueName"]: k for k, q in resources_of(template_json, "AWS::SQS::Queue").items()}
    import_queue = queues[r.physical_name(AGENCY, "prod", r.IMPORT_QUEUE.logical)]
    email_queue = queues[r.physical_name(AGENCY, "prod", r.EMAIL_QUEUE.logical)]
    on_import_queue = {pid.split("Policy")[0]: set(_as_list(s["Action"])) for pid, s in _statements(template_json)
                       if s["Effect"] == "Allow" and _refers_to(s["Resource"], import_queue)}
    assert on_import_queue["Api"] == {"sqs:SendMessage", "sqs:GetQueueUrl"}
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"} <= on_import_queue["Import"]
    assert "Email" not in on_import_queue
    assert not [s for pid, s in _statements(template_json) if pid.startswith("ImportPolicy")
                and _refers_to(s["Resource"], email_queue)]
    reads = [s for pid, s in _statements(template_json) if pid.startswith("ImportPolicy")
             and "s3:GetObject" in _as_list(s["Action"])]
    assert reads and all(r.IMPORT_PREFIX in json.dumps(s["Resource"]) for s in reads)
