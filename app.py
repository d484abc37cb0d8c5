"""Hadir: event wiring only. Routes and event handlers live in Blueprints under chalicelib/api/."""
from chalicelib.common.settings import validate_at_startup
from chalicelib.face import warm

settings = validate_at_startup()  # a deployed stage with HADIR_NOW set refuses to start
if settings and settings.face_warm_up:  # the API function's: the models load while the rest imports
    warm.in_background(settings.face)

from chalice import Chalice  # noqa: E402  (after the warm-up started: these imports overlap it)

from chalicelib.api.events import events  # noqa: E402
from chalicelib.api.routes import api  # noqa: E402

app = Chalice(app_name="hadir")
app.register_blueprint(api)
app.register_blueprint(events)
