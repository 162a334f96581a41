"""Use cases of the command system (指挥体系): the only code that changes its tables."""

from bihuan.command.service.incidents import activate_incident, deactivate_incident, list_incidents, read_incident
from bihuan.command.service.loop_tasks import LoopSignal, raise_loop_tasks
from bihuan.command.service.task_forces import add_member, remove_member
from bihuan.command.service.tasks import create_task, get_task, list_tasks, update_task

__all__ = [
    "LoopSignal",
    "activate_incident",
    "add_member",
    "create_task",
    "deactivate_incident",
    "get_task",
    "list_incidents",
    "list_tasks",
    "raise_loop_tasks",
    "read_incident",
    "remove_member",
    "update_task",
]
