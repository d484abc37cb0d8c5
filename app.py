"""Hadir: event wiring only. Routes live in Blueprints under chalicelib/api/, logic in services."""
from chalice import Chalice

app = Chalice(app_name="hadir")
