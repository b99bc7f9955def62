"""A plan's resource changes, address by address, read off `terraform show -json`:
what the console lists per project (kept compact with the run record)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atlantis_py.domain.results import ResourceChange

MAX_CHANGES = 1000  # resource changes kept per plan; the counts cover the rest
_ACTIONS = {("create",): "create", ("update",): "update", ("delete",): "delete",
            ("delete", "create"): "replace", ("create", "delete"): "replace"}


def resource_changes(plan_json: Mapping[str, Any],
                     limit: int = MAX_CHANGES) -> tuple[ResourceChange, ...]:
    """Each resource the plan creates, updates, deletes or replaces, by address, in
    the plan's order (no-op, read and forget left out, as in `plan_counts`)."""
    found: list[ResourceChange] = []
    for resource in plan_json.get("resource_changes") or ():
        actions = tuple((resource.get("change") or {}).get("actions") or ())
        action = _ACTIONS.get(actions)
        address = resource.get("address")
        if action is not None and isinstance(address, str):
            found.append(ResourceChange(address, action))
            if len(found) >= limit:
                break
    return tuple(found)
