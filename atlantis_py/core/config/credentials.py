"""The server's `--credentials` file: environment name → terraform variables.

Pure: the text in, a CredentialsFile out, every refusal naming the file, line
and key. Reading `${VAR}` and `file:` values is the runner's job, at use.

```yaml
environments:
  production:
    AWS_ACCESS_KEY_ID: ${PROD_AWS_ACCESS_KEY_ID}
    AWS_SECRET_ACCESS_KEY: file:/run/secrets/prod-aws-secret
  dev:
    TF_VAR_region: eu-west-1
```
"""

from __future__ import annotations

import re

from atlantis_py.core.config.reader import ConfigReader, Path, format_path, kind
from atlantis_py.domain.credentials import CredentialsFile, CredentialVar, Source

VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SERVER_VAR = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
FILE_PREFIX = "file:"
# the server's own settings (forge tokens, webhook secrets) live in these
SERVER_OWN_PREFIX = "ATLANTIS_"


def parse_credentials(file: str, text: str) -> CredentialsFile:
    reader = ConfigReader(file, text)
    if reader.doc is None:
        return CredentialsFile(file)
    body = reader.mapping(reader.doc, (), ("environments",))
    environments = reader.named(body.get("environments"), ("environments",),
                                lambda _name, value, path: _variables(reader, value, path))
    return CredentialsFile(file, environments)


def _variables(reader: ConfigReader, value: object, path: Path) -> tuple[CredentialVar, ...]:
    if not isinstance(value, dict):
        reader.fail(path, f"expected a mapping of variable names to values, got {kind(value)}")
    return tuple(_variable(reader, name, raw, (*path, name)) for name, raw in value.items())


def _variable(reader: ConfigReader, name: str, raw: object, path: Path) -> CredentialVar:
    if not VAR_NAME.match(name):
        reader.fail(path, f"{name!r} is not a variable name (letters, digits and _, "
                    "not starting with a digit)", at_key=True)
    if not isinstance(raw, str):
        reader.fail(path, f"expected a string, got {kind(raw)}; quote numbers and "
                    "true/false, e.g. \"123\"")
    if not raw.strip():
        reader.fail(path, "must not be empty")
    key, line = format_path(path), reader.lines.get(path)
    if raw.startswith(FILE_PREFIX):
        file = raw[len(FILE_PREFIX):]
        if not file.startswith("/"):
            reader.fail(path, f"file: needs an absolute path, e.g. file:/run/secrets/{name}, "
                        f"got {raw!r}")
        return CredentialVar(name, Source.FILE, file, key, line)
    server = _SERVER_VAR.match(raw)
    if server:
        if server.group(1).startswith(SERVER_OWN_PREFIX):
            reader.fail(path, f"{server.group(1)} is one of the server's own settings; "
                        f"{SERVER_OWN_PREFIX}* variables are never handed to terraform")
        return CredentialVar(name, Source.SERVER_ENV, server.group(1), key, line)
    if "${" in raw:
        reader.fail(path, "a server variable is written as the whole value, ${NAME}; "
                    "a literal cannot contain '${' (put such a value in a file and "
                    "use file:/path)")
    return CredentialVar(name, Source.LITERAL, raw, key, line)
