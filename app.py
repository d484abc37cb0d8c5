"""Hadir: event wiring only. Routes and event handlers live in Blueprints under chalicelib/api/."""
from chalice import Chalice

from chalicelib.api.events import events
from chalicelib.api.routes import api
from chalicelib.common.settings import validate_at_startup

validate_at_startup()  # a deployed stage with HADIR_NOW set refuses to start

app = Chalice(app_name="hadir")
app.register_blueprint(api)
app.register_blueprint(events)
