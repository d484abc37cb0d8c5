"""The analytics function and Athena in the synthesized stack: the function from its own package
with its own role, the only writer of the exports; Glue tables whose columns, partitions and
projection are the writer's schema (chalicelib/policy/analytics.py); a workgroup with its own
results bucket."""
from __future__ import annotations

import pytest

from chalicelib.policy import analytics as schema
from tests.infra.conftest import CONTEXT
from tests.infra.test_synth import _granted, functions, resources_of

pytestmark = pytest.mark.infra
AGENCY = CONTEXT["agency_id"]
NAME = f"hadir-{AGENCY}-prod-analytics"


def _analytics(template_json) -> tuple[str, dict]:
    [(fn_id, fn)] = [(k, v) for k, v in resources_of(template_json, "AWS::Lambda::Function").items()
                     if v["Properties"].get("FunctionName") == NAME]
    return fn_id, fn["Properties"]


def test_the_analytics_function_runs_its_own_package_with_its_own_role(template_json):
    from hadir_infra.access import ANALYTICS_HANDLER
    fn_id, props = _analytics(template_json)
    assert props["Runtime"] == "python3.12" and props["Handler"] == ANALYTICS_HANDLER == "analytics.handler"
    assert props["Role"]["Fn::GetAtt"][0].startswith("AnalyticsRole")
    assert "S3Key" in props["Code"] and props["TracingConfig"] == {"Mode": "Active"}
    assert props["Timeout"] == 300 and props["MemorySize"] >= 1024 and props["ReservedConcurrentExecutions"]
    chalice_env = next(iter(functions(template_json).values()))["Properties"]["Environment"]["Variables"]
    assert set(chalice_env) - {"HADIR_ANALYTICS_FUNCTION", "HADIR_IMPORT_FUNCTION"} <= set(
        props["Environment"]["Variables"])
    alarms = {(a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"].get("Ref"))
              for a in resources_of(template_json, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("Namespace") == "AWS/Lambda"}
    assert {("Errors", fn_id), ("Throttles", fn_id)} <= alarms
    groups = [g["Properties"] for g in resources_of(template_json, "AWS::Logs::LogGroup").values()]
    assert {"LogGroupName": {"Fn::Join": ["", ["/aws/lambda/", {"Ref": fn_id}]]}, "RetentionInDays": 365} in groups


def test_the_api_and_the_export_jobs_invoke_it_by_name_and_only_it_writes_exports(template_json):
    from hadir_infra.access import ANALYTICS_FUNCTION_ENV, classify
    kinds = {f.logical_id: f.kind for f in classify(list(functions(template_json)))}
    for fn_id, fn in functions(template_json).items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert (env.get(ANALYTICS_FUNCTION_ENV) == NAME) == (kinds[fn_id] in ("api", "export")), fn_id
    granted = _granted(template_json)
    assert "lambda:InvokeFunction" in granted["api"] and "lambda:InvokeFunction" in granted["export"]
    assert "s3:PutObject" in granted["analytics"]
    assert not {"s3:PutObject", "kms:GenerateDataKey"} & granted["export"]
    assert "lambda:InvokeFunction" not in granted["analytics"]


def _glue_tables(template_json) -> dict[str, dict]:
    return {t["Properties"]["TableInput"]["Name"]: t["Properties"]
            for t in resources_of(template_json, "AWS::Glue::Table").values()}


@pytest.mark.parametrize("table", schema.TABLES, ids=lambda t: t.name)
def test_each_glue_table_is_the_writers_schema_in_parquet_with_partition_projection(template_json, table):
    [db] = [d["Properties"]["DatabaseInput"]["Name"] for d in resources_of(template_json, "AWS::Glue::Database").values()]
    assert db == f"hadir_{AGENCY.replace('-', '_')}_prod"
    props = _glue_tables(template_json)[table.name]
    assert props["DatabaseName"] == db
    t = props["TableInput"]
    sd = t["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [(c.name, c.type) for c in table.columns]
    assert [(c["Name"], c["Type"]) for c in t["PartitionKeys"]] == [(c.name, c.type) for c in table.partitions]
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert "Parquet" in sd["InputFormat"] and "Parquet" in sd["OutputFormat"]
    params = t["Parameters"]
    assert params["projection.enabled"] == "true" and params["projection.agency.values"] == AGENCY
    template = params["storage.location.template"]
    [exports_id] = [k for k, b in resources_of(template_json, "AWS::S3::Bucket").items()
                    if b["Properties"].get("ObjectLockEnabled")]
    assert template["Fn::Join"][1][1] == {"Ref": exports_id}
    # the template names the folder the writer puts a partition's runs in
    example = {"year": 2026, "month": 3, "date": "2026-03-03", "agency": AGENCY}
    folder = table.key(example, "RUN").rsplit("/", 1)[0] + "/"
    layout = template["Fn::Join"][1][2]
    for p in table.partitions:
        layout = layout.replace(f"${{{p.name}}}", {"month": "03"}.get(p.name, str(example[p.name])))
    assert layout == "/" + folder
    for p in table.partitions:
        assert params[f"projection.{p.name}.type"] in ("integer", "date", "enum")
    assert params.get("projection.month.digits", "2") == "2"


def test_the_workgroup_writes_encrypted_results_to_its_own_expiring_bucket(template_json):
    [wg] = resources_of(template_json, "AWS::Athena::WorkGroup").values()
    conf = wg["Properties"]["WorkGroupConfiguration"]
    assert wg["Properties"]["Name"] == NAME and conf["EnforceWorkGroupConfiguration"] is True
    result = conf["ResultConfiguration"]
    assert result["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    bucket_id = result["OutputLocation"]["Fn::Join"][1][1]["Ref"]
    bucket = resources_of(template_json, "AWS::S3::Bucket")[bucket_id]["Properties"]
    assert not bucket.get("ObjectLockEnabled")
    assert [r["ExpirationInDays"] for r in bucket["LifecycleConfiguration"]["Rules"]] == [30]
    assert bucket["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    # no application role queries Athena
    assert not [a for actions in _granted(template_json).values() for a in actions
                if a.startswith(("athena:", "glue:"))]
