"""Contract tests: one suite per port, run against the AWS adapter and its in-memory twin."""
