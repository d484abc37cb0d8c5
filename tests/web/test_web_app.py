"""The web app's static promises, checked without a browser: every server code has plain words in
both languages, every string key the screens use exists, no photo file input, no external fetch,
and the local stack's web server serves web/ and proxies /api/ with method, headers, body and
status."""
from __future__ import annotations

import http.server
import json
import pathlib
import re
import shutil
import subprocess
import threading
import urllib.request

import pytest

from local.stack import web_handler

ROOT = pathlib.Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
I18N = (WEB / "i18n.js").read_text()

# reason codes a check-in, a day or an enrolment carries (README, chalicelib/policy/decision.py)
REASONS = """face_match face_mismatch face_not_verified replayed_image no_face multiple_faces face_too_small
too_dark too_bright blurry not_frontal image_too_large unsupported_image corrupt_image liveness_passed
liveness_too_small liveness_wrong_direction liveness_flat_motion liveness_identity_changed
liveness_duplicate_frames stale_capture inside_geofence outside_geofence no_sites location_uncertain
accuracy_too_low mock_location implausible_accuracy copied_coordinates repeated_coordinates impossible_travel
stale_location clock_skew new_device shared_device on_time late early_leave outside_checkin_window
outside_checkout_window already_checked_in no_checkin weekend national_holiday cuti_bersama agency_holiday
enrolment_pending delayed_capture review_approved review_rejected request_approved too_many_attempts
duplicate_enrolment_photos inconsistent_enrolment_photos enrolment_photo_rejected roster roster_no_home_site report_due report_missing""".split()


def table(name: str) -> dict[str, list[str]]:
    body = I18N.split(f"const {name} = {{", 1)[1].split("\n};", 1)[0]
    entries = re.findall(r"(?:^|[\s,{])'?([\w-]+)'?:\s*\[\s*'((?:[^'\\]|\\.)*)',\s*'((?:[^'\\]|\\.)*)'\s*\]", body, re.M)
    return {k: [a, b] for k, a, b in entries}


def openapi_codes() -> set[str]:
    doc = json.loads((ROOT / "docs" / "openapi.json").read_text())
    return {c for path in doc["paths"].values() for op in path.values()
            for resp in op["responses"].values() for c in resp.get("x-error-codes", [])}


def test_every_server_code_has_plain_words_in_indonesian_and_english():
    # Given the app's reason table
    reasons = table("R")
    # Then every error code of the contract and every reason code is there, in both languages
    missing = sorted((openapi_codes() | set(REASONS)) - set(reasons))
    assert not missing, missing
    assert all(a.strip() and b.strip() for a, b in reasons.values())


def test_every_string_the_screens_use_exists_in_both_languages():
    strings = table("S")
    used = set()
    for f in WEB.glob("*.js"):
        used |= set(re.findall(r"\bt\('([\w-]+)'[,)]", f.read_text()))
    # keys built at run time: pose_<pose>, decision_<d>, type_<t>, sub_<s>, rstatus_<s>, nav_<n>, ...
    dynamic = {f"pose_{p}" for p in ("front", "left", "right", "up", "down")} | \
        {f"decision_{d}" for d in ("accepted", "flagged", "rejected")} | \
        {f"rstatus_{s}" for s in ("pending", "approved", "rejected", "cancelled")} | \
        {f"kind_{k}" for k in ("checkin", "enrolment", "episode")} | {"checkin_title_in", "checkin_title_out"} | \
        {"enrol_enrolled", "enrol_pending_approval"} | \
        {f"type_{k}" for k in ("excuse", "leave", "official_travel", "wfh", "leave_region")} | \
        {f"sub_{k}" for k in ("sick", "important_reason", "annual", "maternity", "big", "unpaid")} | \
        {f"nav_{n}" for n in ("home", "history", "requests", "notifications", "team", "reviews", "team-requests",
                              "import", "offices", "exports", "audit")}
    missing = sorted((used | dynamic) - set(strings))
    assert not missing, missing
    assert all(a.strip() and b.strip() for a, b in strings.values())


def test_no_photo_file_input_and_no_external_fetch():
    sources = {f.name: f.read_text() for f in [*WEB.glob("*.js"), WEB / "index.html"]}
    file_inputs = [m for text in sources.values() for m in re.findall(r"type: 'file', testid: '([\w-]+)'", text)]
    assert sorted(file_inputs) == ["import-file", "request-attachment"]  # documents and CSV, never a selfie
    for name, text in sources.items():
        code = re.sub(r"//.*", "", text)
        assert not re.search(r"https?://", code), name


@pytest.fixture()
def web(tmp_path):
    class Api(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - echo what arrived
            body = self.rfile.read(int(self.headers["Content-Length"]))
            echo = json.dumps({"path": self.path, "method": self.command, "body": body.decode(),
                               "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
            self.send_response(409)
            self.send_header("Content-Type", "application/json")
            self.send_header("Retry-After", "7")
            self.send_header("Content-Length", str(len(echo)))
            self.end_headers()
            self.wfile.write(echo)

        def log_message(self, *a):
            pass
    api = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    (tmp_path / "index.html").write_text("<!doctype html><title>x</title>")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), web_handler(tmp_path, f"http://127.0.0.1:{api.server_address[1]}"))
    for s in (api, srv):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    for s in (api, srv):
        s.shutdown()


def test_the_web_server_serves_the_app_and_proxies_the_api(web):
    # When the app is opened, it is index.html; a path outside web/ is not served
    with urllib.request.urlopen(web + "/") as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(web + "/../../etc/passwd")
    assert err.value.code == 404
    # When the app posts to /api/checkins with its headers
    req = urllib.request.Request(web + "/api/checkins?x=1", data=b'{"a": 1}', method="POST", headers={
        "Authorization": "Bearer tok", "X-Device-Id": "web-1", "Idempotency-Key": "k-1",
        "Content-Type": "application/json", "Cookie": "not-passed"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    # Then the API got the same method, path, body and headers; the app gets its status and headers
    assert err.value.code == 409 and err.value.headers["Retry-After"] == "7"
    echo = json.loads(err.value.read())
    assert echo["path"] == "/checkins?x=1" and echo["method"] == "POST" and echo["body"] == '{"a": 1}'
    h = echo["headers"]
    assert (h["authorization"], h["x-device-id"], h["idempotency-key"], h["content-type"]) == (
        "Bearer tok", "web-1", "k-1", "application/json")
    assert "cookie" not in h


def test_the_service_worker_caches_the_whole_shell_and_no_api():
    sw = (WEB / "sw.js").read_text()
    shell = set(re.findall(r"'([\w./-]+\.(?:js|css|html|png|webmanifest))'", sw.split("const SHELL", 1)[1].split("];", 1)[0]))
    files = {f.relative_to(WEB).as_posix() for f in WEB.rglob("*") if f.suffix in (".js", ".css", ".html", ".png", ".webmanifest")}
    assert files - {"sw.js"} == shell
    assert "url.pathname.startsWith('/api/')" in sw and "url.origin !== self.location.origin" in sw
    manifest = json.loads((WEB / "manifest.webmanifest").read_text())
    assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"} and manifest["display"] == "standalone"
    assert all((WEB / i["src"]).is_file() for i in manifest["icons"])


@pytest.mark.skipif(not shutil.which("node"), reason="node absent")
@pytest.mark.parametrize("script", sorted(f.name for f in WEB.glob("*.js")))
def test_every_script_parses(script, tmp_path):
    module = tmp_path / (pathlib.Path(script).stem + ".mjs")  # .mjs: parsed as an ES module
    module.write_bytes((WEB / script).read_bytes())
    r = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
