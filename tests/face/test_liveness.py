"""Challenge-response liveness, pure: the geometry on synthetic heads (tests.fakes.head: a 3-D
face-mesh-like point cloud turned and projected, or a flat picture of one tilted)."""
import secrets

import numpy as np
import pytest

from chalicelib.face import liveness as lv
from tests.fakes import head

RULES = lv.LivenessRules()
TURN = {"front": (0, 0), "left": (20, 0), "right": (-20, 0), "up": (0, 15), "down": (0, -15)}


def frame(yaw=0.0, pitch=0.0, flat=False, jitter=1, identity=5.0, replay=None, digest=None):
    pts = head(yaw, pitch, flat, jitter)
    return lv.Frame(points=pts, pose=lv.pose_of(pts), identity=identity, identity_limit=3.0, replay=replay,
                    digest=digest or f"d{jitter}-{yaw}-{pitch}")


def sequence(steps, **kw):
    return [frame(*TURN[s], jitter=i + 1, **kw) for i, s in enumerate(steps)]


def failed(result):
    return [(c.check, c.step, c.code) for c in result.failures]


@pytest.mark.parametrize("yaw,pitch", [(0, 0), (25, 0), (-25, 0), (0, 20), (0, -20), (15, -10)])
def test_the_pose_of_a_turned_head_is_read_back_as_the_person_sees_it(yaw, pitch):
    pose = lv.pose_of(head(yaw, pitch))
    assert pose.yaw == pytest.approx(yaw, abs=1.5) and pose.pitch == pytest.approx(pitch, abs=1.5)


def test_left_is_the_persons_own_left_which_moves_the_nose_to_the_images_right():
    # Given a head turned to its own left (unmirrored camera frame)
    pts = head(20, 0)
    # Then the nose tip lies right of the eyes' midpoint in the image, and the pose says left
    eyes_mid = (pts[lv.LEFT_EYE_OUTER, 0] + pts[lv.RIGHT_EYE_OUTER, 0]) / 2
    assert pts[lv.NOSE_TIP, 0] > eyes_mid and lv.Pose(20, 0, 0).towards("left") > 0
    assert lv.pose_of(pts).towards("left") > 15 and lv.pose_of(pts).towards("right") < -15


@pytest.mark.parametrize("steps", [["front", "left", "right"], ["front", "up", "down"], ["front", "right"]])
def test_a_live_head_that_follows_its_challenge_passes_every_check(steps):
    result = lv.evaluate(steps, sequence(steps), RULES)
    assert result.passed, failed(result)
    assert {c.check for c in result.checks} == {"identity", "distinct", "direction", "depth"}
    d = result.to_dict()
    assert d["passed"] and [s["pose"] for s in d["steps"]] == steps
    assert all({"value", "limit", "ok", "code"} <= set(c) for c in d["checks"])
    assert lv.reasons(result) == [{"code": "liveness_passed", "effect": "info", "steps": steps}]


def test_turning_the_other_way_is_the_wrong_direction_with_its_numbers():
    frames = [frame(jitter=1), frame(-20, 0, jitter=2)]  # asked left, turned right
    result = lv.evaluate(["front", "left"], frames, RULES)
    [(check, step, code)] = [f for f in failed(result) if f[0] == "direction"]
    assert (step, code) == (1, lv.WRONG_DIRECTION)
    reason = next(r for r in lv.reasons(result) if r["code"] == lv.WRONG_DIRECTION)
    assert reason["value"] < -15 and reason["limit"] == RULES.min_turn_deg and reason["effect"] == "reject"


def test_a_turn_smaller_than_the_configured_angle_is_too_small():
    frames = [frame(jitter=1), frame(5, 0, jitter=2)]
    result = lv.evaluate(["front", "left"], frames, RULES)
    assert ("direction", 1, lv.TOO_SMALL) in failed(result)
    loose = lv.evaluate(["front", "left"], frames, lv.LivenessRules(min_turn_deg=4))
    assert ("direction", 1, lv.TOO_SMALL) not in failed(loose)


def test_a_flat_picture_tilted_to_follow_the_challenge_is_flat_motion():
    # Given a print of a frontal face turned by 30 degrees each way in front of the camera
    steps = ["front", "left", "right"]
    frames = [frame(0, 0, flat=True, jitter=1), frame(30, 0, flat=True, jitter=2),
              frame(-30, 0, flat=True, jitter=3)]
    result = lv.evaluate(steps, frames, RULES)
    codes = {c for _, _, c in failed(result)}
    # Then the landmarks are explained by a homography, and the head never turned
    assert lv.FLAT_MOTION in codes and lv.TOO_SMALL in codes
    depth = [c for c in result.checks if c.check == "depth"]
    assert all(c.value < RULES.min_residual / 2 for c in depth)


def test_a_real_turn_is_not_planar_but_a_homography_explains_a_tilted_plane_exactly():
    front, turned = head(0, 0, jitter=1), head(20, 0, jitter=2)
    iod = lv.eye_distance(front)
    assert lv.homography_residual(front, turned) / iod > 2 * RULES.min_residual
    plane = np.c_[front[:, :2], np.ones(len(front))] @ np.array([[1.1, 0.2, 5], [0.05, 0.9, -3], [1e-4, 2e-4, 1]]).T
    assert lv.homography_residual(front, plane[:, :2] / plane[:, 2:3]) < 1e-6


def test_another_person_in_one_frame_is_an_identity_change():
    frames = sequence(["front", "left"])
    frames[1] = lv.Frame(frames[1].points, frames[1].pose, identity=1.2, identity_limit=3.0, replay=None,
                         digest="x")
    result = lv.evaluate(["front", "left"], frames, RULES)
    assert failed(result) == [("identity", 1, lv.IDENTITY_CHANGED)]
    reason = lv.reasons(result)[0]
    assert reason["score"] == 1.2 and reason["threshold"] == 3.0 and "value" not in reason
    employee = lv.for_employee(result.to_dict())
    assert all(c["value"] is None for c in employee["checks"] if c["check"] == "identity")


def test_one_frame_sent_for_every_step_is_duplicate_frames():
    # Given the same bytes for each step, and a resized copy of the front frame for another
    one = frame(jitter=1, digest="same")
    resized = lv.Frame(one.points * 0.5 + 7, one.pose, 5.0, 3.0, None, "other")
    result = lv.evaluate(["front", "left", "right"], [one, one, resized], RULES)
    assert {(s, c) for k, s, c in failed(result) if k == "distinct"} == {(1, lv.DUPLICATE_FRAMES),
                                                                         (2, lv.DUPLICATE_FRAMES)}


def test_a_frame_that_is_an_enrolment_photo_again_is_a_replayed_image():
    enrolled = np.stack([head(0, 0, jitter=11)[:, :2], head(20, 0, jitter=12)[:, :2]])
    copy = enrolled[1] * 1.3 + 4  # the left enrolment photo, resized and shifted
    fresh = head(0, 0, jitter=5)
    assert lv.replay_residual(enrolled, copy) < 1e-6
    assert lv.replay_residual(enrolled, fresh) > RULES.max_duplicate_residual


def test_challenges_are_random_front_first_and_follow_the_agencys_directions():
    rng = secrets.SystemRandom()
    seen = {tuple(lv.challenge(RULES, rng)) for _ in range(200)}
    assert all(c[0] == "front" and len(c) == 3 and len(set(c[1:])) == 2 for c in seen) and len(seen) >= 10
    yaw_only = lv.LivenessRules(turns=3, directions=("left", "right"))
    assert all(set(lv.challenge(yaw_only, rng)[1:]) <= {"left", "right"} for _ in range(50))
    enrol = {tuple(lv.enrolment_challenge(rng)) for _ in range(50)}
    assert enrol == {("front", "left", "right"), ("front", "right", "left")}


def test_one_frame_per_step_front_first():
    with pytest.raises(ValueError):
        lv.evaluate(["left", "front"], sequence(["front", "left"]), RULES)
    with pytest.raises(ValueError):
        lv.evaluate(["front", "left"], sequence(["front"]), RULES)
