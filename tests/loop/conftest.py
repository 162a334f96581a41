"""Fixtures of loop tests: people at a site under a known plan (from the isolation tests)."""

from tests.isolation.release_factories import at_site

__all__ = ["at_site"]
