"""Demo data: one agency, offices in WIB, WITA and WIT, an admin, an auditor, supervisors and
employees with valid NIPs, and two personal sites (a home for WFH, an assignment for dinas luar).
Created through the same services the API uses."""
from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.auth import Principal
from chalicelib.geo import WORK_MODE_BY_KIND
from chalicelib.services import admin, sites
from chalicelib.services.schemas import OfficeRequest, SiteRequest
from chalicelib.wiring import Services

PASSWORD = "Hadir-Demo-2025"

OFFICES: list[dict[str, Any]] = [
    {"office_id": "kantor-jakarta", "province": "31", "name": "Kantor Perwakilan Jakarta", "timezone": "Asia/Jakarta",
     "geofence": {"type": "circle", "lat": -6.1754, "lon": 106.8272, "radius_m": 100}},
    {"office_id": "kantor-denpasar", "province": "51", "name": "Kantor Wali Kota Denpasar", "timezone": "Asia/Makassar",
     "geofence": {"type": "circle", "lat": -8.6705, "lon": 115.2126, "radius_m": 50},
     "checkin_window": "06:00-08:00", "work_start": "08:00", "work_end": "15:30",
     "checkout_window": "15:30-18:00"},
    {"office_id": "kantor-jayapura", "province": "91", "name": "Kantor Perwakilan Jayapura", "timezone": "Asia/Jayapura",
     "geofence": {"type": "Polygon", "coordinates": [[[140.7170, -2.5345], [140.7192, -2.5345],
                                                      [140.7192, -2.5328], [140.7170, -2.5328],
                                                      [140.7170, -2.5345]]]}},
]

EMPLOYEES: list[dict[str, Any]] = [
    {"nip": "197805122005011002", "name": "I Ketut Wirawan", "unit": "Bagian Umum Denpasar",
     "office_ids": ["kantor-denpasar"], "roles": ["employee", "supervisor"],
     "email": "ketut.wirawan@denpasar.example.go.id"},
    {"nip": "199001152015032001", "name": "Ni Luh Putu Ayu", "unit": "Bagian Umum Denpasar",
     "office_ids": ["kantor-denpasar"], "supervisor_nip": "197805122005011002"},
    {"nip": "199208202019021003", "name": "I Made Suardana", "unit": "Bagian Umum Denpasar",
     "office_ids": ["kantor-denpasar"], "supervisor_nip": "197805122005011002"},
    {"nip": "198001012006041001", "name": "Budi Santoso", "unit": "Perwakilan Jakarta",
     "office_ids": ["kantor-jakarta"], "roles": ["employee", "supervisor"],
     "email": "budi.santoso@jakarta.example.go.id"},
    {"nip": "199503032020121002", "name": "Andi Pratama", "unit": "Perwakilan Jakarta",
     "office_ids": ["kantor-jakarta"], "supervisor_nip": "198001012006041001"},
    {"nip": "197907072004051001", "name": "Yohanes Wanggai", "unit": "Perwakilan Jayapura",
     "office_ids": ["kantor-jayapura"], "roles": ["employee", "supervisor"],
     "email": "yohanes.wanggai@jayapura.example.go.id"},
    {"nip": "199406062018082001", "name": "Maria Rumbiak", "unit": "Perwakilan Jayapura",
     "office_ids": ["kantor-jayapura"], "supervisor_nip": "197907072004051001"},
]

# Made lives in Tabanan (another regency): his unit head put him on work-from-home (WFH).
# Andi is on dinas luar (DL) in Bandung Barat for the demo week.
SITES: dict[str, dict[str, Any]] = {
    "199208202019021003": {"site_id": "rumah-made-tabanan", "kind": "home",
                           "geofence": {"type": "circle", "lat": -8.5405, "lon": 115.1250, "radius_m": 60},
                           "note": "Tinggal di Kabupaten Tabanan: WFH atas penugasan kepala bagian"},
    "199503032020121002": {"site_id": "dl-bandung-barat", "kind": "assignment",
                           "geofence": {"type": "circle", "lat": -6.8433, "lon": 107.4960, "radius_m": 200},
                           "valid_from": "2026-03-02", "valid_to": "2026-03-06",
                           "note": "Dinas luar: koordinasi SMART e-presisi, Pemkab Bandung Barat"},
}
SEED_ACTOR = Principal(sub="seed", username="seed", nip=None, groups=frozenset({"admin"}))

STAFF_USERS = [("admin", ["admin"]), ("auditor", ["auditor"])]


def seed(svc: Services, password: str = PASSWORD) -> dict[str, Any]:
    for o in OFFICES:
        admin.create_office(svc, OfficeRequest.model_validate_json(json.dumps(o)), actor=SEED_ACTOR.username)
    for username, groups in STAFF_USERS:
        svc.directory.upsert_user(username, password, nip=None, name=username.title(), groups=groups)
    result = admin.import_employees(svc, [{**e, "password": password} for e in EMPLOYEES],
                                    actor=SEED_ACTOR.username)
    if result.failed:
        raise RuntimeError(f"seed rows failed: {result.model_dump()['rows']}")
    for nip, site in SITES.items():
        sites.assign(svc, nip, SiteRequest.model_validate_json(json.dumps(site)), SEED_ACTOR)
    return {"offices": [o["office_id"] for o in OFFICES],
            "users": [{"username": u, "roles": g} for u, g in STAFF_USERS]
            + [{"username": e["nip"], "name": e["name"], "roles": e.get("roles", ["employee"]),
                "office": e["office_ids"][0], "sites": _describe(SITES.get(e["nip"]))}
               for e in EMPLOYEES],
            "password": password}


def seed_agency_config(svc: Services) -> dict[str, Any]:
    """The demo agency's calendar: the joint decrees' cuti bersama 2025-2027 (the defaults, stored
    so the admin screen shows version 1) and a Bali regional holiday; stored once (a second run
    keeps what an admin changed since)."""
    from chalicelib.policy.calendar_config import default_document
    from chalicelib.services import agency_config
    from chalicelib.services.schemas import CalendarPut

    if svc.records.agency_config(agency_config.CALENDAR) is not None:
        return {"calendar": "kept"}
    doc = default_document()
    doc["years"]["2026"]["regional_holidays"] = {"51": [{"date": "2026-08-14", "name": "HUT Provinsi Bali"}]}
    out = agency_config.put_calendar(svc, CalendarPut.model_validate({"version": None, "document": doc}),
                                     actor=SEED_ACTOR.username)
    return {"calendar": f"version {out.version}"}


def _describe(site: dict[str, Any] | None) -> list[str]:
    """One printable line per seeded site: id, work mode, centre, radius and validity."""
    if not site:
        return []
    g = site["geofence"]
    window = ""
    if site.get("valid_from") or site.get("valid_to"):
        window = f", valid {site.get('valid_from') or '...'} to {site.get('valid_to') or '...'}"
    return [f"{site['site_id']} ({WORK_MODE_BY_KIND[site['kind']]}, {g['lat']},{g['lon']} "
            f"r={g['radius_m']:g} m{window})"]
