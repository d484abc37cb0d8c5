"""Personal sites: where an employee may attend besides their offices, and the work mode that means.

An admin, or the employee's own supervisor (a unit head putting staff on work-from-home), assigns a
home (WFH), an assignment for dinas luar (DL) or an approved work-from-anywhere place (WFA), with an
optional validity window in office-local dates. Check-in tests the position against the offices and
the personal sites valid that day; the matched site gives the work mode. Every change is audited.
"""
from __future__ import annotations

from datetime import date

from chalicelib.adapters.auth import Principal
from chalicelib.common.errors import Conflict
from chalicelib.common.logs import logger
from chalicelib.geo import WORK_MODE_BY_KIND, Site, parse_geofence
from chalicelib.services.records import Office, PersonalSite
from chalicelib.services.schemas import SiteList, SiteOut, SiteRequest
from chalicelib.services.staff import staff_member
from chalicelib.wiring import Services


def assign(svc: Services, nip: str, req: SiteRequest, actor: Principal) -> SiteOut:
    emp = staff_member(svc, nip, actor)
    if req.site_id in emp.office_ids:
        raise Conflict("The site id is one of the employee's offices", code="site_exists",
                       details={"site_id": req.site_id})
    site = PersonalSite(nip=nip, site_id=req.site_id, kind=req.kind, work_mode=WORK_MODE_BY_KIND[req.kind],
                        geofence=req.geofence, valid_from=_iso(req.valid_from), valid_to=_iso(req.valid_to),
                        note=req.note.strip() if req.note else None, created_by=actor.username,
                        created_at=svc.now_iso())
    svc.records.add_site(site, actor=actor.username, now=site.created_at)
    logger.info("site assigned", extra={"nip": nip, "site_id": site.site_id, "kind": site.kind,
                                        "actor": actor.username})
    return SiteOut(**site.model_dump())


def list_for(svc: Services, nip: str, actor: Principal) -> SiteList:
    staff_member(svc, nip, actor)
    return SiteList(nip=nip, sites=[SiteOut(**s.model_dump()) for s in svc.records.sites_of(nip)])


def remove(svc: Services, nip: str, site_id: str, actor: Principal) -> SiteOut:
    staff_member(svc, nip, actor)
    site = svc.records.remove_site(nip, site_id, actor=actor.username, now=svc.now_iso())
    logger.info("site removed", extra={"nip": nip, "site_id": site_id, "actor": actor.username})
    return SiteOut(**site.model_dump(), status="removed", removed_by=actor.username)


def candidate_sites(offices: list[Office], personal: list[PersonalSite], day: date) -> list[Site]:
    """The sites a check-in on ``day`` is tested against: every office, then the personal sites
    valid that day (which take the first office's time zone and time rules)."""
    first = offices[0]
    sites = [Site(site_id=o.office_id, kind="office", work_mode=o.work_mode,
                  geofence=parse_geofence(o.geofence), timezone=o.timezone, office_id=o.office_id)
             for o in offices]
    sites += [Site(site_id=p.site_id, kind=p.kind, work_mode=p.work_mode,
                   geofence=parse_geofence(p.geofence), timezone=first.timezone,
                   office_id=first.office_id) for p in personal if p.valid_on(day.isoformat())]
    return sites


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None
