"""One suite for both ``ImportJobs`` adapters: DynamoDB (in moto) and in memory."""
from __future__ import annotations

import functools
import secrets
from typing import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chalicelib.adapters.memory.import_jobs import InMemoryImportJobs
from chalicelib.adapters.storage.import_jobs import DynamoImportJobs
from chalicelib.common.errors import InvalidInput, Unavailable
from chalicelib.common.settings import get_settings, reset_settings
from chalicelib.services.records import ImportJob
from chalicelib.services.schemas import ErrorBody, ImportRow

NOW = "2026-03-03T01:00:00.000+00:00"


@functools.cache
def _client(service: str, region: str) -> object:
    return boto3.client(service, region_name=region)


@pytest.fixture(scope="module")
def dynamo() -> Iterator[DynamoImportJobs]:
    from local.bootstrap import create_all
    region = get_settings().region
    with mock_aws(), pytest.MonkeyPatch.context() as mp:
        for name, value in create_all(lambda service: _client(service, region), "test").items():
            mp.setenv(name, value)
        reset_settings()
        yield DynamoImportJobs(get_settings())
    reset_settings()


@pytest.fixture(params=["dynamo", "memory"])
def jobs(request):
    store = request.getfixturevalue("dynamo") if request.param == "dynamo" else InMemoryImportJobs()
    job = ImportJob(import_id=secrets.token_hex(16), state="uploaded", actor="admin", content_type="text/csv",
                    created_at=NOW, updated_at=NOW)
    store.create(job)
    return store, job.import_id


def test_a_created_job_reads_back_with_no_progress(jobs):
    store, import_id = jobs
    job = store.get(import_id)
    assert (job.state, job.total, job.done, job.failed, job.plan) == ("uploaded", None, 0, 0, None)
    assert store.get(secrets.token_hex(16)) is None


def test_an_update_applies_only_in_the_expected_states(jobs):
    store, import_id = jobs
    assert store.update(import_id, NOW, state="queued", expect=("uploaded",))
    assert not store.update(import_id, NOW, state="running", expect=("uploaded",))
    assert store.update(import_id, NOW, state="running", total=3, plan={"header": ["nip"]}, expect=("queued",))
    job = store.get(import_id)
    assert (job.state, job.total, job.plan) == ("running", 3, {"header": ["nip"]})


def test_a_row_is_recorded_and_counted_once(jobs):
    store, import_id = jobs
    ok = ImportRow(row=2, nip="199001152015032001", ok=True)
    bad = ImportRow(row=1, nip="123", ok=False, error=ErrorBody(code="invalid_nip", message="x",
                                                                 details={"problems": ["too_short"]}))
    assert store.record_row(import_id, ok, NOW) and store.record_row(import_id, bad, NOW)
    assert not store.record_row(import_id, ok, NOW)  # a redelivery: nothing twice
    assert store.done_rows(import_id, 1, 2) == {1: False, 2: True} and store.done_rows(import_id, 3, 9) == {}
    assert (store.get(import_id).done, store.get(import_id).failed) == (0, 0)  # counted a batch at a time
    # When the batch is counted, and counted again (a redelivery, a second consumer)
    assert store.count_batch(import_id, "1-2", 1, 1, NOW)
    assert not store.count_batch(import_id, "1-2", 1, 1, NOW)
    assert store.count_batch(import_id, "3-4", 2, 0, NOW)
    assert not store.count_batch("0" * 32, "1-2", 1, 0, NOW)  # no such job: nothing written
    # Then the job counts each batch once
    job = store.get(import_id)
    assert (job.done, job.failed, job.updated_at) == (3, 1, NOW)
    assert store.rows(import_id, 0, 10) == [bad, ok] and store.rows(import_id, 1, 10) == [ok]
    assert store.rows(import_id, 0, 1) == [bad]


def test_throttles_are_retryable_refusals_are_not(jobs):
    store, _ = jobs
    assert store.retryable(Unavailable("busy", code="directory_failure"))
    assert not store.retryable(InvalidInput("bad", code="invalid_user"))


def test_the_dynamo_store_knows_aws_throttling(dynamo):
    throttled = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")
    denied = ClientError({"Error": {"Code": "AccessDeniedException"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
                         "PutItem")
    assert dynamo.retryable(throttled) and not dynamo.retryable(denied)
