"""The gate limits are configuration: defaults in FaceConfig, overridable per deployment through
HADIR_FACE_<FIELD> environment variables read by the one settings object."""
from __future__ import annotations

import pytest

from chalicelib.face import FaceConfig
from chalicelib.common.settings import SettingsError, load_settings


def test_environment_overrides_reach_the_face_config():
    # Given a deployment that wants sharper photos and allows larger files
    s = load_settings({"HADIR_STAGE": "local", "HADIR_FACE_MIN_SHARPNESS": "12.5",
                       "HADIR_FACE_MAX_BYTES": "10000000"})
    # Then the engine's config carries them, and everything else keeps its default
    assert s.face.min_sharpness == 12.5 and s.face.max_bytes == 10_000_000
    assert s.face.max_yaw_deg == FaceConfig().max_yaw_deg


@pytest.mark.parametrize("env", [{"HADIR_FACE_MIN_SHARPNES": "12"},   # misspelt: never ignored
                                 {"HADIR_FACE_MAX_BYTES": "lots"}])
def test_bad_face_setting_refuses_to_start(env):
    with pytest.raises(SettingsError) as err:
        load_settings({"HADIR_STAGE": "local", **env})
    assert err.value.code == "invalid_configuration"
