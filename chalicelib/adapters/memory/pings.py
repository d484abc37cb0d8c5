"""The in-memory twin of ``adapters/storage/pings.py``: the same conditions, all or nothing."""
from __future__ import annotations

import copy
import threading
from datetime import datetime
from typing import Sequence

from chalicelib.common.errors import JsonObject

from chalicelib.services.records import Episode, LastFix, Ping, PingContext, PingState


_INIT = threading.Lock()


class InMemoryPings:
    """Mixed into ``InMemoryRecords``; its own lock and items (``expires`` kept, as a TTL is)."""

    def _ping_items(self) -> dict[str, dict[str, dict]]:
        with _INIT:
            if not hasattr(self, "_pings_by_nip"):
                self._pings_lock = threading.RLock()
                self._pings_by_nip: dict[str, dict[str, dict]] = {}
        return self._pings_by_nip

    def ping_expiry(self, nip: str, sk_prefix: str) -> list[datetime]:
        """The TTLs stored under ``sk_prefix`` (tests)."""
        return [i["expires"] for sk, i in sorted(self._ping_items().get(nip, {}).items()) if sk.startswith(sk_prefix)]

    def record_ping(self, ping: Ping, expires: datetime, not_before: str) -> bool:
        items = self._ping_items()
        with self._pings_lock:
            mine = items.setdefault(ping.nip, {})
            last = mine.get("STATE#LAST")
            if last is not None and last["at"] > not_before:
                return False
            mine["STATE#LAST"] = {"at": ping.at, "lat": ping.lat, "lon": ping.lon, "expires": expires}
            mine[f"PING#{ping.at}#{ping.ping_id}"] = {"ping": ping.model_dump(mode="json"), "expires": expires}
            return True

    def ping_state(self, nip: str) -> PingState:
        items = self._ping_items()
        with self._pings_lock:
            mine = items.get(nip, {})
            last, marker = mine.get("STATE#LAST"), mine.get("STATE#OPEN")
            episode = mine.get(marker["ref"]) if marker else None
            return PingState(nip=nip, last=LastFix(lat=last["lat"], lon=last["lon"], at=last["at"]) if last else None,
                             open_episode=Episode.model_validate(copy.deepcopy(episode["episode"])) if episode else None)

    def ping_states(self, nips: Sequence[str]) -> dict[str, PingState]:
        return {n: self.ping_state(n) for n in sorted(set(nips))}

    def ping_context(self, nip: str) -> PingContext:
        """The employee, their ping state and whether they ever submitted a request."""
        return PingContext(employee=self.get_employee(nip), state=self.ping_state(nip),  # type: ignore[attr-defined]
                           has_requests=self.request_ledger(nip).version > 0)  # type: ignore[attr-defined]

    def open_episode(self, episode: Episode, expires: datetime) -> bool:
        items = self._ping_items()
        sk = f"EPISODE#{episode.opened_at}#{episode.episode_id}"
        with self._pings_lock:
            mine = items.setdefault(episode.nip, {})
            if "STATE#OPEN" in mine or sk in mine:
                return False
            mine["STATE#OPEN"] = {"ref": sk, "expires": expires}
            mine[sk] = {"episode": episode.model_dump(mode="json"), "expires": expires}
            return True

    def extend_episode(self, episode: Episode, at: str) -> None:
        items = self._ping_items()
        with self._pings_lock:
            stored = items.get(episode.nip, {}).get(f"EPISODE#{episode.opened_at}#{episode.episode_id}")
            if stored is not None:
                stored["episode"]["last_at"] = at
                stored["episode"]["pings"] += 1

    def close_episode(self, episode: Episode, at: str) -> bool:
        items = self._ping_items()
        sk = f"EPISODE#{episode.opened_at}#{episode.episode_id}"
        with self._pings_lock:
            mine = items.get(episode.nip, {})
            if mine.get("STATE#OPEN", {}).get("ref") != sk or sk not in mine:
                return False
            del mine["STATE#OPEN"]
            mine[sk]["episode"]["closed_at"] = at
            return True

    def episodes_on(self, local_date: str) -> list[Episode]:
        items = self._ping_items()
        with self._pings_lock:
            found = [(nip, sk, i["episode"]) for nip, mine in items.items() for sk, i in mine.items()
                     if sk.startswith("EPISODE#") and i["episode"]["local_date"] == local_date]
        return [Episode.model_validate(copy.deepcopy(e)) for _, _, e in sorted(found, key=lambda t: (t[0], t[1]))]

    def episode(self, nip: str, local_date: str, episode_id: str) -> Episode | None:
        return next((e for e in self.episodes_on(local_date) if e.nip == nip and e.episode_id == episode_id), None)

    def _set_episode_review(self, episode: Episode, review: JsonObject) -> bool:
        """Set the decision on the stored ``episode`` unless gone or decided (False)."""
        items = self._ping_items()
        with self._pings_lock:
            stored = items.get(episode.nip, {}).get(f"EPISODE#{episode.opened_at}#{episode.episode_id}")
            if stored is None or stored["episode"].get("review") is not None:
                return False
            stored["episode"]["review"] = copy.deepcopy(review)
            return True

    def pings_between(self, nip: str, start: str, end: str, limit: int = 200) -> list[Ping]:
        items = self._ping_items()
        with self._pings_lock:
            mine = items.get(nip, {})
            hits = sorted(sk for sk in mine if f"PING#{start}" <= sk <= f"PING#{end}~")[:limit]
            return [Ping.model_validate(copy.deepcopy(mine[sk]["ping"])) for sk in hits]
