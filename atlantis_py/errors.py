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
    """The forge's API refused or failed; wraps the client library's error."""


class WorkspaceError(AtlantisError):
    """git could not fetch or check out the requested commit."""


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
