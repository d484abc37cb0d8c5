"""Operator tools run from a workstation against a configured stage (not part of the Lambda zip:
infra/package.py copies app.py and chalicelib/ only). ``python -m admin --help``."""
