"""In-memory twins of the AWS adapters, with the same behaviour (see tests/contract)."""
