"""Flowkey's pure core: no Flask, no SQLAlchemy, no HTTP, no clock (``now`` is always passed in)."""
