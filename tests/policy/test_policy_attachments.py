"""What a request's attachment may be: its type as its first bytes say (pure)."""
import pytest

from chalicelib.common.errors import InvalidInput, Kind
from chalicelib.policy.attachments import UploadedObject, check_upload, check_upload_id, sniff

PDF, JPEG, PNG = b"%PDF-1.7\n", b"\xff\xd8\xff\xdb", b"\x89PNG\r\n\x1a\n\x00"


def stored(head: bytes, content_type: str | None = "application/pdf", size: int = 1000,
           nonce: str | None = "n1") -> UploadedObject:
    return UploadedObject(size=size, content_type=content_type, nonce=nonce, head=head)


@pytest.mark.parametrize("head, expected", [
    (PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png"),
    (b"GIF89a", None), (b"MZ\x90", None), (b"%PDF", None), (b"\x89PNG\r\n", None), (b"", None)])
def test_the_type_is_told_by_the_magic_bytes(head, expected):
    assert sniff(head) == expected


def test_a_document_of_its_declared_type_within_the_limit_passes():
    assert check_upload(stored(PDF, "Application/PDF; charset=binary"), nonce="n1", max_bytes=1000) == "application/pdf"
    assert check_upload(stored(PNG, "image/png"), nonce="n1", max_bytes=1000) == "image/png"


@pytest.mark.parametrize("found, code, kind", [
    (None, "attachment_missing", Kind.INVALID),
    (stored(PDF, size=0), "attachment_missing", Kind.INVALID),
    (stored(PDF, size=1001), "attachment_too_large", Kind.TOO_LARGE),
    (stored(PDF, nonce="other"), "nonce_mismatch", Kind.INVALID),
    (stored(PDF, nonce=None), "nonce_mismatch", Kind.INVALID),
    (stored(JPEG, "application/pdf"), "unsupported_attachment", Kind.UNSUPPORTED),  # renamed
    (stored(PDF, "image/png"), "unsupported_attachment", Kind.UNSUPPORTED),
    (stored(b"<html>", "text/html"), "unsupported_attachment", Kind.UNSUPPORTED),
    (stored(PDF, None), "unsupported_attachment", Kind.UNSUPPORTED),
], ids=["none", "empty", "too-large", "other-nonce", "no-nonce", "jpeg-as-pdf", "pdf-as-png", "html", "no-type"])
def test_every_refusal_has_its_code(found, code, kind):
    with pytest.raises(Exception) as exc:
        check_upload(found, nonce="n1", max_bytes=1000)
    assert (exc.value.code, exc.value.kind) == (code, kind)


@pytest.mark.parametrize("upload_id", ["", "../x", "0" * 31, "G" * 32, "0" * 33])
def test_an_upload_id_is_32_hex_digits(upload_id):
    with pytest.raises(InvalidInput) as exc:
        check_upload_id(upload_id)
    assert exc.value.code == "invalid_upload_id"
    assert check_upload_id("0f" * 16) == "0f" * 16
