"""Who may see and act on a task: pure functions over the signed-in user and a task's queue.

A task waits in a queue (role, region, department). A user is "in the queue" when their role works
that queue (a township reviewer works the caseworkers' queue too), the queue's region lies in their
region (a city-level liaison works every county's queue of their department in the city) and, for a
department task, the department is theirs. Once accepted, only the assignee works it on. The managers
— township staff and administrators with `tasks.manage` over the task's region — close, return
feedback, reassign and escalate."""

from __future__ import annotations

from safetynet.auth.model import CurrentUser, Role
from safetynet.casework.model import QUEUED, Action, Queue, Status, TaskType
from safetynet.regions.model import short_code

#: the role that works a field check at each level of the region tree
FIELD_ROLE_BY_LEVEL = {
    "grid": Role.grid_worker,
    "township": Role.township_caseworker,
    "county": Role.county_admin,
    "city": Role.city_admin,
    "province": Role.province_admin,
}
LEVEL_UP = {"grid": "township", "township": "county", "county": "city", "city": "province"}
_CODE_LENGTH = {"township": 9, "county": 6, "city": 4, "province": 2}


def region_at(code: str, level: str) -> str:
    """The full code of the `level` region that contains `code` (a grid's, a village's, ...)."""
    if level == "grid":
        return code
    n = _CODE_LENGTH[level]
    return code[:n].ljust(12, "0")


def works_for(region: str, task_region: str) -> bool:
    """A user or queue bound to `region` can take a task of a household in `task_region`: the region
    contains it (a township, a county, …) or is a grid of the same township (the township may send a
    nearby grid's worker)."""
    prefix = short_code(region) if len(region) == 12 else region
    return task_region.startswith(prefix) or (len(region) == 14 and region[:9] == task_region[:9])


def grid_sees(user: CurrentUser, *, grid_code: str | None, queue_region: str, assignee: str | None) -> bool:
    """A grid worker's tasks: their grid's households', and those the township sent them."""
    return grid_code == user.region_code or queue_region == user.region_code or assignee == user.username


def roles_worked(role: str) -> set[str]:
    """The queue roles an account of `role` works (a township reviewer works the caseworkers' too)."""
    roles = {role}
    if role == Role.township_reviewer.value:
        roles.add(Role.township_caseworker.value)
    return roles


def queue_roles(user: CurrentUser) -> set[str]:
    return roles_worked(user.role)


def works_queue(role: str, region_code: str, department: str | None, queue: Queue) -> bool:
    """The one rule of who works a queue, for acting on its tasks and for being told of them: an
    account of `role`, bound to `region_code`, of `department` (liaisons)."""
    if queue.role not in roles_worked(role):
        return False
    if queue.department is not None and queue.department != department:
        return False
    return queue.region.startswith(short_code(region_code))


def in_queue(user: CurrentUser, queue: Queue) -> bool:
    return works_queue(user.role, user.region_code, user.department, queue)


def manages(user: CurrentUser, task_region: str) -> bool:
    return user.can("tasks.manage") and user.in_scope(task_region)


def may(
    user: CurrentUser, action: Action, *, status: Status, queue: Queue, assignee: str | None, task_region: str
) -> bool:
    """Whether `user` may give the action to a task in this state (the transition itself is checked by
    model.next_status)."""
    mine = assignee == user.username
    if action is Action.accept:
        return status in QUEUED and (in_queue(user, queue) or manages(user, task_region))
    if action in (Action.start, Action.feedback):
        return mine
    if action is Action.give_back:
        if status is Status.feedback_given:
            return manages(user, task_region)
        return mine or in_queue(user, queue)
    if action in (Action.close, Action.reassign, Action.escalate):
        return manages(user, task_region)
    return False  # assign and push are the dispatcher's


def next_queue(queue: Queue, task_type: str) -> Queue | None:
    """The queue one level up (escalation); None at the province."""
    level = queue_level(queue)
    up = LEVEL_UP.get(level)
    if up is None:
        return None
    region = region_at(queue.region, up)
    if task_type == TaskType.department_push.value:
        return Queue(Role.department_liaison.value, region, queue.department)
    return Queue(FIELD_ROLE_BY_LEVEL[up].value, region)


def queue_level(queue: Queue) -> str:
    if len(queue.region) == 14:
        return "grid"
    return {2: "province", 4: "city", 6: "county", 9: "township", 12: "village"}[
        len(short_code(queue.region))
    ]
