"""What a published WFO/WFH roster day (``services/rosters.py``) does to the sites a check-in is
tested against. Pure: sites in, sites and the reason out.

- a ``WFO`` day: the offices (and an office's event site); not the home;
- a ``WFH`` day: the registered home sites valid that day; not the offices. With no home site
  valid that day the sites stay as they are (the offices allowed) and the reason says
  ``roster_no_home_site``, so nobody is locked out by a missing registration and the
  supervisor sees why an office check-in on a WFH day was accepted;
- other sites (an assignment for dinas luar, an approved anywhere place) stay on either day:
  each is a decision of its own with its validity.

A day without a published roster (or a member ``away``/``off`` that day) changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.common.errors import JsonObject
from chalicelib.geo import Site

WFO, WFH = "WFO", "WFH"
HOME, OFFICE = "home", "office"


@dataclass(frozen=True)
class RosterDay:
    roster_id: str
    version: int
    date: str
    status: str  # WFO | WFH

    def reason(self, code: str = "roster") -> JsonObject:
        return {"code": code, "effect": "info", "status": self.status, "roster_id": self.roster_id,
                "version": self.version, "date": self.date}


def allowed_sites(sites: list[Site], day: RosterDay | None) -> tuple[list[Site], list[JsonObject]]:
    """``sites`` as the roster day allows them, and the reason (none without a roster day)."""
    if day is None or day.status not in (WFO, WFH):
        return sites, []
    if day.status == WFO:
        return [s for s in sites if s.kind != HOME], [day.reason()]
    if not any(s.kind == HOME for s in sites):
        return sites, [day.reason("roster_no_home_site")]
    return [s for s in sites if s.kind != OFFICE], [day.reason()]
