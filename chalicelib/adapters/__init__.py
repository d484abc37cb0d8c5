"""Adapters: the only code that talks to AWS (boto3, PynamoDB), and their in-memory twins."""
