from __future__ import annotations

import io
import logging

import pytest

from atlantis_py.logs import CREDENTIAL_MIN_LENGTH, ContextFilter, Secrets, Throttle, job_context


def capture(secrets: list[str]) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter(secrets))
    handler.setFormatter(logging.Formatter("[%(ctx)s] %(message)s"))
    logger = logging.getLogger(f"test-logs-{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_job_context_is_stamped_on_each_line_and_reset() -> None:
    logger, stream = capture([])
    with job_context("job=7 delivery=abc"):
        logger.info("planning %s", "network")
    logger.info("idle")
    assert stream.getvalue().splitlines() == ["[job=7 delivery=abc] planning network", "[-] idle"]


def test_secrets_are_masked_in_messages_and_arguments() -> None:
    logger, stream = capture(["ghp_supersecret", "hook-secret"])
    logger.info("token %s and hook-secret in text", "ghp_supersecret")
    assert "ghp_supersecret" not in stream.getvalue()
    assert "hook-secret" not in stream.getvalue()
    assert stream.getvalue().count("****") == 2


def test_masking_grows_and_masks_a_value_containing_another_whole() -> None:
    secrets = Secrets(["abcd"])
    logger, stream = capture_with(secrets)
    secrets.add(["abcd-efgh-ijkl"], CREDENTIAL_MIN_LENGTH)
    logger.info("x abcd-efgh-ijkl y abcd z")
    assert stream.getvalue().strip() == "[-] x **** y **** z"


@pytest.mark.parametrize("value, min_length, masked", [
    pytest.param("true", CREDENTIAL_MIN_LENGTH, False, id="short-credential-is-a-setting"),
    pytest.param("eu-west", CREDENTIAL_MIN_LENGTH, False, id="seven-chars"),
    pytest.param("us-east-1", CREDENTIAL_MIN_LENGTH, True, id="eight-or-more"),
    pytest.param("tok1", 4, True, id="token-four"),
    pytest.param("  padded-secret\n", CREDENTIAL_MIN_LENGTH, True, id="stripped-too"),
])
def test_min_length(value: str, min_length: int, masked: bool) -> None:
    secrets = Secrets()
    secrets.add([value], min_length)
    text = f"value={value.strip()};"
    assert (secrets.mask(text) == "value=****;") is masked


def test_a_logged_traceback_is_masked() -> None:
    logger, stream = capture(["hunter2-secret"])
    try:
        raise RuntimeError("failed with hunter2-secret")
    except RuntimeError:
        logger.exception("crashed")
    assert "hunter2-secret" not in stream.getvalue()
    assert "RuntimeError: failed with ****" in stream.getvalue()


def capture_with(secrets: Secrets) -> tuple[logging.Logger, io.StringIO]:
    logger, stream = capture([])
    logger.handlers[0].filters[:] = [ContextFilter(secrets)]
    return logger, stream
def test_throttle_lets_one_line_a_message_through_per_interval() -> None:
    logger, stream = capture([])
    now = [0.0]
    logger.addFilter(Throttle(60, clock=lambda: now[0]))
    for depth in range(1, 6):
        logger.warning("Task queue depth is %d", depth)
    logger.warning("connection limit reached")
    now[0] = 61.0
    logger.warning("Task queue depth is %d", 9)
    assert stream.getvalue().splitlines() == [
        "[-] Task queue depth is 1",
        "[-] connection limit reached",
        "[-] Task queue depth is 9 (and 4 more like it in 60 s)",
    ]
