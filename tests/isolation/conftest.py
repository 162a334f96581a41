"""Fixtures of isolation tests shared across modules."""

from tests.isolation.release_factories import at_site, released

__all__ = ["at_site", "released"]
