"""Create every resource of chalicelib/common/resources.py through boto3 (moto server or mock_aws).

Returns the environment variables the application needs for what cannot be named in advance
(user pool id, client id, topic ARN, KMS key).
"""
from __future__ import annotations

import json
import os
import secrets
from typing import Any, Callable

from chalicelib.common import resources as r

ClientFactory = Callable[[str], Any]
LOCAL_WEB_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*")


def create_all(client: ClientFactory, stage: str, *, agency: str | None = None,
               ses_sender: str = "hadir-noreply@example.go.id",
               sender_domain_verified: bool = True, log_key: str | None = None) -> dict[str, str]:
    """``agency`` defaults to the environment's HADIR_AGENCY_ID (the stage's settings); the names
    created are returned with the ids, so the application finds exactly these. ``log_key``: the
    log key's value (tests pin one), else a random one."""
    agency = agency or os.environ.get(r.AGENCY_ENV) or r.DEFAULT_AGENCY
    env: dict[str, str] = {r.AGENCY_ENV: agency, **r.all_env_vars(agency, stage)}
    ddb = client("dynamodb")
    for t in r.TABLES:
        _create_table(ddb, t, r.physical_name(agency, stage, t.logical))
    s3 = client("s3")
    for b in r.BUCKETS:
        _create_bucket(s3, b, r.physical_name(agency, stage, b.logical))
    env.update(_create_messaging(client("sns"), client("sqs"), agency, stage))
    env.update(_create_keys(client("kms"), s3, agency, stage))
    sm = client("secretsmanager")
    for sec in r.SECRETS:  # only the log key so far
        env[sec.env] = sm.create_secret(Name=r.physical_name(agency, stage, sec.logical), Description=sec.purpose,
                                        SecretString=log_key or secrets.token_hex(32))["ARN"]
    client("ses").verify_email_identity(EmailAddress=ses_sender)
    env[r.SES_SENDER_ENV] = ses_sender
    env.update(_create_user_pool(client("cognito-idp"), r.physical_name(agency, stage, r.USER_POOL.logical)))
    return env


def _create_bucket(s3: Any, b: r.Bucket, name: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": name}
    if s3.meta.region_name != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": s3.meta.region_name}
    if b.object_lock:  # as the CDK stack's exports bucket: versioned, Object Lock enabled
        kwargs["ObjectLockEnabledForBucket"] = True
    s3.create_bucket(**kwargs)
    if b.object_lock:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    if b is r.UPLOADS_BUCKET:  # the same rules as the CDK stack's
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
            {"ID": e.rule_id, "Status": "Enabled", "Filter": {"Prefix": e.prefix},
             "Expiration": {"Days": e.days}} for e in r.uploads_expiry(b.expire_days or 1)]})
    # the web app (local.stack's web port) posts photos and documents straight to the uploads
    # bucket and reads presigned GETs (an export's manifest) from the others
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": list(LOCAL_WEB_ORIGINS), "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"],
        "AllowedMethods": ["POST", "GET"] if b is r.UPLOADS_BUCKET else ["GET"], "MaxAgeSeconds": 600}]})


def _create_messaging(sns: Any, sqs: Any, agency: str, stage: str) -> dict[str, str]:
    """Topics, then queues (DLQs first in QUEUES) subscribed as the stack subscribes them."""
    env, topics, queue_arns = {}, {}, {}
    for t in r.TOPICS:
        topics[t.logical] = env[t.env] = sns.create_topic(Name=r.physical_name(agency, stage, t.logical))["TopicArn"]
    for q in r.QUEUES:
        attrs = {"VisibilityTimeout": str(q.visibility_timeout_s)}
        if q.dlq:
            attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": queue_arns[q.dlq],
                                                 "maxReceiveCount": str(q.max_receive_count)})
        url = sqs.create_queue(QueueName=r.physical_name(agency, stage, q.logical), Attributes=attrs)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_arns[q.logical] = arn
        if q.subscribes_to:
            sns.subscribe(TopicArn=topics[q.subscribes_to], Protocol="sqs", Endpoint=arn,
                          Attributes={"RawMessageDelivery": "true"})
    return env


def _create_keys(kms: Any, s3: Any, agency: str, stage: str) -> dict[str, str]:
    """The KMS keys by alias (the data key by ARN, as the stack passes it), and every bucket's
    default encryption under the data key, as the CDK stack sets it."""
    env = {}
    for k in r.KMS_KEYS:
        key_id = kms.create_key(Description=k.purpose, KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
        alias = f"alias/{r.physical_name(agency, stage, k.alias)}"
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        env[k.env] = alias
    data_key = env[r.DATA_KEY.env] = kms.describe_key(KeyId=env[r.DATA_KEY.env])["KeyMetadata"]["Arn"]
    for b in r.BUCKETS:
        s3.put_bucket_encryption(Bucket=r.physical_name(agency, stage, b.logical), ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": data_key}, "BucketKeyEnabled": True}]})
    return env


def _create_user_pool(idp: Any, name: str) -> dict[str, str]:
    up = r.USER_POOL
    pool = idp.create_user_pool(
        PoolName=name,
        Policies={"PasswordPolicy": {"MinimumLength": up.password_min_length, "RequireUppercase": False,
                                     "RequireLowercase": False, "RequireNumbers": False,
                                     "RequireSymbols": False}},
        Schema=[{"Name": a, "AttributeDataType": "String", "Mutable": True} for a in up.custom_attributes],
    )["UserPool"]
    for g in up.groups:
        idp.create_group(GroupName=g, UserPoolId=pool["Id"])
    app_client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="hadir-mobile",
                                             GenerateSecret=False, ExplicitAuthFlows=list(up.auth_flows),
                                             WriteAttributes=list(up.client_write_attributes),
                                             IdTokenValidity=up.token_hours, AccessTokenValidity=up.token_hours,
                                             RefreshTokenValidity=up.refresh_token_days,
                                             TokenValidityUnits={"IdToken": "hours", "AccessToken": "hours",
                                                                 "RefreshToken": "days"})
    return {up.pool_id_env: pool["Id"], up.client_id_env: app_client["UserPoolClient"]["ClientId"]}


def _create_table(ddb: Any, t: r.Table, name: str) -> None:
    attrs = {t.hash_key.name: t.hash_key.type}
    keys = [{"AttributeName": t.hash_key.name, "KeyType": "HASH"}]
    if t.range_key:
        attrs[t.range_key.name] = t.range_key.type
        keys.append({"AttributeName": t.range_key.name, "KeyType": "RANGE"})
    gsis = []
    for g in t.gsis:
        attrs[g.hash_key.name] = g.hash_key.type
        gk = [{"AttributeName": g.hash_key.name, "KeyType": "HASH"}]
        if g.range_key:
            attrs[g.range_key.name] = g.range_key.type
            gk.append({"AttributeName": g.range_key.name, "KeyType": "RANGE"})
        gsis.append({"IndexName": g.name, "KeySchema": gk, "Projection": {"ProjectionType": g.projection}})
    kwargs: dict[str, Any] = {
        "TableName": name, "KeySchema": keys, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": v} for k, v in attrs.items()]}
    if gsis:
        kwargs["GlobalSecondaryIndexes"] = gsis
    if t.stream:  # as the stack's (NEW_AND_OLD_IMAGES): local/stack.py reads it like Lambda would
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    ddb.create_table(**kwargs)
    if t.ttl_attribute:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": t.ttl_attribute})
