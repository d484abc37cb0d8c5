"""Use cases: enrol, check in, administer, query, and the scheduled jobs. Each takes the
``Services`` of the composition root (``chalicelib.wiring``): ports, the clock and settings."""
