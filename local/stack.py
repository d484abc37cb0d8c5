"""The local stack, one process tree: moto server, resources + demo data, ``chalice local``, and a
scheduler loop that fires the scheduled handlers at their times, drains the queues and reads the
sessions table's stream as Lambda's event source mapping would.

    python -m local.stack [--moto-port 5000] [--api-port 8000] [--control-port 8001]
                          [--web-port 8080] [--now 2026-03-03T07:45:00+08:00] [--no-seed]

The web app (web/) is served at http://127.0.0.1:<web-port>/ and /api/<path> is proxied to chalice
local's /<path> (method, headers, body and status passed through), so the app calls the API
same-origin. If the web port is taken, a free one is used (the printed App URL says which).

Control endpoint (loopback only), for demos and the e2e test:
    POST /jobs/<handler>[?now=ISO]   run a scheduled handler now (optionally at a given clock)
    POST /drain                      deliver queued e-mails, run queued import steps and pass the
                                     sessions stream's new records to delete_used_frames now
    GET  /env                        the environment the app runs with (ids, endpoint, web port)

``--fault-rate 0.05`` (or ``HADIR_LOCAL_FAULT_RATE``) injects throttling, timeouts and 5xx into that
share of the API's and the jobs' DynamoDB, S3, KMS and SNS calls (local/faults.py; never loaded
by chalicelib), for bench/load.py.

State lives in moto's memory: it does NOT survive a restart (the demo data is re-seeded).
"""
from __future__ import annotations

import argparse
import http.server
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
STAGE = "local"


def stage_env(moto_url: str, now: str | None) -> dict[str, str]:
    cfg = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {**cfg.get("environment_variables", {}), **cfg["stages"][STAGE]["environment_variables"]}
    env["AWS_ENDPOINT_URL"] = moto_url
    env["HADIR_AWS_ENDPOINT_URL"] = moto_url  # wins over the config's fixed port inside chalice local
    if now:
        env["HADIR_NOW"] = now
    return env


def log(msg: str) -> None:
    print(f"[stack {datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


class Stack:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.procs: list[subprocess.Popen] = []
        self.moto = None
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.env: dict[str, str] = {}
        self.web_port: int | None = getattr(args, "web_port", None)  # the bound one once serving
        self.stream_arn: str | None = None  # the sessions table's stream, once looked up
        self.stream_at: dict[str, str] = {}  # its shard -> next iterator

    # --- start -------------------------------------------------------------------------------
    def start_moto(self) -> str:
        import logging

        from moto.server import ThreadedMotoServer

        from local import fast_moto
        fast_moto.install()  # DynamoDB's items as JSON, not through moto's member-by-member serializer
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.args.moto_port, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        url = f"http://{host}:{port}"
        log(f"moto server on {url}")
        return url

    def bootstrap(self, moto_url: str) -> None:
        import boto3

        from local.bootstrap import create_all
        env = stage_env(moto_url, self.args.now)
        os.environ.update(env)
        region = env["AWS_DEFAULT_REGION"]
        ids = create_all(lambda s: boto3.client(s, region_name=region, endpoint_url=moto_url), STAGE,
                         agency=env["HADIR_AGENCY_ID"])
        env.update(ids)
        os.environ.update(ids)
        self.env = env
        from chalicelib import wiring as services
        from chalicelib.adapters import aws
        from chalicelib.common.settings import reset_settings
        reset_settings(); aws.reset_clients(); services.reset()
        log(f"resources created from chalicelib/common/resources.py (user pool {ids['HADIR_USER_POOL_ID']})")

    def seed(self) -> dict[str, Any]:
        from chalicelib.wiring import get_services
        from local.seed import seed, seed_agency_config
        seeded = seed(get_services())
        return {**seeded, "config": seed_agency_config(get_services())}

    def start_chalice(self) -> None:
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        # the fault layer (local/faults.py) is loaded in chalice local's process only when asked for
        boot = "import local.faults as f; f.install_from_env(); " if self.args.fault_rate else ""
        if self.args.fault_rate:
            env.update(_fault_env(self.args))
        cmd = [sys.executable, "-c", boot + "from chalice.cli import main; main()", "local", "--stage", STAGE,
               "--host", "127.0.0.1", "--port", str(self.args.api_port), "--no-autoreload"]
        app_log = getattr(self.args, "app_log", None)  # bench/load.py keeps the app's output
        out = open(app_log, "ab") if app_log else None if self.args.verbose else subprocess.DEVNULL
        p = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=out,
                             stderr=None if self.args.verbose and not app_log else subprocess.STDOUT)
        self.procs.append(p)
        url = f"http://127.0.0.1:{self.args.api_port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            if p.poll() is not None:
                raise RuntimeError(f"chalice local exited with {p.returncode}")
            try:
                urllib.request.urlopen(url + "/me", timeout=1)
            except urllib.error.HTTPError:
                break  # 401: it is serving
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("chalice local did not start")
        log(f"chalice local on {url} (stage {STAGE}, process group {p.pid})")

    # --- scheduler ---------------------------------------------------------------------------
    def run_job(self, handler: str, now: str | None = None) -> Any:
        from chalicelib import wiring as services
        from chalicelib.api.events import HANDLERS
        from chalicelib.common.settings import reset_settings
        with self.lock:
            if now:
                os.environ["HADIR_NOW"] = now
                reset_settings(); services.reset()
            try:
                result = HANDLERS[handler]({})
            finally:
                if now:
                    if self.args.now:
                        os.environ["HADIR_NOW"] = self.args.now
                    else:
                        os.environ.pop("HADIR_NOW", None)
                    reset_settings(); services.reset()
            drained = self.drain_locked()
        log(f"ran {handler}: {json.dumps(result, default=str)[:300]}; e-mails sent {drained}")
        return {"result": result, "emails_delivered": drained}

    def drain(self) -> int:
        with self.lock:
            return self.drain_locked()

    def drain_locked(self) -> int:
        """Receive from the e-mail queue and call the same handler Lambda would, then delete."""
        from chalice.app import SQSEvent

        from chalicelib.adapters import aws
        from chalicelib.api.events import events  # noqa: F401
        from chalicelib.common.settings import get_settings
        import app as app_module
        sqs = aws.client("sqs", get_settings())
        url = sqs.get_queue_url(QueueName=self.env["HADIR_QUEUE_EMAIL"])["QueueUrl"]
        handler = app_module.app.handler_map["send_supervisor_email"]
        n = 0
        while True:
            msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not msgs:
                return n
            event = {"Records": [{"body": m["Body"], "receiptHandle": m["ReceiptHandle"],
                                  "messageId": m["MessageId"], "attributes": {}, "messageAttributes": {},
                                  "eventSourceARN": "", "awsRegion": ""} for m in msgs]}
            handler.func(SQSEvent(event, None)) if hasattr(handler, "func") else handler(event, None)
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
            n += len(msgs)

    def drain_imports(self) -> int:
        """Run the queued import steps (queue import-jobs) through the handler Lambda would call."""
        from chalicelib.adapters import aws
        from chalicelib.api.events import events  # noqa: F401
        from chalicelib.common.resources import IMPORT_QUEUE
        from chalicelib.common.settings import get_settings
        from local.queues import drain
        with self.lock:
            handled, failed = drain(aws.client("sqs", get_settings()), self.env[IMPORT_QUEUE.env],
                                    IMPORT_QUEUE.handler, max_rounds=1000)
        if handled or failed:
            log(f"import steps: {handled} done, {failed} failed (redelivered)")
        return handled

    def drain_frames(self) -> int:
        """Pass the sessions stream's records since the last call to delete_used_frames, as the
        deployed event source mapping does (there: filtered to a session turning used; the
        handler filters the same itself). Returns the frames deleted."""
        from chalicelib.adapters import aws
        from chalicelib.api.events import delete_used_frames
        from chalicelib.common.settings import get_settings
        settings = get_settings()
        with self.lock:
            streams = aws.client("dynamodbstreams", settings)
            if self.stream_arn is None:
                self.stream_arn = aws.client("dynamodb", settings).describe_table(
                    TableName=settings.tables["sessions"])["Table"]["LatestStreamArn"]
            arn = self.stream_arn
            shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
            first = not self.stream_at
            deleted = 0
            for shard in shards:
                at = self.stream_at.get(shard["ShardId"]) or streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"],
                    ShardIteratorType="LATEST" if first else "TRIM_HORIZON")["ShardIterator"]
                while at:  # until a page comes back empty (the shard's end for now)
                    got = streams.get_records(ShardIterator=at, Limit=100)
                    at = got.get("NextShardIterator")
                    if not got["Records"]:
                        break
                    deleted += delete_used_frames({"Records": got["Records"]}, None)["frames"]
                self.stream_at[shard["ShardId"]] = at
        if deleted:
            log(f"used frames deleted: {deleted}")
        return deleted

    def scheduler_loop(self) -> None:
        from chalicelib.common.resources import SCHEDULES
        from local.cron import fires_between
        # The real clock, never the settings': POST /jobs/<handler>?now=... swaps HADIR_NOW while
        # it runs, and a tick reading that instant would replay every cron time since then.
        last = datetime.now(timezone.utc)
        frozen = bool(self.args.now)
        log("scheduler: " + ", ".join(f"{s.handler} {s.cron}" for s in SCHEDULES)
            + (" (clock frozen by HADIR_NOW: use POST /jobs/<handler>)" if frozen else ""))
        while not self.stop.wait(self.args.tick):
            try:
                now = datetime.now(timezone.utc)
                if not frozen:
                    for s in SCHEDULES:
                        if fires_between(s, last, now):
                            self.run_job(s.handler)
                last = now
                self.drain()
                self.drain_imports()
                self.drain_frames()
            except Exception as exc:  # noqa: BLE001 - keep the loop alive, say what failed
                log(f"scheduler error: {type(exc).__name__}: {exc}")

    # --- control endpoint ----------------------------------------------------------------------
    def serve_control(self) -> http.server.ThreadingHTTPServer:
        stack = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                if self.path == "/env":
                    keep = ("HADIR_USER_POOL_ID", "HADIR_USER_POOL_CLIENT_ID", "AWS_ENDPOINT_URL",
                            "HADIR_TOPIC_SUPERVISOR_ALERTS", "HADIR_NOW", "AWS_DEFAULT_REGION",
                            "HADIR_BUCKET_UPLOADS")
                    return self._send(200, {**{k: stack.env.get(k) for k in keep}, "web_port": stack.web_port})
                self._send(404, {"error": "not found"})

            def do_POST(self):  # noqa: N802
                u = urllib.parse.urlparse(self.path)
                q = urllib.parse.parse_qs(u.query)
                try:
                    if u.path.startswith("/jobs/"):
                        return self._send(200, stack.run_job(u.path[len("/jobs/"):], (q.get("now") or [None])[0]))
                    if u.path == "/drain":
                        return self._send(200, {"emails_delivered": stack.drain(),
                                                "import_steps": stack.drain_imports(),
                                                "frames_deleted": stack.drain_frames()})
                except KeyError as exc:
                    return self._send(404, {"error": f"unknown handler {exc}"})
                except Exception as exc:  # noqa: BLE001
                    return self._send(500, {"error": f"{type(exc).__name__}: {exc}"})
                self._send(404, {"error": "not found"})

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.args.control_port), Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        log(f"control endpoint on http://127.0.0.1:{srv.server_address[1]} (POST /jobs/<handler>, /drain)")
        return srv

    # --- web app and API proxy ------------------------------------------------------------------
    def serve_web(self) -> http.server.ThreadingHTTPServer:
        handler = web_handler(ROOT / "web", f"http://127.0.0.1:{self.args.api_port}")
        try:
            srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.args.web_port), handler)
        except OSError as exc:
            log(f"web port {self.args.web_port} unavailable ({exc.strerror}): using a free port")
            srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.web_port = srv.server_address[1]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        log(f"web app on http://127.0.0.1:{self.web_port}/ (web/; /api/* proxied to chalice local)")
        return srv

    # --- stop ----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        self.stop.set()
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(timeout=5)
                except ProcessLookupError:
                    pass
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
        if self.moto:
            self.moto.stop()
        log("stopped")


# Request headers the proxy passes on to chalice local; everything else stays (Host, hop-by-hop).
PROXIED_REQUEST_HEADERS = ("authorization", "content-type", "x-device-id", "idempotency-key", "accept",
                           "accept-language", "if-none-match")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authenticate", "proxy-authorization", "content-length", "server", "date"}
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".webmanifest": "application/manifest+json",
                ".png": "image/png", ".svg": "image/svg+xml", ".json": "application/json",
                ".md": "text/markdown; charset=utf-8", ".ico": "image/x-icon"}


def web_handler(web_root: pathlib.Path, api_url: str) -> type[http.server.BaseHTTPRequestHandler]:
    """Static files of ``web_root`` at ``/`` (``/`` is index.html), and ``/api/<path>`` proxied."""
    root = web_root.resolve()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() in PROXIED_REQUEST_HEADERS}
            req = urllib.request.Request(api_url + self.path[len("/api"):] or "/", data=body,
                                         headers=headers, method=self.command)
            try:
                resp = urllib.request.urlopen(req, timeout=120)
            except urllib.error.HTTPError as err:
                resp = err
            except OSError as exc:
                return self._reply(502, b'{"error": {"code": "api_unreachable", "message": "%s"}}'
                                   % str(exc).encode(), [("Content-Type", "application/json")])
            with resp:
                data = resp.read()
                self._reply(resp.status, data, [(k, v) for k, v in resp.headers.items()
                                                 if k.lower() not in HOP_BY_HOP])

        def _reply(self, status: int, data: bytes, headers: list[tuple[str, str]]) -> None:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _static(self) -> None:
            path = urllib.parse.unquote(urllib.parse.urlparse(self.path).path)
            target = (root / path.lstrip("/")).resolve()
            if target.is_dir():
                target = target / "index.html"
            if root not in target.parents or not target.is_file():
                return self._reply(404, b"not found", [("Content-Type", "text/plain")])
            headers = [("Content-Type", STATIC_TYPES.get(target.suffix, "application/octet-stream")),
                       ("Cache-Control", "no-cache"), ("X-Content-Type-Options", "nosniff")]
            if target.name == "sw.js":
                headers.append(("Service-Worker-Allowed", "/"))
            self._reply(200, target.read_bytes(), headers)

        def _route(self) -> None:
            if self.path == "/api" or self.path.startswith("/api/"):
                return self._proxy()
            if self.command in ("GET", "HEAD"):
                return self._static()
            self._reply(405, b"method not allowed", [("Content-Type", "text/plain")])

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _route  # noqa: N815

        def log_message(self, *a):
            pass

    return Handler


def _fault_env(args: argparse.Namespace) -> dict[str, str]:
    return {"HADIR_LOCAL_FAULT_RATE": str(args.fault_rate), "HADIR_LOCAL_FAULT_SEED": str(args.fault_seed)}


def install_faults(args: argparse.Namespace) -> Any:
    """Faults in this process's AWS calls too (the jobs and drains run here), after the seeding."""
    if not args.fault_rate:
        return None
    from local import faults
    os.environ.update(_fault_env(args))
    installed = faults.install_from_env()
    log(f"faults injected at rate {args.fault_rate} (seed {args.fault_seed}) into DynamoDB, S3, KMS and SNS calls")
    return installed


def print_credentials(seeded: dict[str, Any], args: argparse.Namespace, web_port: int) -> None:
    print("\n=== Hadir local stack ===")
    print(f"App        http://127.0.0.1:{web_port}/   (the web app; /api/* goes to the API)")
    print(f"API        http://127.0.0.1:{args.api_port}   (chalice local, stage local)")
    print(f"moto       http://127.0.0.1:{args.moto_port}")
    print(f"control    http://127.0.0.1:{args.control_port}  (POST /jobs/<handler>?now=ISO, POST /drain)")
    print(f"HADIR_NOW  {args.now or '(not set: real time)'}")
    print(f"password for every demo user: {seeded['password']}")
    for u in seeded["users"]:
        print(f"  {u['username']:<20} {','.join(u['roles']):<22} {u.get('name', '')} {u.get('office', '')}")
        for site in u.get("sites", []):
            print(f"  {'':<20} + site {site}")
    print("State is in memory only: it does not survive a restart.\n", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moto-port", type=int, default=int(os.environ.get("HADIR_MOTO_PORT", 5000)))
    ap.add_argument("--api-port", type=int, default=int(os.environ.get("HADIR_API_PORT", 8000)))
    ap.add_argument("--control-port", type=int, default=int(os.environ.get("HADIR_CONTROL_PORT", 8001)))
    ap.add_argument("--web-port", type=int, default=int(os.environ.get("HADIR_WEB_PORT", 8080)),
                    help="port of the web app (web/) and its /api proxy; 0 for any free port")
    ap.add_argument("--now", default=os.environ.get("HADIR_NOW") or None,
                    help="freeze the attendance clock (ISO 8601 with offset)")
    ap.add_argument("--tick", type=float, default=5.0, help="scheduler period in seconds")
    ap.add_argument("--no-seed", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="show chalice local's output")
    ap.add_argument("--fault-rate", type=float, default=float(os.environ.get("HADIR_LOCAL_FAULT_RATE") or 0),
                    help="inject throttling, timeouts and 5xx into this share of AWS calls (local/faults.py)")
    ap.add_argument("--fault-seed", type=int, default=int(os.environ.get("HADIR_LOCAL_FAULT_SEED") or 0))
    args = ap.parse_args(argv)
    stack = Stack(args)
    stopping = threading.Event()

    def on_signal(signum, frame):
        stopping.set()
        stack.stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        url = stack.start_moto()
        stack.bootstrap(url)
        seeded = stack.seed() if not args.no_seed else {"password": "-", "users": []}
        stack.drain_frames()  # the sessions stream is read from here on (its LATEST position)
        install_faults(args)
        stack.start_chalice()
        stack.serve_control()
        stack.serve_web()
        print_credentials(seeded, args, stack.web_port)
        t = threading.Thread(target=stack.scheduler_loop, daemon=True)
        t.start()
        log("ready (Ctrl-C stops everything)")
        while not stopping.wait(0.5):
            if any(p.poll() is not None for p in stack.procs):
                log("chalice local exited")
                return 1
        return 0
    finally:
        stack.shutdown()


if __name__ == "__main__":
    sys.exit(main())
