"""Every event subscriber of the platform, imported in one place so that the loop is always wired.

The app imports this module at start-up; so do the tests, the demo and the CLI, so that a case
confirmed anywhere opens its investigation the same way.
"""

from bihuan.tracing.service import reactions

__all__ = ["reactions"]
