"""Smoke test of bench/liveness.py's pure parts: the limits it reports are re-applied to recorded
check values exactly as face.liveness.evaluate decides, and its helpers behave."""
import numpy as np
import pytest
from PIL import Image

from bench import liveness as bl
from chalicelib.face import liveness as lv
from tests.fakes import head

LIMITS = bl.Limits(min_turn_deg=8.0, min_residual=0.05, max_duplicate_residual=0.01, identity_z=2.5)
MATCH = 2.7


def frame(yaw, pitch, flat, jitter, identity, limit, replay):
    pts = head(yaw, pitch, flat, jitter)
    return lv.Frame(pts, lv.pose_of(pts), identity, limit, replay, f"d{jitter}")


@pytest.mark.parametrize("seed", range(12))
def test_decisions_rederived_from_recorded_values_match_evaluate(seed):
    rng = np.random.default_rng(seed)
    steps = ["front", "left", "up"]
    turns = {"front": (0, 0), "left": (rng.uniform(0, 25), 0), "up": (0, rng.uniform(0, 20))}
    flat = bool(rng.random() < 0.4)
    frames = [frame(*turns[s], flat, k + 1, rng.uniform(1.5, 4.0), MATCH if k == 0 else LIMITS.identity_z,
                    rng.choice([None, rng.uniform(0, 0.03)])) for k, s in enumerate(steps)]
    result = lv.evaluate(steps, frames, LIMITS.rules())
    for c in result.checks:
        assert bl.check_ok(c.check, c.step, c.value, LIMITS, MATCH) == c.ok
    o = bl.Outcome(match=frames[0].identity >= MATCH, checks=[(c.check, c.step, c.value) for c in result.checks])
    assert (bl.rejections(o, LIMITS, MATCH) == []) == (result.passed and o.match)
    assert bool(bl.per_case([bl.Case("bona_fide", "x", steps, [])], [o]).accepted(LIMITS)[0]) == \
        (result.passed and o.match)


def test_a_zero_tilt_leaves_the_picture_as_it_was():
    img = Image.effect_noise((64, 48), 60).convert("RGB")
    same = np.asarray(bl.tilt(img, 0.0, "v"), np.int16) - np.asarray(img, np.int16)
    assert np.abs(same[2:-2, 2:-2]).max() <= 1


def test_depth_counts_grid_steps_to_the_nearest_infeasible_cell():
    ok = np.zeros((7, 7), bool)
    ok[1:6, 1:6] = True
    d = bl.depth(ok)
    assert d[3, 3] == 3 and d[1, 1] == 1 and d[0, 0] == 0


def test_the_copy_limit_sits_a_margin_under_the_closest_bona_fide_pair():
    pc = bl.PerCase(np.array(["static", "enrolment_replay", "bona_fide", "bona_fide"]), np.zeros(4, bool),
                    np.ones(4, bool), np.zeros(4), np.zeros(4), np.zeros(4), np.array([0.0, 0.004, 0.04, 0.09]))
    limit, info = bl.choose_duplicate(pc)
    assert limit == pytest.approx(0.04 / bl.DUP_MARGIN) and info["copies_caught"] == 1.0
