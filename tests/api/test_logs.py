"""Personal data in logs: NIPs pseudonymised under the log key from Secrets Manager, and the
suite's log scanner (tests/logscan.py) catching each kind of leak."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging

import pytest

from chalicelib.common import logs
from chalicelib.common import resources as r
from chalicelib.common.logs import logger
from tests.conftest import TEST_LOG_KEY
from tests.logscan import expect_leaks, find, scanner

NIP = "199001152015032001"
SUPERVISOR = "197805122005011002"


def ref(nip: str) -> str:
    return "p:" + hmac.new(TEST_LOG_KEY.encode(), nip.encode(), hashlib.sha256).hexdigest()[:12]


def line(message: str, **extra) -> dict:
    """What the hadir logger writes for ``logger.info(message, extra=extra)``: its JSON line."""
    record = logger._logger.makeRecord(logger.name, logging.INFO, __file__, 1, message, (), None,
                                       extra=extra)
    return json.loads(logger.registered_formatter.format(record))


def test_a_nip_field_is_renamed_and_pseudonymised_under_the_key():
    out = line("enrolled", nip=NIP, supervisor_nip=SUPERVISOR, model_version="fake-1")
    assert (out["nip_ref"], out["supervisor_nip_ref"]) == (ref(NIP), ref(SUPERVISOR))
    assert "nip" not in out and out["model_version"] == "fake-1"
    assert NIP not in json.dumps(out) and SUPERVISOR not in json.dumps(out)


def test_a_nip_field_is_pseudonymised_even_when_it_is_not_18_digits():
    assert line("login", nip="12345")["nip_ref"] == ref("12345")


def test_nips_anywhere_in_a_line_are_pseudonymised():
    # Given NIPs in the message, nested extras, a subject key, grouped digits and an object's str
    out = line(f"decided for {NIP}", actor=SUPERVISOR, details={"subject": f"employee#{NIP}"},
               printed="19900115 201503 2 001", who=[NIP], obj=Exception(f"no {NIP}"))
    text = json.dumps(out)
    # Then none is left, and the same person is the same pseudonym everywhere
    assert not find(text)
    assert out["message"] == f"decided for {ref(NIP)}" and out["actor"] == ref(SUPERVISOR)
    assert out["details"]["subject_ref"] == f"employee#{ref(NIP)}" and out["who"] == [ref(NIP)]
    assert out["printed"] == ref("199001152015032001")


def test_an_exception_text_is_pseudonymised():
    try:
        raise KeyError(f"employee {NIP}")
    except KeyError:
        record = logger._logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "failed", (),
                                           __import__("sys").exc_info())
    text = logger.registered_formatter.format(record)
    assert NIP not in text and ref(NIP) in text


def test_the_root_filter_pseudonymises_plain_records():
    record = logging.LogRecord("botocore", logging.INFO, __file__, 1, "item %s", (NIP,), None)
    logs.PseudonymisingFilter().filter(record)
    assert logging.Formatter().format(record) == f"item {ref(NIP)}"


def test_longer_and_shorter_digit_runs_are_left_alone():
    assert line("ids 1234567890123456789 and 12345678901234567")["message"] == \
        "ids 1234567890123456789 and 12345678901234567"


def test_the_key_is_read_from_secrets_manager_once_per_container(aws_env):
    # Given the bootstrapped secret and a key source over it counting its calls
    from chalicelib.adapters.secrets import SecretsLogKey
    from tests.conftest import _boto_client
    calls = []

    def client():
        calls.append(1)
        return _boto_client("secretsmanager")
    assert aws_env[r.LOG_KEY.env].startswith("arn:aws:secretsmanager:")
    source = SecretsLogKey(client, aws_env[r.LOG_KEY.env])
    assert source() == TEST_LOG_KEY.encode()
    saved = logs.pseudonyms
    logs.pseudonyms = logs._Pseudonyms()
    try:
        logs.use_key_source(source, "sm")
        # When three NIPs are pseudonymised, and the same source is installed again
        refs = [logs.nip_ref(NIP), logs.nip_ref(SUPERVISOR)]
        logs.use_key_source(source, "sm")
        refs.append(logs.nip_ref(NIP))
        # Then the secret was read once more only (once for the check above), and refs are the key's
        assert len(calls) == 2 and refs == [ref(NIP), ref(SUPERVISOR), ref(NIP)]
        assert not logs.pseudonyms.fallback
    finally:
        logs.pseudonyms = saved


def test_an_unreadable_key_falls_back_to_a_random_one_never_to_the_raw_nip(aws_env):
    from chalicelib.adapters.secrets import SecretsLogKey
    from tests.conftest import _boto_client
    saved = logs.pseudonyms
    logs.pseudonyms = logs._Pseudonyms()
    try:
        logs.use_key_source(SecretsLogKey(lambda: _boto_client("secretsmanager"), "no-such-secret"), "x")
        with expect_leaks() as leaks:
            out = logs.nip_ref(NIP)
        assert out.startswith("p:") and out != ref(NIP) and logs.pseudonyms.fallback
        assert logs.nip_ref(NIP) == out and not leaks
        assert line("enrolled", nip=NIP)["nip_ref"] == out
    finally:
        logs.pseudonyms = saved


def test_a_key_failing_while_a_line_is_formatted_still_gives_a_line(aws_env):
    from chalicelib.adapters.secrets import SecretsLogKey
    from tests.conftest import _boto_client
    saved = logs.pseudonyms
    logs.pseudonyms = logs._Pseudonyms()
    try:
        logs.use_key_source(SecretsLogKey(lambda: _boto_client("secretsmanager"), "no-such-secret"), "x")
        with expect_leaks() as leaks:
            logger.warning("enrolled", extra={"nip": NIP})
            out = line("enrolled", nip=NIP)
        assert out["nip_ref"] == logs.nip_ref(NIP) and not leaks
    finally:
        logs.pseudonyms = saved


def test_the_settings_name_the_log_key_secret(monkeypatch):
    from chalicelib.common.settings import load_settings
    assert load_settings({"HADIR_STAGE": "prod"}).log_key_secret == r.physical_name(r.DEFAULT_AGENCY, "prod", "log-key")
    arn = "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:hadir-prod-log-key-AbCdEf"
    assert load_settings({"HADIR_STAGE": "prod", r.LOG_KEY.env: arn}).log_key_secret == arn


# --- the scanner ----------------------------------------------------------------------------

JWT = "eyJraWQiOiJhYmMiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4eXoiLCJ0b2tlbl91c2UiOiJpZCJ9.c2lnbmF0dXJl"
LEAKS = {
    "nip": f"employee {NIP} checked in",
    "jwt": f"Authorization: Bearer {JWT}",
    "image": "photo /9j/4AAQSkZJRgABAQAAAQABAAD",
    "base64": "body " + "QUJD" * 60,
    "embedding": "template " + str([0.0123 * i - 0.4 for i in range(32)]),
}


@pytest.mark.parametrize("kind", sorted(LEAKS))
def test_the_scanner_catches_each_kind_on_the_root_logger(kind):
    with expect_leaks() as leaks:
        logging.getLogger("some.library").warning(LEAKS[kind])
    assert kind in {x.kind for x in leaks}
    assert {x.test for x in leaks} == {scanner.test} and "test_logs.py" in scanner.test


@pytest.mark.parametrize("kind", sorted(set(LEAKS) - {"nip"}))
def test_the_scanner_catches_each_kind_on_the_hadir_logger(kind):
    with expect_leaks() as leaks:
        logger.debug("oops", extra={"value": LEAKS[kind]})
    assert kind in {x.kind for x in leaks}


@pytest.mark.parametrize("text", [
    "\\xff\\xd8\\xff\\xe0 raw jpeg bytes", "iVBORw0KGgoAAAANSUhEUg", "array([ 0.1, -0.2, 0.3, 0.4, 0.5, "
    "0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6])", "nip 19900115 201503 2 001"])
def test_the_scanner_catches_other_spellings(text):
    assert find(text)


def test_a_nip_through_the_hadir_logger_is_no_leak():
    with expect_leaks() as leaks:
        logger.warning(f"no employee {NIP}", extra={"nip": NIP})
    assert not leaks


@pytest.mark.parametrize("text", [
    "check-in decided", "p:ab12cd34ef56", "2025-03-03T07:45:00+08:00", "score 0.8123, 0.22",
    "sha256 " + hashlib.sha256(b"x").hexdigest(), "ids 1234567890123456789"])
def test_ordinary_lines_are_clean(text):
    assert not find(text)


def test_a_failing_job_raises_and_logs_no_nip(monkeypatch):
    # Given the absence job failing with a NIP in its message (the runtime prints what escapes)
    from chalicelib.api import events

    def fail(*_, **__):
        raise KeyError(f"no day record for {NIP}")
    monkeypatch.setattr(events.jobs, "detect_absence", fail)
    monkeypatch.setattr(events, "get_services", lambda: None)
    with expect_leaks() as leaks:
        with pytest.raises(logs.ScrubbedFailure) as err:
            events.HANDLERS["detect_absence_wib"]({})
    # Then it still fails (EventBridge and SQS retry), naming the pseudonym, and logs no NIP
    assert NIP not in str(err.value) and ref(NIP) in str(err.value) and not leaks
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_a_job_failure_naming_no_nip_is_raised_unchanged(monkeypatch):
    from chalicelib.api import events
    from chalicelib.common.errors import Unavailable

    def fail(*_, **__):
        raise Unavailable("The notice could not be published", code="notify_failure")
    monkeypatch.setattr(events.jobs, "detect_absence", fail)
    monkeypatch.setattr(events, "get_services", lambda: None)
    with pytest.raises(Unavailable):
        events.HANDLERS["detect_absence_wib"]({})
