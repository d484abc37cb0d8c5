"""Pings, episodes and each employee's latest fix and open episode over DynamoDB (table ``pings``,
layout on ``models.PingModel``): the rate limit and the one-episode rule are each ONE conditional
single-item write (``STATE#LAST``, ``STATE#OPEN``), so racing pings never pass twice nor open two
episodes; the item it guards is written after it (no transaction: a ping costs two PutItems).
Should that second write fail, the error propagates: a lost ping (the rate limit's slot used) or,
for an episode, the marker is deleted again."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from pynamodb.exceptions import DeleteError, PutError

from chalicelib.adapters.storage.models import PingModel
from chalicelib.services.records import Episode, LastFix, Ping, PingState

LAST, OPEN = "STATE#LAST", "STATE#OPEN"


def ping_sk(p: Ping) -> str:
    return f"PING#{p.at}#{p.ping_id}"


def episode_sk(e: Episode) -> str:
    return f"EPISODE#{e.opened_at}#{e.episode_id}"


def _failed(exc: PutError | DeleteError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


class DynamoPings:
    """Mixed into ``DynamoRecords``."""

    def record_ping(self, ping: Ping, expires: datetime, not_before: str) -> bool:
        """Store ``ping`` as the latest fix unless the latest is after ``not_before`` (the rate
        limit): False, and nothing written."""
        last = PingModel(ping.nip, LAST, at=ping.at, data={"lat": ping.lat, "lon": ping.lon}, ttl=expires)
        item = PingModel(ping.nip, ping_sk(ping), at=ping.at, data=ping.model_dump(mode="json"), ttl=expires)
        try:
            last.save(condition=PingModel.sk.does_not_exist() | (PingModel.at <= not_before))
        except PutError as exc:
            if _failed(exc):
                return False
            raise
        item.save()
        return True

    def ping_state(self, nip: str) -> PingState:
        last, open_ = None, None
        for m in PingModel.query(nip, PingModel.sk.startswith("STATE#"), consistent_read=True):
            if m.sk == LAST:
                last = _last(m)
            elif m.sk == OPEN and m.ref:
                open_ = self._episode_at(nip, m.ref)
        return PingState(nip=nip, last=last, open_episode=open_)

    def ping_states(self, nips: Sequence[str]) -> dict[str, PingState]:
        """Two BatchGetItems in blocks of 100 keys: every latest fix and open marker, then the
        open episodes they name (eventually consistent: a view, not a rate limit)."""
        wanted = sorted(set(nips))
        found = {(m.nip, m.sk): m for m in PingModel.batch_get([(n, k) for n in wanted for k in (LAST, OPEN)])}
        refs = [(n, m.ref) for (n, sk), m in found.items() if sk == OPEN and m.ref]
        episodes = {m.nip: _episode(m) for m in PingModel.batch_get(refs)} if refs else {}
        return {n: PingState(nip=n, last=_last(found.get((n, LAST))), open_episode=episodes.get(n)) for n in wanted}

    @staticmethod
    def _episode_at(nip: str, sk: str) -> Episode | None:
        try:
            return _episode(PingModel.get(nip, sk, consistent_read=True))
        except PingModel.DoesNotExist:
            return None

    def open_episode(self, episode: Episode, expires: datetime) -> bool:
        """Open ``episode`` unless one is open for the employee (False, nothing written)."""
        sk = episode_sk(episode)
        marker = PingModel(episode.nip, OPEN, ref=sk, at=episode.opened_at, ttl=expires)
        item = PingModel(episode.nip, sk, data=episode.model_dump(mode="json"), episode_date=episode.local_date,
                         nip_sk=f"{episode.nip}#{sk}", last_at=episode.last_at, pings=episode.pings, ttl=expires)
        try:
            marker.save(condition=PingModel.sk.does_not_exist())
        except PutError as exc:
            if _failed(exc):
                return False
            raise
        try:
            item.save()
        except Exception:
            marker.delete(condition=PingModel.ref == sk)
            raise
        return True

    def extend_episode(self, episode: Episode, at: str) -> None:
        """One more ping of the open ``episode`` at ``at``."""
        m = PingModel(episode.nip, episode_sk(episode))
        m.update(actions=[PingModel.last_at.set(at), PingModel.pings.add(1)],
                 condition=PingModel.sk.exists())

    def close_episode(self, episode: Episode, at: str) -> bool:
        """Close ``episode`` if it is the open one (False: closed meanwhile)."""
        sk = episode_sk(episode)
        try:
            PingModel(episode.nip, OPEN).delete(condition=PingModel.ref == sk)
        except DeleteError as exc:
            if _failed(exc):
                return False
            raise
        PingModel(episode.nip, sk).update(actions=[PingModel.closed_at.set(at)], condition=PingModel.sk.exists())
        return True

    def episodes_on(self, local_date: str) -> list[Episode]:
        """The episodes opened on ``local_date`` (office-local), by NIP then opening."""
        return [_episode(m) for m in PingModel.by_episode_date.query(local_date)]

    def episode(self, nip: str, local_date: str, episode_id: str) -> Episode | None:
        """By the by_episode_date index's key (date, ``<nip>#EPISODE#...``): one Query."""
        q = PingModel.by_episode_date.query(local_date, PingModel.nip_sk.startswith(f"{nip}#EPISODE#"))
        return next((e for e in map(_episode, q) if e.episode_id == episode_id), None)

    def pings_between(self, nip: str, start: str, end: str, limit: int = 200) -> list[Ping]:
        """``nip``'s pings at ``start``..``end`` (UTC ISO, inclusive), oldest first, at most ``limit``."""
        q = PingModel.query(nip, PingModel.sk.between(f"PING#{start}", f"PING#{end}~"), limit=limit)
        return [Ping.model_validate(m.data) for m in q]


def _last(m: PingModel | None) -> LastFix | None:
    return LastFix(lat=m.data["lat"], lon=m.data["lon"], at=m.at) if m is not None else None


def _episode(m: PingModel) -> Episode:
    return Episode.model_validate({**m.data, "last_at": m.last_at, "pings": int(m.pings or 1),
                                   "closed_at": m.closed_at, "review": m.review})
