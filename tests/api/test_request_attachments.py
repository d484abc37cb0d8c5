"""A request's attachment (a medical certificate for an excuse) through the API: the owner uploads it
with a presigned POST while the request is pending, the service checks it by its own bytes and keeps
it under attachments/, and the employee and the deciding supervisor see it as a short-lived link."""
import pytest
import requests as http

from tests.api.helpers import AYU, BUDI, KETUT, MADE

NOW = "2026-03-03T07:00:00+08:00"  # a Tuesday in Denpasar (WITA)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 60 + b"%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
EXE = b"MZ\x90\x00" + bytes(range(256)) * 4


@pytest.fixture
def today(api, set_now):
    return set_now(NOW)


def excuse(api, nip=AYU):
    """Ayu's excuse for yesterday's absence (sick), pending."""
    r = api.post("/me/requests", {"type": "excuse", "subtype": "sick", "start": "2026-03-02", "end": "2026-03-02",
                                  "reason": "Demam, surat dokter terlampir"}, user=nip)
    assert r.status_code == 201, r.json
    return r.json["request_id"]


def prepare(api, request_id, content_type="application/pdf", user=AYU):
    return api.post(f"/me/requests/{request_id}/attachment", {"content_type": content_type}, user=user)


def attach(api, request_id, data=PDF, content_type="application/pdf", upload_as=None, user=AYU):
    """Prepare, upload ``data`` (sent as ``upload_as``, default the declared type), confirm."""
    p = prepare(api, request_id, content_type, user=user)
    assert p.status_code == 201, p.json
    assert api.upload(p.json["upload"], data, upload_as or content_type) in (200, 201, 204)
    return api.put(f"/me/requests/{request_id}/attachment", {"upload_id": p.json["upload_id"]}, user=user)


def uploads_bucket():
    from chalicelib.wiring import get_services
    svc = get_services()
    return svc.uploads, svc.settings.buckets["uploads"]


def keys_under(prefix: str) -> list[str]:
    import boto3
    _, bucket = uploads_bucket()
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_an_employee_attaches_a_medical_certificate_and_her_supervisor_opens_it(api, today):
    request_id = excuse(api)
    # When Ayu asks to upload a PDF
    p = prepare(api, request_id)
    # Then she gets a presigned POST of at most 2 MB of exactly that type, bound to a nonce
    assert p.status_code == 201, p.json
    assert (p.json["request_id"], p.json["content_type"], p.json["max_bytes"]) == (
        request_id, "application/pdf", 2 * 1024 * 1024)
    fields = p.json["upload"]["fields"]
    assert fields["Content-Type"] == "application/pdf" and fields["x-amz-meta-nonce"] == p.json["upload_id"]
    assert p.json["upload"]["key"].startswith(f"attachment-uploads/{AYU}/{request_id}/")
    # When she uploads it and confirms
    assert api.upload(p.json["upload"], PDF, "application/pdf") in (200, 201, 204)
    r = api.put(f"/me/requests/{request_id}/attachment", {"upload_id": p.json["upload_id"]}, user=AYU)
    # Then the request carries it, typed by its bytes, with a short-lived download link
    assert r.status_code == 200, r.json
    a = r.json["attachment"]
    assert (a["content_type"], a["bytes"], a["url_expires_in"]) == ("application/pdf", len(PDF), 300)
    assert http.get(a["url"], timeout=5).content == PDF
    # And it is kept under attachments/ (its own lifecycle rule), the raw upload gone
    assert keys_under(f"attachments/{AYU}/{request_id}/") and not keys_under(f"attachment-uploads/{AYU}/")
    # And her list shows it; her supervisor deciding sees it too, as a fresh link
    [mine] = api.get("/me/requests", user=AYU).json["requests"]
    assert mine["attachment"]["content_type"] == "application/pdf"
    [theirs] = api.get("/team/requests", user=KETUT).json["requests"]
    assert http.get(theirs["attachment"]["url"], timeout=5).content == PDF
    assert "response-content-disposition=attachment" in theirs["attachment"]["url"]
    # And the audit trail keeps the step with the document's type and size
    from chalicelib.wiring import get_services
    [added] = [e for e in get_services().records.audit_trail(AYU) if e.action == "request_attachment_added"]
    assert (added.actor, added.details["attachment"]["bytes"]) == (AYU, len(PDF))


def test_attaching_again_replaces_the_document(api, today):
    request_id = excuse(api)
    assert attach(api, request_id).status_code == 200
    r = attach(api, request_id, JPEG, "image/jpeg")
    assert r.status_code == 200, r.json
    assert (r.json["attachment"]["content_type"], r.json["attachment"]["bytes"]) == ("image/jpeg", len(JPEG))
    assert http.get(r.json["attachment"]["url"], timeout=5).content == JPEG


@pytest.mark.parametrize("data, declared, upload_as, detected", [
    (JPEG, "application/pdf", "application/pdf", "image/jpeg"),  # a photo renamed .pdf
    (EXE, "image/png", "image/png", None),  # a program renamed .png
    (PNG, "image/png", "text/html", "image/png"),  # the POST's header against the declaration
], ids=["jpeg-as-pdf", "exe-as-png", "header-not-declared"])
def test_a_file_whose_bytes_are_not_its_declared_type_is_refused_and_nothing_kept(
        api, today, data, declared, upload_as, detected):
    request_id = excuse(api)
    r = attach(api, request_id, data, declared, upload_as=upload_as)
    assert r.status_code == 415, r.json
    assert r.json["error"]["code"] == "unsupported_attachment"
    assert r.json["error"]["details"]["detected"] == detected
    assert api.get("/me/requests", user=AYU).json["requests"][0]["attachment"] is None
    assert keys_under("attachments/") == [] and keys_under("attachment-uploads/") == []


def test_a_file_over_the_size_limit_is_attachment_too_large(api, today, setting):
    # Given a 4 KB limit (S3 enforces it on the POST; the service checks it again)
    setting("HADIR_ATTACHMENT_MAX_BYTES", "4096")
    request_id = excuse(api)
    r = attach(api, request_id, PDF + b"%" * 4096)
    assert r.status_code == 413, r.json
    assert r.json["error"]["code"] == "attachment_too_large"
    assert r.json["error"]["details"] == {"bytes": len(PDF) + 4096, "max_bytes": 4096}
    assert keys_under("attachments/") == []


def test_confirming_an_upload_never_made_is_attachment_missing(api, today):
    request_id = excuse(api)
    p = prepare(api, request_id)
    r = api.put(f"/me/requests/{request_id}/attachment", {"upload_id": p.json["upload_id"]}, user=AYU)
    assert (r.status_code, r.json["error"]["code"]) == (422, "attachment_missing")
    # And an upload id of no upload's shape is invalid_upload_id (no key is built from it)
    for forged in ("../../evidence/x", "A" * 32, ""):
        r = api.put(f"/me/requests/{request_id}/attachment", {"upload_id": forged}, user=AYU)
        assert (r.status_code, r.json["error"]["code"]) == (422, "invalid_upload_id"), forged


def test_only_pdf_jpeg_or_png_may_be_declared(api, today):
    request_id = excuse(api)
    r = prepare(api, request_id, "text/html")
    assert (r.status_code, r.json["error"]["code"]) == (422, "unsupported_attachment")


def test_another_employees_request_or_a_forged_id_is_request_not_found(api, today):
    request_id = excuse(api)
    p = prepare(api, request_id)
    # When Made (or Ayu's own supervisor, who decides but does not attach) tries her request
    for user in (MADE, KETUT):
        assert prepare(api, request_id, user=user).status_code == 404
        r = api.put(f"/me/requests/{request_id}/attachment", {"upload_id": p.json["upload_id"]}, user=user)
        assert (r.status_code, r.json["error"]["code"]) == (404, "request_not_found")
    assert prepare(api, "rq-" + "0" * 20).status_code == 404
    assert prepare(api, "ledger%23" + AYU).status_code == 404  # the ledger item is no request


def test_a_decided_request_takes_no_attachment(api, today):
    request_id = excuse(api)
    p = prepare(api, request_id)
    assert api.post(f"/team/requests/{request_id}", {"decision": "approve"}, user=KETUT).status_code == 200
    r = prepare(api, request_id)
    assert (r.status_code, r.json["error"]["code"]) == (409, "request_not_pending")
    api.upload(p.json["upload"], PDF, "application/pdf")
    r = api.put(f"/me/requests/{request_id}/attachment", {"upload_id": p.json["upload_id"]}, user=AYU)
    assert (r.status_code, r.json["error"]["code"]) == (409, "request_not_pending")


def test_role_boundaries_of_the_attachment(api, today):
    request_id = excuse(api)
    assert attach(api, request_id).status_code == 200
    # Another unit's supervisor never sees it; no token, no upload
    assert api.get("/team/requests?status=all", user=BUDI).json["requests"] == []
    assert api.post(f"/me/requests/{request_id}/attachment", {"content_type": "application/pdf"}).status_code == 401
    # An admin (no NIP of their own) attaches nothing to anyone's request, but sees the link deciding
    assert prepare(api, request_id, user="admin").status_code == 403
    [seen] = api.get("/team/requests", user="admin").json["requests"]
    assert http.get(seen["attachment"]["url"], timeout=5).content == PDF
