"""Every event subscriber of the platform, imported in one place so that the loop is always wired.

The app imports this module at start-up; so do the tests, the demo and the CLI, so that a case
confirmed anywhere opens its investigation and enters the transfer queue the same way.
"""

from bihuan.command import reactions as command_reactions
from bihuan.grouping import reactions as grouping_reactions
from bihuan.isolation import reactions as isolation_reactions
from bihuan.tracing.service import reactions as tracing_reactions

__all__ = ["command_reactions", "grouping_reactions", "isolation_reactions", "tracing_reactions"]
