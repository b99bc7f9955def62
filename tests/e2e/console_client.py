"""A cookie-keeping HTTP client for the review console (forms, CSRF tokens),
for tests that need no browser."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Answer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        found = CSRF.search(self.body)
        assert found, "the page has no CSRF field"
        return found.group(1)


class ConsoleClient:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        data = None if form is None else urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        try:
            with self.opener.open(req, timeout=60) as resp:
                return Answer(resp.status, resp.read().decode(), dict(resp.headers))
        except urllib.error.HTTPError as e:
            return Answer(e.code, e.read().decode(), dict(e.headers))

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Answer:
        return self.request("POST", path, form)

    def sign_in(self, token: str) -> Answer:
        form = self.get("/login")
        answer = self.post("/login", {"csrf": form.csrf, "token": token, "next": "/"})
        assert answer.status == 303, answer.body
        return answer

    def csrf(self, path: str = "/") -> str:
        return self.get(path).csrf
