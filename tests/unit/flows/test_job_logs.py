"""A job's log writer: lines masked like comments, written in batches with the
projects named, never failing the job when the store does; a failure that ends
an attempt is the log's last line. And a plan's resource addresses masked too."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import cast

import pytest

from atlantis_py.domain.records import Job, JobStatus
from atlantis_py.domain.results import ProjectResult, ResourceChange, RunStatus
from atlantis_py.flows.job_logs import LogWriter, logging_job
from atlantis_py.flows.services import Services
from atlantis_py.logs import Secrets
from atlantis_py.runner.output import current_sink, for_project

SECRET = "s3cr3t-value-1234"


class Store:
    def __init__(self, fail: int = 0) -> None:
        self.batches: list[list[str]] = []
        self.projects: list[list[str]] = []
        self.fail = fail

    def append(self, job_id: int, lines: Sequence[str]) -> None:
        if self.fail:
            self.fail -= 1
            raise OSError("the database is away")
        self.batches.append(list(lines))

    def set_projects(self, job_id: int, projects: Sequence[str]) -> None:
        self.projects.append(list(projects))

    @property
    def lines(self) -> list[str]:
        return [line for batch in self.batches for line in batch]


def job(attempts: int = 1) -> Job:
    return Job(id=7, kind="event", serial_key="github:a/b#1", payload="{}",
               attempts=attempts, status=JobStatus.RUNNING)


def test_lines_are_masked_and_written_in_batches() -> None:
    store = Store()
    writer = LogWriter(store, 7, Secrets([SECRET]).mask, every=3600)
    writer.start()
    writer.line(f"token={SECRET}\r")
    writer.project("network")
    writer.project("network")
    writer.line("second")
    writer.close()
    assert store.batches == [["token=****", "second"]]
    assert store.projects == [["network"]]


def test_a_store_that_fails_loses_lines_and_says_so_later() -> None:
    store = Store(fail=1)
    writer = LogWriter(store, 7, str, every=3600)
    writer.line("lost")
    writer.flush()  # does not raise
    writer.line("kept")
    writer.flush()
    assert store.lines == ["[1 lines were lost: the database did not take them]", "kept"]


def test_the_runner_streams_into_the_jobs_log_and_a_failure_ends_it() -> None:
    store = Store()
    with pytest.raises(ValueError), logging_job(store, job(attempts=2), str):
        sink = current_sink()
        assert sink is not None
        with for_project("dns"):
            inner = current_sink()
            assert inner is not None
            inner.line("planning")
        raise ValueError("boom")
    assert current_sink() is None
    assert store.lines == ["--- attempt 2 ---", "[dns] planning",
                           "the job stopped: ValueError: boom"]
    assert store.projects == [["dns"]]


def test_without_a_store_nothing_is_kept() -> None:
    with logging_job(None, job(), str):
        assert current_sink() is None


def test_a_plans_resource_addresses_are_masked_like_its_output() -> None:
    """A for_each key may be a credential: the console lists addresses."""
    result = ProjectResult(project="p", dir="p", workspace="default", command="plan",
                           status=RunStatus.SUCCESS, output=f"key {SECRET}",
                           changes=(ResourceChange(f'terraform_data.x["{SECRET}"]', "create"),
                                    ResourceChange("terraform_data.y", "delete")))
    holder = cast(Services, SimpleNamespace(secrets=Secrets([SECRET])))
    masked = Services.masked(holder, result)
    assert masked.output == "key ****"
    assert masked.changes == (ResourceChange('terraform_data.x["****"]', "create"),
                              ResourceChange("terraform_data.y", "delete"))
