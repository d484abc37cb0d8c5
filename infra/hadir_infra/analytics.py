"""Athena over the exports bucket: a Glue database with one table per analytics table of
chalicelib/policy/analytics.py (the writer's schema: one source of truth), Parquet SerDe,
partition projection on the key layout (no crawler, no MSCK REPAIR), and an Athena workgroup
whose results go to their own bucket (the exports bucket is write-once and locked).
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_athena as athena, aws_glue as glue, aws_kms as kms, aws_s3 as s3
from constructs import Construct

from chalicelib.policy import analytics as schema

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
FIRST_YEAR = 2024  # the projection's ranges start here (no export is older)
LAST_YEAR = 2099
RESULTS_DAYS = 30


def database_name(agency_id: str, stage: str) -> str:
    """Glue names are lower case letters, digits and underscores."""
    return f"hadir_{agency_id}_{stage}".replace("-", "_")


def projection(table: schema.Table, bucket: str, agency_id: str) -> dict[str, str]:
    """Partition projection: each partition column's type and range, and where a partition is."""
    props = {"projection.enabled": "true", "classification": "parquet", "parquet.compression": "SNAPPY"}
    for p in table.partitions:
        if p.name == "year":
            props.update({"projection.year.type": "integer", "projection.year.range": f"{FIRST_YEAR},{LAST_YEAR}"})
        elif p.name == "month":
            props.update({"projection.month.type": "integer", "projection.month.range": "1,12",
                          "projection.month.digits": "2"})
        elif p.name == "date":
            props.update({"projection.date.type": "date", "projection.date.format": "yyyy-MM-dd",
                          "projection.date.range": f"{FIRST_YEAR}-01-01,NOW", "projection.date.interval": "1",
                          "projection.date.interval.unit": "DAYS"})
        elif p.name == "agency":  # one agency per stack (and per bucket)
            props.update({"projection.agency.type": "enum", "projection.agency.values": agency_id})
        else:
            raise ValueError(f"{table.name}.{p.name}: no projection for this partition column")
    parts = "".join(f"{p.name}=${{{p.name}}}/" for p in table.partitions)
    props["storage.location.template"] = f"s3://{bucket}/{table.prefix}{parts}"
    return props


def _columns(cols: tuple[schema.Column, ...]) -> list[glue.CfnTable.ColumnProperty]:
    return [glue.CfnTable.ColumnProperty(name=c.name, type=c.type, comment=c.comment or None) for c in cols]


class Analytics(Construct):
    """The Glue database and tables over ``exports``, and the workgroup."""

    def __init__(self, scope: Construct, id: str, *, exports: s3.IBucket, key: kms.IKey, agency_id: str,
                 stage: str, workgroup_name: str):
        super().__init__(scope, id)
        account = cdk.Stack.of(self).account
        self.database_name = database_name(agency_id, stage)
        self.database = glue.CfnDatabase(self, "Database", catalog_id=account, database_input=glue.CfnDatabase
                                         .DatabaseInputProperty(name=self.database_name,
                                                                description="Hadir's recaps and daily exports"))
        self.tables = {}
        for t in schema.TABLES:
            table = glue.CfnTable(self, f"Table{t.name.capitalize()}", catalog_id=account,
                                  database_name=self.database_name, table_input=glue.CfnTable.TableInputProperty(
                                      name=t.name, table_type="EXTERNAL_TABLE",
                                      parameters=projection(t, exports.bucket_name, agency_id),
                                      partition_keys=_columns(t.partitions),
                                      storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                                          columns=_columns(t.columns),
                                          location=f"s3://{exports.bucket_name}/{t.prefix}",
                                          input_format=PARQUET_INPUT, output_format=PARQUET_OUTPUT,
                                          serde_info=glue.CfnTable.SerdeInfoProperty(
                                              serialization_library=PARQUET_SERDE))))
            table.add_dependency(self.database)
            self.tables[t.name] = table
        self.results = s3.Bucket(
            self, "ResultsBucket", encryption=s3.BucketEncryption.KMS, encryption_key=key, bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-query-results", enabled=True,
                                              expiration=cdk.Duration.days(RESULTS_DAYS))],
            removal_policy=cdk.RemovalPolicy.RETAIN)
        self.workgroup = athena.CfnWorkGroup(
            self, "WorkGroup", name=workgroup_name, description="Hadir analytics (docs/analytics.md)",
            state="ENABLED", recursive_delete_option=False,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True, publish_cloud_watch_metrics_enabled=True,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(selected_engine_version="Athena engine version 3"),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results.bucket_name}/results/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=key.key_arn))))
