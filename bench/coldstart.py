"""Cold start of the packaged Lambda code: import to first verified face.

Runs INSIDE an isolated Python 3.12 process whose path holds only the unpacked deployment zip and
a folder with boto3 and its dependencies, as the Lambda python3.12 runtime does:

    python -I -S bench/coldstart.py --pkg DIR --runtime DIR enrol  --nip N PHOTO PHOTO PHOTO
    python -I -S bench/coldstart.py --pkg DIR --runtime DIR verify --nip N PHOTO [--impostor PHOTO]
    python -I -S bench/coldstart.py --pkg DIR --runtime DIR api-enrol --user NIP --password PW P P P
    python -I -S bench/coldstart.py --pkg DIR --runtime DIR api-checkin --token T --lat Y --lon X \
        front=PHOTO left=PHOTO right=PHOTO

The AWS side comes from the environment (the app's settings: HADIR_STAGE, table names,
AWS_ENDPOINT_URL of a moto server, ...). ``enrol`` builds a template from three photos and stores it
KMS-sealed in DynamoDB through the app's adapters; ``verify`` is the measured cold start: import
the handler module (app.py), read the sealed template from DynamoDB, unseal it with KMS and verify
a photo. ``api-enrol``/``api-checkin`` go through the Lambda handler itself (``app.app(event,
context)`` with API Gateway proxy events, as API Gateway invokes it): sign in, enrolment upload
session + three uploads + enrolment; then, in a fresh process, the measured check-in: upload
session, upload, ``POST /checkins`` (Idempotency-Key). Prints one JSON object.
tests/infra/test_package.py drives all four against the built zip.
"""
from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402


def _paths(argv: list[str]) -> None:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--pkg", required=True)
    pre.add_argument("--runtime", required=True)
    known, _ = pre.parse_known_args(argv)
    sys.path[:0] = [known.pkg, known.runtime]  # /var/task first, then the runtime's boto3


def enrol(nip: str, photos: list[str]) -> dict:
    from chalicelib.adapters.storage.models import BiometricModel
    from chalicelib.face import get_engine
    from chalicelib.services.records import utc_iso
    from chalicelib.wiring import get_services

    svc = get_services()  # binds the PynamoDB models to the stage's tables and endpoint
    enrolment = get_engine().enrol([open(p, "rb").read() for p in photos])
    sealed = svc.vault.seal(nip, enrolment.template.to_dict())
    BiometricModel(nip, ciphertext=sealed.ciphertext, encrypted_key=sealed.encrypted_key,
                   nonce=sealed.nonce, key_id=sealed.key_id,
                   model_version=enrolment.template.model_version, created_at=utc_iso(svc.clock.now())).save()
    return {"enrolled": nip, "model_version": enrolment.template.model_version,
            "seconds": round(time.perf_counter() - T0, 3)}


def _foreign_modules() -> list[str]:
    """Modules loaded from anywhere but the zip, the runtime's boto3 folder or the stdlib."""
    import sysconfig
    allowed = [sys.path[0], sys.path[1], sysconfig.get_paths()["stdlib"],
               sysconfig.get_paths()["platstdlib"]]
    found = []
    for name, m in list(sys.modules.items()):
        path = getattr(m, "__file__", None)
        if not path or name in ("__main__", "__mp_main__"):  # this script itself
            continue
        if "site-packages" in path or not any(path.startswith(a) for a in allowed):
            found.append(name)
    return sorted(found)


def verify(nip: str, photo: str, impostor: str | None) -> dict:
    t_start = time.perf_counter()
    import app  # noqa: F401  the handler module Lambda imports at init: every route and handler
    t_import = time.perf_counter()
    from chalicelib.face import Template, get_engine
    from chalicelib.wiring import get_services

    svc = get_services()
    sealed = svc.records.sealed_template(nip)
    if sealed is None:
        raise SystemExit(f"no template stored for {nip}")
    template = Template.from_dict(svc.vault.unseal(nip, sealed))
    t_template = time.perf_counter()
    data = open(photo, "rb").read()
    first = get_engine().verify(template, data)
    t_first = time.perf_counter()
    warm = []
    for _ in range(5):
        t = time.perf_counter()
        get_engine().verify(template, data)
        warm.append(time.perf_counter() - t)
    out = {
        "interpreter_to_main_s": round(t_start - T0, 4),
        "import_app_s": round(t_import - t_start, 4),
        "template_from_dynamodb_kms_s": round(t_template - t_import, 4),
        "first_verify_s": round(t_first - t_template, 4),
        "cold_start_s": round(t_first - t_start, 4),
        "warm_verify_ms_median": round(sorted(warm)[len(warm) // 2] * 1000, 2),
        "decision": first.match.decision, "score": round(first.match.score, 4),
        "threshold": first.match.threshold,
        "numpy_from": sys.modules["numpy"].__file__, "boto3_from": sys.modules["boto3"].__file__,
        "modules_outside_pkg_runtime_stdlib": _foreign_modules(),
    }
    if impostor:
        other = get_engine().verify(template, open(impostor, "rb").read())
        out["impostor_decision"] = other.match.decision
        out["impostor_score"] = round(other.match.score, 4)
    return out


class LambdaContext:
    """What the python3.12 runtime passes to the handler (the parts the app and Powertools use)."""

    function_name = "hadir-coldstart-APIHandler"
    function_version = "$LATEST"
    memory_limit_in_mb = 2048
    invoked_function_arn = "arn:aws:lambda:ap-southeast-3:123456789012:function:" + function_name
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "coldstart"

    def __init__(self, request_id: str, timeout_s: float = 30.0):
        self.aws_request_id = request_id
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


_requests = 0


def invoke(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    """One API Gateway (REST, proxy) invocation of the Chalice handler in this process."""
    import app

    global _requests
    _requests += 1
    hdrs = {"Content-Type": "application/json", "Host": "api.example", **(headers or {})}
    event = {
        "resource": path, "path": path, "httpMethod": method, "headers": hdrs,
        "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "isBase64Encoded": False,
        "body": json.dumps(body) if body is not None else None,
        "requestContext": {"resourcePath": path, "httpMethod": method, "stage": "api",
                           "path": f"/api{path}", "requestId": f"req-{_requests}",
                           "identity": {"sourceIp": "127.0.0.1"}},
    }
    res = app.app(event, LambdaContext(f"req-{_requests}"))
    payload = res.get("body") or "{}"
    global last_headers
    last_headers = res.get("headers") or {}
    return res["statusCode"], json.loads(payload) if payload.startswith(("{", "[")) else {}


last_headers: dict = {}


def _expect(status: int, out: dict, *ok: int) -> dict:
    if status not in ok:
        raise SystemExit(f"unexpected HTTP {status}: {json.dumps(out)[:2000]}")
    return out


def _upload(target: dict, photo: str) -> None:
    """The phone's presigned POST (multipart/form-data), with the standard library only."""
    import urllib.request
    import uuid

    boundary = uuid.uuid4().hex
    parts = []
    fields = {**target["fields"], "Content-Type": "image/jpeg"}
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="selfie.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                 + open(photo, "rb").read() + f"\r\n--{boundary}--\r\n".encode())
    req = urllib.request.Request(target["url"], data=b"".join(parts), method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=30) as res:
        if res.status not in (200, 201, 204):
            raise SystemExit(f"upload refused: HTTP {res.status}")


def _frames(session: dict, photos: list[str]) -> list[str]:
    """The photo for each upload: by the challenge's poses when photos are given as POSE=PATH
    (the session has a liveness challenge), else in the order given."""
    plan = dict(p.split("=", 1) for p in photos if "=" in p)
    challenge = session.get("challenge")
    if challenge and plan:
        return [plan[s["pose"]] for s in challenge["steps"]]
    return [p.split("=", 1)[-1] for p in photos][:len(session["uploads"])]


def api_enrol(user: str, password: str, photos: list[str]) -> dict:
    token = _expect(*invoke("POST", "/auth/login", {"username": user, "password": password}),
                    200)["id_token"]
    auth = {"Authorization": f"Bearer {token}"}
    session = _expect(*invoke("POST", "/me/enrollment/uploads", headers=auth), 201)
    for target, photo in zip(session["uploads"], _frames(session, photos)):
        _upload(target, photo)
    result = _expect(*invoke("POST", "/me/enrollment", {"session_id": session["session_id"], "consent": True},
                             auth), 201)
    return {"token": token, "enrolled_photos": [p.get("ok") for p in result.get("photos", [])],
            "seconds": round(time.perf_counter() - T0, 3)}


_calls: dict[str, int] = {}  # phase -> AWS API calls (botocore) and HTTP fetches (urllib: the JWKS)


def _count_calls(phase: list[str]) -> None:
    """Count every botocore API call (retries not again) and urllib fetch under ``phase[0]``:
    the cold run's round trips, as local/awscalls.py counts a warm one."""
    import urllib.request

    import botocore.client
    api_call, opener = botocore.client.BaseClient._make_api_call, urllib.request.OpenerDirector.open

    def counted(self, operation, params):
        key = f"{phase[0]}:{self.meta.service_model.service_name}:{operation}"
        _calls[key] = _calls.get(key, 0) + 1
        return api_call(self, operation, params)

    def fetched(self, *a, **kw):
        key = f"{phase[0]}:http:urllib"
        _calls[key] = _calls.get(key, 0) + 1
        return opener(self, *a, **kw)
    botocore.client.BaseClient._make_api_call = counted
    urllib.request.OpenerDirector.open = fetched


def api_checkin(token: str, photos: list[str], lat: float, lon: float, captured_at: str) -> dict:
    t_start = time.perf_counter()
    phase = ["init"]
    _count_calls(phase)
    import app  # noqa: F401  Lambda's init phase
    t_import = time.perf_counter()
    phase[0] = "session"
    auth = {"Authorization": f"Bearer {token}"}
    session = _expect(*invoke("POST", "/checkins/uploads", headers=auth), 201)
    t_session = time.perf_counter()
    phase[0] = "upload"  # the phone's, not the app's
    for target, photo in zip(session["uploads"], _frames(session, photos)):
        _upload(target, photo)
    t_uploaded = time.perf_counter()
    phase[0] = "checkin"
    body = {"session_id": session["session_id"], "type": "in",
            "location": {"lat": lat, "lon": lon, "accuracy_m": 6, "captured_at": captured_at,
                         "is_mock": False}}
    status, out = invoke("POST", "/checkins", body, {**auth, "Idempotency-Key": "coldstart-1"})
    t_checkin = time.perf_counter()
    phase[0] = "replay"
    server_timing = last_headers.get("Server-Timing", "")
    _expect(status, out, 201)
    again_status, again = invoke("POST", "/checkins", body, {**auth, "Idempotency-Key": "coldstart-1"})
    return {
        "import_app_s": round(t_import - t_start, 4),
        "upload_session_request_s": round(t_session - t_import, 4),
        "checkin_request_s": round(t_checkin - t_uploaded, 4),
        "cold_start_to_accepted_checkin_s": round(t_checkin - t_start - (t_uploaded - t_session), 4),
        "status": status, "decision": out.get("decision"), "work_mode": out.get("work_mode"),
        "face": out.get("face", {}).get("decision") if isinstance(out.get("face"), dict) else None,
        "idempotent_replay_same_id": again_status in (200, 201)
        and again.get("checkin_id") == out.get("checkin_id"),
        "checkin_id": out.get("checkin_id"),
        "checkin_server_timing_ms": server_timing,
        "aws_calls": dict(sorted(_calls.items())),  # by phase: init, session, checkin, replay
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _paths(argv)
    ap = argparse.ArgumentParser(description="cold start of the packaged app")
    ap.add_argument("--pkg", required=True)
    ap.add_argument("--runtime", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("enrol")
    e.add_argument("--nip", required=True)
    e.add_argument("photos", nargs=3)
    v = sub.add_parser("verify")
    v.add_argument("--nip", required=True)
    v.add_argument("--impostor")
    v.add_argument("photo")
    ae = sub.add_parser("api-enrol")
    ae.add_argument("--user", required=True)
    ae.add_argument("--password", required=True)
    ae.add_argument("photos", nargs=3, help="PATH, or POSE=PATH to follow a liveness challenge")
    ac = sub.add_parser("api-checkin")
    ac.add_argument("--token", required=True)
    ac.add_argument("--lat", type=float, required=True)
    ac.add_argument("--lon", type=float, required=True)
    ac.add_argument("--captured-at", required=True)
    ac.add_argument("photos", nargs="+", help="PATH, or POSE=PATH for each pose a challenge may ask")
    args = ap.parse_args(argv)
    if args.cmd == "enrol":
        result = enrol(args.nip, args.photos)
    elif args.cmd == "verify":
        result = verify(args.nip, args.photo, args.impostor)
    elif args.cmd == "api-enrol":
        result = api_enrol(args.user, args.password, args.photos)
    else:
        result = api_checkin(args.token, args.photos, args.lat, args.lon, args.captured_at)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
