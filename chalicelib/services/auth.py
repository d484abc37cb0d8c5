"""Sign-in with a lockout (``policy.login``): each attempt is counted before the directory is
asked, a locked username is refused without asking it, a success clears the count."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.common.errors import HadirError, TooManyAttempts
from chalicelib.common.logs import logger, metrics
from chalicelib.policy.login import LoginLimit, login_key
from chalicelib.services.schemas import LoginRequest, RefreshRequest, Tokens
from chalicelib.wiring import Services


def login_limit(svc: Services) -> LoginLimit:
    s = svc.settings
    return LoginLimit(s.login_max_failures, s.login_window_s, s.login_lock_s)


def refresh(svc: Services, req: RefreshRequest) -> Tokens:
    """New ID and access tokens for a refresh token: no password, so no login lock; the
    directory's Unauthenticated ``invalid_refresh_token`` when it is not (or no longer) valid."""
    return Tokens(**svc.directory.refresh(req.refresh_token))


def login(svc: Services, req: LoginRequest) -> Tokens:
    """The tokens; TooManyAttempts ``too_many_attempts`` (``details.retry_after_s``, ``until``)
    while the username is locked, whether it exists or not; the directory's Unauthenticated
    errors otherwise."""
    limit, key, now = login_limit(svc), login_key(req.username), svc.clock.now()
    turn = svc.login_attempts.take(key, now, limit)
    if not turn.allowed:
        metrics.add_metric(name="LoginsRefused", unit="Count", value=1)
        logger.warning("sign-in refused: locked", extra={"retry_after_s": turn.retry_after_s(now)})
        raise TooManyAttempts("Too many failed sign-ins; try again later", details={
            "retry_after_s": turn.retry_after_s(now), "until": (turn.retry_at or now).isoformat(),
            "max_failures": limit.max_failures, "window_s": limit.window_s})
    try:
        tokens = svc.directory.login(req.username, req.password)
    except HadirError:
        if turn.locks_on_failure(limit):
            svc.login_attempts.lock(key, now + timedelta(seconds=limit.lock_s), now, limit)
            logger.warning("sign-in locked", extra={"failures": turn.failures, "lock_s": limit.lock_s})
        raise
    svc.login_attempts.clear(key)
    return Tokens(**tokens)
