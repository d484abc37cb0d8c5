"""Given-steps shared by the API tests."""
from __future__ import annotations

from tests.fakes import photo

AYU = "199001152015032001"  # employee, Denpasar (WITA), supervisor KETUT
MADE = "199208202019021003"  # employee, Denpasar
KETUT = "197805122005011002"  # supervisor, Denpasar
ANDI = "199503032020121002"  # employee, Jakarta (WIB), supervisor BUDI
BUDI = "198001012006041001"
DENPASAR = {"lat": -8.67052, "lon": 115.21263}  # 4 m from the office's centre (a phone never lands on it)
FACE = (30, 120, 200)


def location(lat=DENPASAR["lat"], lon=DENPASAR["lon"], accuracy_m=8, captured_at="2026-03-03T07:44:50+08:00",
             is_mock=False):
    return {"lat": lat, "lon": lon, "accuracy_m": accuracy_m, "captured_at": captured_at,
            "is_mock": is_mock}


def steps_of(session) -> list[str]:
    """The poses a session's challenge asks for, in upload order (one front photo without one)."""
    challenge = session.get("challenge")
    return [s["pose"] for s in challenge["steps"]] if challenge else ["front"] * len(session["uploads"])


def enrol(api, nip, colour=FACE, photos=None):
    """Enrol with three fake photos that follow the session's challenge (or ``photos``)."""
    s = api.post("/me/enrollment/uploads", user=nip)
    assert s.status_code == 201, s.json
    poses = steps_of(s.json)
    for target, data in zip(s.json["uploads"], photos or [photo(colour, seed=i, pose=p) for i, p in enumerate(poses)]):
        assert api.upload(target, data) in (200, 201, 204)
    return api.post("/me/enrollment", {"session_id": s.json["session_id"], "consent": True}, user=nip)


def checkin_session(api, nip, data=None, content_type="image/png", frames=None, colour=FACE):
    """A check-in session with its frames uploaded: ``data`` as the front frame (False: none at
    all), declared ``content_type``, the challenge's other steps followed by the face ``colour``
    as PNGs (or ``frames``, one per step, each declared ``content_type``)."""
    s = api.post("/checkins/uploads", user=nip)
    assert s.status_code == 201, s.json
    if data is not False:
        poses = steps_of(s.json)
        types = [content_type] * len(poses) if frames else [content_type] + ["image/png"] * len(poses)
        frames = frames or [data if data is not None else photo(FACE, seed=9)] + [
            photo(colour, seed=10 + i, pose=p) for i, p in enumerate(poses[1:])]
        for target, frame, ctype in zip(s.json["uploads"], frames, types):
            api.upload(target, frame, ctype)
    return s.json["session_id"]


def check_in(api, nip, session_id, kind="in", loc=None, key=None):
    headers = {"Idempotency-Key": key} if key else None
    return api.post("/checkins", {"session_id": session_id, "type": kind, "location": loc or location()},
                    user=nip, headers=headers)
