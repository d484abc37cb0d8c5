"""Request and response models of whereabouts (``services/pings.py``): pings, the region,
episodes and who is where now. Kept beside ``schemas.py`` (same bases and conventions)."""

from typing import ClassVar, Literal

from pydantic import Field

from chalicelib.common.errors import JsonObject
from chalicelib.services.schemas import Day, EpisodeOut, EpisodePing, Location, Query, Reason, Request, Response

__all__ = ["EpisodeOut", "EpisodePing"]  # in schemas.py since the review queue carries them too


class PingRequest(Request):
    location: Location
    error_codes: ClassVar[dict[str, str]] = {}


class PingEpisodeOut(Response):
    episode_id: str
    kind: Literal["outside_region", "away_from_home"]
    opened: bool = Field(description="this ping opened it (the supervisor was alerted once)")
    opened_at: str
    pings: int


class PingOut(Response):
    ping_id: str
    at: str
    local_date: str
    outside: bool = Field(description="outside the region (or away from home) without a permission")
    kind: Literal["outside_region", "away_from_home"] | None = None
    reasons: list[Reason]
    episode: PingEpisodeOut | None = None
    closed_episode_id: str | None = Field(default=None, description="this ping, back inside, closed it")
    next_ping_after_s: int


class RegionDocument(Request):
    name: str | None = Field(default=None, max_length=200)
    boundary: JsonObject | None = Field(default=None, description="GeoJSON Polygon or MultiPolygon "
                                        "((lon, lat) positions, closed rings); null: no region is watched")


class RegionPut(Request):
    version: int | None = Field(default=None, ge=1, description="the version read; null to create the first")
    document: RegionDocument
    error_codes: ClassVar[dict[str, str]] = {"version": "invalid_region", "document": "invalid_region"}


class RegionConfig(Response):
    kind: Literal["region"]
    version: int | None = Field(description="null: nothing stored, no region is watched; send it back on PUT")
    stored: bool
    updated_at: str | None = None
    updated_by: str | None = None
    document: RegionDocument


class EpisodeQuery(Query):
    day: Day | None = Field(default=None, alias="date", description="office-local date it opened; default: today")
    error_codes: ClassVar[dict[str, str]] = {"date": "invalid_date"}


class EpisodeList(Response):
    date: str
    episodes: list[EpisodeOut]


class NowQuery(Query):
    unit: str | None = Field(default=None, max_length=200, description="admins: one unit (supervisors: ignored)")
    error_codes: ClassVar[dict[str, str]] = {"unit": "invalid_unit"}


class WorkDayNow(Response):
    """Today's WFH/WFA day (a mode of HADIR_REPORT_REQUIRED_ON): the work it shows."""

    work_mode: str = Field(description="WFH | WFA | DL | WFO, as HADIR_REPORT_REQUIRED_ON names them")
    source: Literal["request", "roster", "checkin"] = Field(description="an approved request, the published "
                                                                        "roster, the accepted check-in")
    checked_in: bool = Field(description="an accepted check-in today")
    report: Literal["none", "submitted", "returned", "accepted"] = Field(description="the daily work report's state")
    report_due: Literal["due", "missing"] | None = Field(default=None, description=(
        "no report yet: due before the cut-off, missing after (also a reason report_due / report_missing)"))
    cutoff: str = Field(description="when writing today's report closes (office-local ISO)")


class StaffNow(Response):
    nip: str
    name: str
    unit: str | None = None
    office_id: str | None = None
    local_date: str | None = None
    state: Literal["outside_region", "away_from_home", "on_leave", "on_travel", "flagged", "in_office",
                   "at_home", "at_site", "absent", "not_checked_in", "off_day", "no_office"]
    online: bool
    last_seen_at: str | None = None
    reasons: list[Reason]
    work_day: WorkDayNow | None = Field(default=None, description="only on a day whose work mode needs a report")


class TeamNow(Response):
    at: str
    online_minutes: int
    staff: list[StaffNow]
