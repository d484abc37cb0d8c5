"""Hadir: event wiring only. Routes and event handlers live in Blueprints under chalicelib/api/."""
from chalicelib.common.settings import validate_at_startup
from chalicelib.face import warm

settings = validate_at_startup()  # a deployed stage with HADIR_NOW set refuses to start
if settings and settings.warm_up:  # the API function's: the models load while the rest imports
    warm.in_background(settings.face)
    from chalicelib.adapters import auth  # and the user pool's keys are fetched meanwhile
    auth.prefetch_keys_in_background(settings)

from chalice import Chalice  # noqa: E402  (after the warm-up started: these imports overlap it)

from chalicelib.api.events import events  # noqa: E402
from chalicelib.api.routes import api  # noqa: E402

app = Chalice(app_name="hadir")
app.register_blueprint(api)
app.register_blueprint(events)
