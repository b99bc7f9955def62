from __future__ import annotations

import io
import json
import logging
from datetime import datetime

import pytest

from atlantis_py.logs import (
    CREDENTIAL_MIN_LENGTH,
    ContextFilter,
    JsonFormatter,
    Secrets,
    Throttle,
    configure,
    job_context,
)


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


def test_json_format_is_one_object_a_line_with_secrets_masked() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter(["ghp_supersecret"]))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"test-logs-json-{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    with job_context("job=7"):
        logger.warning("token %s\nsecond line", "ghp_supersecret")
    try:
        raise RuntimeError("failed with ghp_supersecret")
    except RuntimeError:
        logger.exception("crashed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"time", "level", "logger", "message", "context"}
    assert (first["level"], first["logger"], first["context"]) == (
        "warning", logger.name, "job=7")
    assert first["message"] == "token ****\nsecond line"
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert second["message"] == "crashed" and "context" not in second
    assert "RuntimeError: failed with ****" in second["exception"]
    assert "ghp_supersecret" not in stream.getvalue()


def test_configure_picks_the_format(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("info", log_format="json")
        logging.getLogger("atlantis_py.test").info("hello %s", "json")
        configure("info")
        logging.getLogger("atlantis_py.test").info("hello %s", "text")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    json_line, text_line = capsys.readouterr().err.splitlines()
    assert json.loads(json_line)["message"] == "hello json"
    assert text_line.endswith("INFO [-] atlantis_py.test: hello text")
