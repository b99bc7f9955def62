"""An admin releases one project lock by hand (the console's Locks page): the
lock goes, the release is audited on its IPR, and the pull request is told who
released it and why."""

from __future__ import annotations

import logging
from collections.abc import Callable

from atlantis_py.domain.console import LockView
from atlantis_py.errors import Invalid, NotFound
from atlantis_py.flows.services import Services

log = logging.getLogger(__name__)


class Unlocks:
    def __init__(self, svc: Services, release: Callable[[int], LockView | None]) -> None:
        self.svc = svc
        self.release = release

    def unlock(self, lock_id: int, actor: str, reason: str) -> LockView:
        reason = reason.strip()
        if not reason:
            raise Invalid("releasing a lock needs a reason: it is posted on the pull request")
        lock = self.release(lock_id)
        if lock is None:
            raise NotFound(f"no lock with id {lock_id}; it may have been released already")
        record = self.svc.pulls.by_id(lock.pull_id)
        if record is not None:
            self.svc.ipr.note(record, actor, "lock:released", project=lock.project,
                              detail=f"{lock.dir} workspace {lock.workspace}: {reason}")
        log.info("%s released the lock on %s %s/%s held by #%d", actor, lock.repo, lock.dir,
                 lock.workspace, lock.pull_number)
        self.svc.say(lock.forge, lock.repo, lock.pull_number, self.svc.renderer.lock_released(
            actor=actor, dir=lock.dir, workspace=lock.workspace, project=lock.project,
            reason=reason))
        return lock
