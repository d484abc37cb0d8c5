"""Build the Lambda deployment zip: Python 3.12, manylinux x86_64, trimmed, models included.

Run through ``bash scripts/package.sh`` (which finds a Python 3.12). Fails (exit 1) when a
dependency cannot be installed as a binary wheel for the Lambda platform, when the app or a model
is missing, or when the unzipped size exceeds Lambda's 250 MB limit. Prints a JSON report.

Layout of the zip (what chalice would produce): app.py, chalicelib/, models/, dependencies at the
root. boto3/botocore/s3transfer are left out: the python3.12 runtime provides them.
"""
from __future__ import annotations

import argparse
import compileall
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_LIMIT = 250 * 1024 * 1024  # unzipped, layers included
GOAL = 200 * 1024 * 1024
PLATFORMS = tuple(f"manylinux_2_{v}_x86_64" for v in (34, 28, 27, 17)) + ("manylinux2014_x86_64",)
# Amazon Linux 2023 (python3.12 runtime) has glibc 2.34; pip needs every accepted tag named.

# Provided by the Lambda runtime, or never loaded at run time.
REMOVE_DIRS = [
    "boto3", "botocore", "s3transfer", "boto3-*.dist-info", "botocore-*.dist-info",
    "s3transfer-*.dist-info",
    "onnxruntime/transformers", "onnxruntime/quantization", "onnxruntime/tools",
    "onnxruntime/datasets", "onnxruntime/backend",
    "numpy/f2py", "numpy/*/tests", "numpy/tests", "numpy/_pyinstaller", "numpy/doc",
    "PIL/tests", "cryptography/hazmat/bindings/_rust/*.pyi",
    "bin", "share",
    # pyarrow (the analytics package): Parquet in memory needs neither Flight, nor remote file
    # systems (pyarrow.fs imports them only if present), ORC, the C++ tests nor the headers
    "pyarrow/tests", "pyarrow/include", "pyarrow/src",
]
REMOVE_FILES = ["*.pyi", "*.pyx", "*.pxd", "*.c", "*.h", "*.hpp", "RECORD.jws",
                "onnxruntime/capi/libonnxruntime.so*",  # duplicate: the pybind module has it all
                "onnxruntime/capi/onnxruntime_providers_shared.so",  # CPU only
                "pyarrow/*flight*", "pyarrow/libarrow_s3.so*", "pyarrow/_s3fs.*", "pyarrow/_gcsfs.*",
                "pyarrow/_azurefs.*", "pyarrow/_hdfs.*", "pyarrow/*orc*", "pyarrow/_pyarrow_cpp_tests.*",
                # the loader opens each library by its SONAME (lib*.so.2600); the other names are copies
                "pyarrow/libarrow_python*.so", "pyarrow/libarrow_python*.so.2600.*"]
APP_FILES = ["app.py"]
APP_DIRS = ["chalicelib"]


@dataclass(frozen=True)
class Target:
    """One function's package: its requirements, its entry files, whether it carries the models."""
    requirements: str
    app_files: tuple[str, ...]
    models: bool
    zip_name: str


# api: every Chalice function (routes, jobs, consumer, import); analytics: the recap and the daily
# export with pyarrow, which does not fit beside the face engine (docs/analytics.md).
TARGETS = {"api": Target("requirements.txt", ("app.py",), True, "hadir-lambda.zip"),
           "analytics": Target("requirements-analytics.txt", ("analytics.py",), False, "hadir-analytics.zip")}


class PackageError(RuntimeError):
    pass


def _run(cmd: list[str], **kw) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise PackageError(f"{' '.join(cmd[:6])} ... failed ({proc.returncode}):\n"
                           f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout + proc.stderr


def _requirements(path: Path) -> list[str]:
    reqs = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            reqs.append(line)
    return reqs


def _dist_name(req: str) -> str:
    return re.split(r"[\[=<>!~; ]", req, 1)[0].lower().replace("-", "_")


def install(reqs_file: Path, target: Path) -> list[str]:
    """pip-install binary wheels for the Lambda platform; any missing wheel is an error."""
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
           "--target", str(target), "--only-binary=:all:", "--implementation", "cp",
           "--python-version", "3.12", "--abi", "cp312", "--abi", "abi3", "--abi", "none",
           "--no-compile", "--upgrade", "-r", str(reqs_file)]
    for p in PLATFORMS:
        cmd += ["--platform", p]
    out = _run(cmd)
    # pip's resolver notice about the *calling* environment ("ERROR: pip's dependency resolver
    # does not currently take into account...") is not about the target; anything else is fatal.
    errors = [l for l in out.splitlines() if (l.startswith("ERROR:") and "dependency resolver"
                                               not in l) or "Could not install" in l]
    if errors:
        raise PackageError("\n".join(errors))
    installed = {d.name.split("-", 1)[0].lower() for d in target.glob("*.dist-info")}
    missing = [r for r in _requirements(reqs_file) if _dist_name(r) not in installed]
    if missing:
        raise PackageError(f"not installed: {missing}")
    return sorted(installed)


def check_wheel_tags(target: Path) -> None:
    """Every binary wheel must be for CPython 3.12 (or abi3) on manylinux x86_64."""
    bad = []
    for wheel in target.glob("*.dist-info/WHEEL"):
        tags = [l.split(":", 1)[1].strip() for l in wheel.read_text().splitlines()
                if l.startswith("Tag:")]
        for tag in tags:
            py, abi, plat = tag.split("-")
            if plat == "any":
                continue
            if not ("manylinux" in plat and plat.endswith("x86_64")) or abi not in (
                    "cp312", "abi3", "none"):
                bad.append(f"{wheel.parent.name}: {tag}")
    if bad:
        raise PackageError(f"wheels not for python3.12 manylinux x86_64: {bad}")


def trim(target: Path) -> int:
    """Delete what the runtime already has or the app never loads; return bytes removed."""
    before = tree_size(target)
    for pattern in REMOVE_DIRS:
        for p in target.glob(pattern):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    for p in list(target.rglob("*")):
        if p.is_dir() and p.name == "__pycache__":
            shutil.rmtree(p, ignore_errors=True)
    for p in list(target.rglob("*")):
        if p.is_file():
            rel = p.relative_to(target).as_posix()
            if any(fnmatch.fnmatch(p.name, pat) or fnmatch.fnmatch(rel, pat)
                   for pat in REMOVE_FILES):
                p.unlink()
    return before - tree_size(target)


def copy_app(target: Path, models_dir: Path | None, app_files: tuple[str, ...] = tuple(APP_FILES)) -> None:
    for f in app_files:
        if not (ROOT / f).is_file():
            raise PackageError(f"{f} missing")
        shutil.copy2(ROOT / f, target / f)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", ".pytest_cache")
    for d in APP_DIRS:
        shutil.copytree(ROOT / d, target / d, ignore=ignore, dirs_exist_ok=True)
    chalice_runtime(target)
    if models_dir is None:
        return
    models = sorted(models_dir.glob("*.onnx"))
    if not models:
        raise PackageError(f"no models in {models_dir}")
    (target / "models").mkdir(exist_ok=True)
    for f in models + sorted(models_dir.glob("*.json")):
        shutil.copy2(f, target / "models" / f.name)
    if (models_dir / "previous").is_dir():  # a model upgrade's previous versions (docs/deploy.md)
        shutil.copytree(models_dir / "previous", target / "models" / "previous", dirs_exist_ok=True)


def chalice_runtime(target: Path) -> None:
    """What `chalice package` puts in every zip: chalice/__init__.py and chalice/app.py only."""
    try:
        import chalice
        import chalice.app
    except ImportError as exc:
        raise PackageError("chalice is not installed in this Python (pip install -r "
                           "requirements-dev.txt)") from exc
    (target / "chalice").mkdir(exist_ok=True)
    shutil.copy2(chalice.__file__, target / "chalice" / "__init__.py")
    shutil.copy2(chalice.app.__file__, target / "chalice" / "app.py")


def precompile(target: Path) -> None:
    """Bytecode for faster cold starts: /var/task is read-only, so Python cannot cache it there.
    unchecked-hash: valid whatever the file times are after unzipping."""
    ok = compileall.compile_dir(str(target), quiet=1, workers=0,
                                invalidation_mode=compileall.py_compile.PycInvalidationMode
                                .UNCHECKED_HASH)
    if not ok:
        raise PackageError("byte-compilation failed")


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def write_zip(src: Path, dest: Path) -> None:
    """Deterministic zip: sorted names, fixed times; keeps the exec bit."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for p in sorted(src.rglob("*")):
            if not p.is_file():
                continue
            info = zipfile.ZipInfo(p.relative_to(src).as_posix(), date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(p, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, p.read_bytes(), compresslevel=6)
    tmp.replace(dest)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--function", choices=sorted(TARGETS), default="api",
                    help="which package: api (every Chalice function) or analytics")
    ap.add_argument("--out", type=Path, default=None, help="default: infra/dist/<the function's zip>")
    ap.add_argument("--build-dir", type=Path, default=None)
    ap.add_argument("--requirements", type=Path, default=None)
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    ap.add_argument("--no-compile", action="store_true", help="leave out .pyc files")
    ap.add_argument("--limit-mb", type=float, default=LAMBDA_LIMIT / 2**20,
                    help="fail above this unzipped size (default: Lambda's 250 MB)")
    args = ap.parse_args(argv)
    if sys.version_info[:2] != (3, 12):
        print(f"package.py needs Python 3.12, not {sys.version.split()[0]}", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    spec = TARGETS[args.function]
    args.out = args.out or ROOT / "infra" / "dist" / spec.zip_name
    args.requirements = args.requirements or ROOT / spec.requirements
    build = args.build_dir or ROOT / "infra" / "build" / ("lambda" if args.function == "api" else args.function)
    try:
        if build.exists():
            shutil.rmtree(build)
        build.mkdir(parents=True)
        install(args.requirements, build)
        check_wheel_tags(build)
        installed_size = tree_size(build)
        removed = trim(build)
        copy_app(build, args.models if spec.models else None, spec.app_files)
        if not args.no_compile:
            precompile(build)
        size = tree_size(build)
        models = tree_size(build / "models") if spec.models else 0
        write_zip(build, args.out)
    except PackageError as exc:
        print(f"package FAILED: {exc}", file=sys.stderr)
        return 1
    report = {
        "function": args.function, "zip": str(args.out), "zip_bytes": args.out.stat().st_size,
        "unzipped_bytes": size, "unzipped_mb": round(size / 2**20, 1),
        "models_mb": round(models / 2**20, 1),
        "dependencies_installed_mb": round(installed_size / 2**20, 1),
        "trimmed_mb": round(removed / 2**20, 1),
        "limit_mb": args.limit_mb, "goal_mb": GOAL // 2**20,
        "within_goal": size <= GOAL, "seconds": round(time.monotonic() - t0, 1),
        "packages": sorted(d.name.split("-", 1)[0] for d in build.glob("*.dist-info")),
    }
    print(json.dumps(report, indent=2))
    limit = args.limit_mb * 2**20
    if size > limit:
        print(f"package FAILED: unzipped {size / 2**20:.1f} MB > {args.limit_mb:g} MB limit",
              file=sys.stderr)
        args.out.unlink()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
