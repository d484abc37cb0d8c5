"""Pings, episodes and each employee's latest fix and open episode over DynamoDB (table ``pings``,
layout on ``models.PingModel``). One state item per employee (``STATE#LAST``) holds the latest fix
(``at``, ``data``) and the open episode's marker (``ref``): the rate limit and the one-episode rule
are each ONE conditional UpdateItem of different attributes of it, so racing pings never pass twice
nor open two episodes; the item it guards is written after it (no transaction: a ping costs an
UpdateItem and a PutItem). Should that second write fail, the error propagates: a lost ping (the
rate limit's slot used) or, for an episode, the marker is removed again.

Before a ping, :meth:`DynamoPings.ping_context` reads the employee, the state item and the
employee's request ledger in ONE BatchGetItem (consistent reads): no ledger, no request ever
submitted, so the requests need no query (the ledger is written in every request's creation
transaction)."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.adapters.storage import batch_days
from chalicelib.adapters.storage.failures import condition_failed
from chalicelib.adapters.storage.models import EmployeeModel, PingModel, RequestModel
from chalicelib.services.records import Episode, LastFix, Ping, PingContext, PingState

LAST = "STATE#LAST"  # the latest fix (at, data) and the open episode's marker (ref)


def ping_sk(p: Ping) -> str:
    return f"PING#{p.at}#{p.ping_id}"


def episode_sk(e: Episode) -> str:
    return f"EPISODE#{e.opened_at}#{e.episode_id}"


def _failed(exc: PutError | UpdateError) -> bool:
    return condition_failed(exc)  # not cause_response_code: a timeout has no response


class DynamoPings:
    """Mixed into ``DynamoRecords``."""

    def record_ping(self, ping: Ping, expires: datetime, not_before: str) -> bool:
        """Store ``ping`` as the latest fix unless the latest is after ``not_before`` (the rate
        limit): False, and nothing written. The state's marker (``ref``) is left as it is."""
        item = PingModel(ping.nip, ping_sk(ping), at=ping.at, data=ping.model_dump(mode="json"), ttl=expires)
        try:
            PingModel(ping.nip, LAST).update(
                actions=[PingModel.at.set(ping.at), PingModel.data.set({"lat": ping.lat, "lon": ping.lon}),
                         PingModel.ttl.set(expires)],
                condition=PingModel.at.does_not_exist() | (PingModel.at <= not_before))
        except UpdateError as exc:
            if _failed(exc):
                return False
            raise
        item.save()
        return True

    def ping_state(self, nip: str) -> PingState:
        try:
            return self._state(nip, PingModel.get(nip, LAST, consistent_read=True))
        except PingModel.DoesNotExist:
            return PingState(nip=nip)

    def _state(self, nip: str, m: PingModel | None) -> PingState:
        if m is None:
            return PingState(nip=nip)
        return PingState(nip=nip, last=_last(m), open_episode=self._episode_at(nip, m.ref) if m.ref else None)

    def ping_context(self, nip: str) -> PingContext:
        """The employee, their ping state and whether they ever submitted a request: one
        BatchGetItem (and a GetItem of the open episode when one is open)."""
        from chalicelib.adapters.storage.records import _employee, _ledger_key
        keys = {EmployeeModel.Meta.table_name: {"nip": {"S": nip}},
                PingModel.Meta.table_name: {"nip": {"S": nip}, "sk": {"S": LAST}},
                RequestModel.Meta.table_name: {"request_id": {"S": _ledger_key(nip)}}}
        got = {t: items[0] for t, items in batch_days.get_items(self._conn.client, {
            t: {"Keys": [k], "ConsistentRead": True} for t, k in keys.items()}).items() if items}
        emp = got.get(EmployeeModel.Meta.table_name)
        state = got.get(PingModel.Meta.table_name)
        return PingContext(employee=_employee(EmployeeModel.from_raw_data(emp)) if emp else None,
                           state=self._state(nip, PingModel.from_raw_data(state) if state else None),
                           has_requests=RequestModel.Meta.table_name in got)

    def ping_states(self, nips: Sequence[str]) -> dict[str, PingState]:
        """Two BatchGetItems in blocks of 100 keys: every state item (latest fix and open marker),
        then the open episodes they name (eventually consistent: a view, not a rate limit)."""
        wanted = sorted(set(nips))
        found = {m.nip: m for m in PingModel.batch_get([(n, LAST) for n in wanted])}
        refs = [(n, m.ref) for n, m in found.items() if m.ref]
        episodes = {m.nip: _episode(m) for m in PingModel.batch_get(refs)} if refs else {}
        return {n: PingState(nip=n, last=_last(found.get(n)), open_episode=episodes.get(n)) for n in wanted}

    @staticmethod
    def _episode_at(nip: str, sk: str) -> Episode | None:
        try:
            return _episode(PingModel.get(nip, sk, consistent_read=True))
        except PingModel.DoesNotExist:
            return None

    def open_episode(self, episode: Episode, expires: datetime) -> bool:
        """Open ``episode`` unless one is open for the employee (False, nothing written)."""
        sk = episode_sk(episode)
        item = PingModel(episode.nip, sk, data=episode.model_dump(mode="json"), episode_date=episode.local_date,
                         nip_sk=f"{episode.nip}#{sk}", last_at=episode.last_at, pings=episode.pings, ttl=expires)
        state = PingModel(episode.nip, LAST)
        try:
            state.update(actions=[PingModel.ref.set(sk)], condition=PingModel.ref.does_not_exist())
        except UpdateError as exc:
            if _failed(exc):
                return False
            raise
        try:
            item.save()
        except Exception:
            state.update(actions=[PingModel.ref.remove()], condition=PingModel.ref == sk)
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
            PingModel(episode.nip, LAST).update(actions=[PingModel.ref.remove()], condition=PingModel.ref == sk)
        except UpdateError as exc:
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
    """The latest fix on the state item (none yet while only an episode marker is set)."""
    return LastFix(lat=m.data["lat"], lon=m.data["lon"], at=m.at) if m is not None and m.at and m.data else None


def _episode(m: PingModel) -> Episode:
    return Episode.model_validate({**m.data, "last_at": m.last_at, "pings": int(m.pings or 1),
                                   "closed_at": m.closed_at, "review": m.review})
