"""Errors named by meaning; each carries a message a user can act on."""


class AtlantisError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(AtlantisError):
    """A server setting is missing or invalid; the message names the setting."""


class RepoConfigError(AtlantisError):
    """A repo's workflows.yaml is invalid; names the file, line and key."""

    def __init__(self, file: str, line: int | None, key: str, message: str) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.message = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {message}")


class CommandParseError(AtlantisError):
    """A comment looked like a command but its flags are not understood."""


class ForgeError(AtlantisError):
    """The forge's API refused or failed; wraps the client library's error.
    `status` is the forge's HTTP status when it answered at all."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientError(AtlantisError):
    """Worth trying again later: the other side is down, slow or rate limiting.
    `retry_after` is how long it asked us to wait (seconds), when it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientForgeError(TransientError, ForgeError):
    """A forge answer that will likely change: 5xx, a connection error or
    timeout, a primary or secondary rate limit. `uncertain`: the request may
    have taken effect all the same (a 5xx or a timeout after it was sent; not a
    rate limit, which refuses before acting), so a write is checked before it
    is sent again."""

    def __init__(self, message: str, retry_after: float | None = None, *,
                 uncertain: bool = False) -> None:
        super().__init__(message, retry_after)
        self.uncertain = uncertain


class WorkspaceError(AtlantisError):
    """git could not fetch or check out the requested commit."""


class TransientWorkspaceError(TransientError, WorkspaceError):
    """git could not reach the forge (it is down or the network is): try later."""


class NotFound(AtlantisError):
    """The thing asked for does not exist."""


class Conflict(AtlantisError):
    """The request is valid but the current state does not allow it."""


class Forbidden(AtlantisError):
    """The caller is known but not allowed to do this."""


class Invalid(AtlantisError):
    """The request's content is malformed or incomplete."""


class MalformedWebhook(Invalid):
    """A verified webhook whose body is not JSON, or whose fields are missing or of
    the wrong type; answered 400 and never queued. Names the field."""


class DatabaseUnavailable(AtlantisError):
    """The database could not be reached or refused to store: try again later."""
