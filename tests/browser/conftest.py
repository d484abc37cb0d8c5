"""The browser harness: the real local stack (API, moto, scheduler, the web app on its web port),
Debian's Chromium driven by Playwright with a fake camera fed a head-turn video of real photos
(tests/browser/video.py) and the geolocation override at the Denpasar office, and helpers that log
in, follow the liveness challenge by the video's pose marker, and take screenshots."""
from __future__ import annotations

import os
import pathlib
import re

import pytest
import requests

from local.seed import PASSWORD
from tests.browser import video
from tests.faces import OTHER_PERSON, POSED_CHECKIN, POSED_ENROLMENT, available
from tests.local_stack import running_stack

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
NOW = "2026-03-03T07:45:00+08:00"  # the stack's frozen clock; the phones' clocks agree with it
DENPASAR = {"latitude": -8.67052, "longitude": 115.21263, "accuracy": 8}  # 4 m from the office's centre
AYU, KETUT, MADE = "199001152015032001", "197805122005011002", "199208202019021003"
# another identity's photos, as a head turn (their poses are whatever they are: the face is wrong)
OTHER_PLAN = {"front": "1.jpg", "left": "2.jpg", "right": "3.jpg"}
# where the committed screenshots go when HADIR_SCREENSHOTS=1 (else into pytest's tmp dir)
DOCS_SHOTS = ROOT / "docs" / "client"


def pytest_collection_modifyitems(config, items):
    # Each test sets up what it needs through module fixtures (a person's enrolment, ...), so under
    # `-n 2` the module may run on both workers, each with its own stack.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
            if not available():
                item.add_marker(pytest.mark.skip(reason="real face photos (../shared/faces/dev) absent"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stack") / "stack.log", web=True, now=NOW) as urls:
        yield urls


@pytest.fixture(scope="session")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("camera")
    return {"enrol": video.write(d / "enrol.y4m", POSED_ENROLMENT),
            "checkin": video.write(d / "checkin.y4m", POSED_CHECKIN),
            "other": video.write(d / "other.y4m", OTHER_PLAN, identity=OTHER_PERSON)}


@pytest.fixture(scope="module")
def playwright():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} missing: `bash scripts/bootstrap.sh` installs Debian's chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browsers(playwright, videos):
    """One headless Chromium per fake-camera video, launched on first use."""
    launched = {}

    def get(name: str):
        if name not in launched:
            launched[name] = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                      f"--use-file-for-fake-video-capture={videos[name]}"])
        return launched[name]
    yield get
    for b in launched.values():
        b.close()


@pytest.fixture(scope="module")
def phones(browsers, stack):
    """``phones(nip)``: one person's phone: its storage (the app's device id, token, queue) survives
    switching the camera video, as if the same phone pointed at another face."""
    made: dict[str, Phone] = {}

    def get(who: str) -> Phone:
        return made.setdefault(who, Phone(browsers, stack))
    yield get
    for p in made.values():
        p.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory):
    return DOCS_SHOTS if os.environ.get("HADIR_SCREENSHOTS") else tmp_path_factory.mktemp("screens")


# Samples the preview's corner marker every 50 ms into window.__hadirMarker = {pose, since}; `since`
# is null until a change of pose was seen (so the time a pose has been held is known).
MARKER_JS = """(() => {
  const colours = %s, c = document.createElement('canvas'); c.width = c.height = 1;
  const g = c.getContext('2d', {willReadFrequently: true});
  window.__hadirMarker = {pose: null, since: null};
  setInterval(() => {
    const v = document.querySelector('[data-testid=camera-preview]');
    if (!v || !v.videoWidth) { window.__hadirMarker = {pose: null, since: null}; return; }
    const s = %d * v.videoWidth / 640;
    g.drawImage(v, s / 2, s / 2, 1, 1, 0, 0, 1, 1);
    const [r, gg, b] = g.getImageData(0, 0, 1, 1).data;
    let best = null, d = 3 * 60 * 60;
    for (const [pose, [R, G, B]] of Object.entries(colours)) {
      const e = (r - R) ** 2 + (gg - G) ** 2 + (b - B) ** 2; if (e < d) { d = e; best = pose; }
    }
    const m = window.__hadirMarker;
    if (best !== m.pose) window.__hadirMarker = {pose: best, since: m.pose === null ? null : performance.now()};
  }, 50);
  // Tap `capture` when the wanted pose has been on screen 200..1000 ms (a hold lasts 1500 ms)
  window.__hadirCapture = (pose) => {
    const m = window.__hadirMarker, held = m.since === null ? -1 : performance.now() - m.since;
    if (m.pose !== pose || held < 200 || held > 1000) return false;
    const b = document.querySelector('[data-testid=capture]');
    if (!b || b.disabled) return false;
    b.click(); return true;
  };
})();""" % ({k: list(v) for k, v in video.MARKERS.items()}, video.MARK)


# Playwright's clock fakes Date, not the timestamp Chromium stamps on a position: restamp positions
# with the page's (faked) clock, so the phone's fix is as old as on a phone whose clock is right.
GEO_CLOCK_JS = """(() => {
  const g = navigator.geolocation; if (!g) return;
  const restamp = (ok) => (p) => ok({coords: p.coords, timestamp: Date.now(),
                                     toJSON: () => ({coords: p.coords.toJSON(), timestamp: Date.now()})});
  const get = g.getCurrentPosition.bind(g), watch = g.watchPosition.bind(g);
  g.getCurrentPosition = (ok, err, opt) => get(restamp(ok), err, opt);
  g.watchPosition = (ok, err, opt) => watch(restamp(ok), err, opt);
})();"""


class Phone:
    def __init__(self, browsers, stack):
        self.browsers, self.stack = browsers, stack
        self.state = None  # the storage state carried between cameras
        self.context = None
        self.scripts: list[str] = []

    def open(self, camera: str = "checkin", geolocation: dict | None = None, path: str = "/"):
        """A fresh page of the app on this phone, the camera showing ``camera``'s video."""
        self.close()
        ctx = self.browsers(camera).new_context(
            viewport={"width": 360, "height": 640}, permissions=["camera", "geolocation"],
            geolocation=geolocation or DENPASAR, locale="id-ID", timezone_id="Asia/Makassar",
            storage_state=self.state, base_url=self.stack["web"])
        ctx.clock.set_fixed_time(NOW)  # the phone's clock agrees with the stack's frozen one
        ctx.add_init_script(MARKER_JS)
        ctx.add_init_script(GEO_CLOCK_JS)
        ctx.set_default_timeout(20_000)
        self.context = ctx
        ctx.on("response", _report_errors)
        self.scripts = []  # URLs of the scripts this page loaded (Playwright's clock hides performance entries)
        ctx.on("response", lambda r: r.request.resource_type == "script" and self.scripts.append(r.url))
        page = ctx.new_page()
        page.goto(path)
        return page

    def close(self):
        if self.context is not None:
            try:
                self.state = self.context.storage_state(indexed_db=True)
            finally:
                self.context.close()
                self.context = None


def _report_errors(response):
    """API errors printed (pytest shows them with a failing test's output)."""
    if "/api/" in response.url and response.status >= 400:
        try:
            body = response.text()[:2000]
        except Exception:  # noqa: BLE001 - the page may be gone already
            body = "?"
        print(f"HTTP {response.status} {response.request.method} {response.url}: {body}")


def tid(page, name: str):
    return page.get_by_test_id(name)


def login(page, user: str, password: str = PASSWORD):
    """Log in from the login screen (or do nothing when the phone is logged in already)."""
    page.locator("[data-testid=logout]:visible, [data-testid=login-nip]:visible").first.wait_for()
    if tid(page, "logout").is_visible():
        return
    tid(page, "login-nip").fill(user)
    tid(page, "login-password").fill(password)
    tid(page, "login-submit").click()
    tid(page, "logout").wait_for()


def follow_challenge(page, timeout_s: float = 40):
    """Tap `capture` once per step, each when the video shows the pose the step asks."""
    from playwright.sync_api import expect
    ticks = page.locator('[data-testid^="capture-tick-"]')
    ticks.first.wait_for()
    for i in range(ticks.count()):
        step = tid(page, "challenge-step")
        expect(step).to_have_attribute("data-step", str(i))
        pose = step.get_attribute("data-pose")
        page.wait_for_function("pose => window.__hadirCapture(pose)", arg=pose, polling=50,
                               timeout=timeout_s * 1000)
        expect(tid(page, f"capture-tick-{i}")).to_have_class(re.compile(r"\bok\b"))


def shot(page, shots: pathlib.Path, name: str):
    """A screenshot of the screen, the camera preview and selfies masked (no face is committed)."""
    masks = [page.locator('[data-testid=camera-preview], [data-testid=review-selfie], [data-testid=review-photo]')]
    page.screenshot(path=str(shots / f"{name}.png"), mask=masks, animations="disabled", full_page=True)


def api_login(stack, user: str) -> dict:
    r = requests.post(f"{stack['api']}/auth/login", json={"username": user, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['id_token']}"}
