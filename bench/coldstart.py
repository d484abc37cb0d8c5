"""Cold start of the packaged Lambda code: import to first verified face.

Runs INSIDE an isolated Python 3.12 process whose path holds only the unpacked deployment zip and
a folder with boto3 and its dependencies, as the Lambda python3.12 runtime does:

    python -I -S bench/coldstart.py --pkg DIR --runtime DIR enrol  --nip N PHOTO PHOTO PHOTO
    python -I -S bench/coldstart.py --pkg DIR --runtime DIR verify --nip N PHOTO [--impostor PHOTO]

The AWS side comes from the environment (the app's settings: HADIR_STAGE, table names,
AWS_ENDPOINT_URL of a moto server, ...). ``enrol`` builds a template from three photos and stores it
KMS-sealed in DynamoDB through the app's adapters; ``verify`` is the measured cold start: import
the handler module (app.py), read the sealed template from DynamoDB, unseal it with KMS and verify
a photo. Prints one JSON object. tests/infra/test_package.py drives both against the built zip.
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
    from chalicelib import biometrics
    from chalicelib.face import get_engine
    from chalicelib.settings import get_settings
    from chalicelib.storage.models import BiometricModel
    from chalicelib.storage.repos import Store, utc_iso

    settings = get_settings()
    Store(settings)  # binds the PynamoDB models to the stage's tables and endpoint
    enrolment = get_engine().enrol([open(p, "rb").read() for p in photos])
    sealed = biometrics.seal(nip, enrolment.template.to_dict(), settings.kms_key_id)
    BiometricModel(nip, ciphertext=sealed["ciphertext"], encrypted_key=sealed["encrypted_key"],
                   nonce=sealed["nonce"], key_id=sealed["key_id"],
                   model_version=enrolment.template.model_version, created_at=utc_iso()).save()
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
    from chalicelib import biometrics
    from chalicelib.face import Template, get_engine
    from chalicelib.settings import get_settings
    from chalicelib.storage.repos import Store

    store = Store(get_settings())
    sealed = store.sealed_template(nip)
    if sealed is None:
        raise SystemExit(f"no template stored for {nip}")
    template = Template.from_dict(biometrics.unseal(nip, sealed))
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
    args = ap.parse_args(argv)
    result = enrol(args.nip, args.photos) if args.cmd == "enrol" else verify(
        args.nip, args.photo, args.impostor)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
