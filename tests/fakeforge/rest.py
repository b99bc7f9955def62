"""The REST plumbing both fakes' APIs share: one WSGI dispatch (record, route,
authenticate, answer JSON), API errors, request bodies and page windows.

A subclass supplies the routing, the authentication and the wording of its
forge's errors, and handlers named `on_<endpoint>` that return (status, json).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from tests.fakeforge.faults import Fault
    from tests.fakeforge.forge import FakeForge

class ApiError(Exception):
    def __init__(self, status: int, message: Any) -> None:
        super().__init__(str(message))
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Page:
    """One page of a list, with the headers that say where the others are."""

    items: list[Any]
    headers: dict[str, str]


@dataclass(frozen=True)
class PageWindow:
    """Which slice of a list a request's `page` and `per_page` ask for."""

    page: int
    per_page: int
    last: int

    @classmethod
    def of(cls, request: Request, total: int, default_per_page: int) -> PageWindow:
        per_page = min(max(int(request.args.get("per_page", default_per_page)), 1), 100)
        page = max(int(request.args.get("page", 1)), 1)
        return cls(page, per_page, max((total + per_page - 1) // per_page, 1))

    def cut(self, items: list[Any]) -> list[Any]:
        return items[(self.page - 1) * self.per_page : self.page * self.per_page]


def json_response(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class RestApi:
    """The WSGI app. Handlers take the route's arguments and return (status, json)."""

    fake: FakeForge[Any, Any]  # narrowed by each forge's subclass
    forge_name: ClassVar[str]
    bad_credentials: ClassVar[str]
    bad_json: ClassVar[str]
    not_an_object: ClassVar[str]

    def __init__(self, fake: FakeForge[Any, Any]) -> None:
        self.fake = fake

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request, self.route_path(request))
        return response(environ, start_response)

    def route_path(self, request: Request) -> str:
        """The path routes are matched on and requests are recorded under."""
        return request.path

    def match(self, request: Request, path: str) -> tuple[str, Mapping[str, Any]] | None:
        """(endpoint, route arguments), or None for a route the fake lacks."""
        raise NotImplementedError

    def authorised(self, request: Request) -> bool:
        raise NotImplementedError

    def dispatch(self, request: Request, path: str) -> Response:
        self.fake.record(request.method, path)
        route = self.match(request, path)
        if route is None:
            message = f"fake {self.forge_name} does not implement {request.method} {path}"
            return json_response(501, {"message": message})
        if not self.authorised(request):
            return json_response(401, {"message": self.bad_credentials})
        endpoint, args = route
        with self.fake.lock:
            fault = self.fake.faults.take(endpoint)
        if fault is not None and not fault.lands:
            return self.fault_response(fault)
        handler: Callable[..., tuple[int, Any]] = getattr(self, f"on_{endpoint}")
        try:
            with self.fake.lock:
                status, body = handler(request, **args)
        except ApiError as e:
            return json_response(e.status, {"message": e.message})
        if fault is not None:  # it landed, but the client hears the error (a lost answer)
            return self.fault_response(fault)
        if isinstance(body, Page):
            response = json_response(status, body.items)
            response.headers.update(body.headers)
            return response
        if status == 204:
            return Response(status=204)
        return json_response(status, body)

    @staticmethod
    def fault_response(fault: Fault) -> Response:
        response = json_response(fault.status, {"message": fault.message})
        response.headers.update(fault.headers)
        return response

    def body(self, request: Request) -> dict[str, Any]:
        """The request's JSON object; a 400 in the forge's words otherwise."""
        try:
            data = json.loads(request.get_data() or b"{}")
        except ValueError as e:
            raise ApiError(400, self.bad_json) from e
        if not isinstance(data, dict):
            raise ApiError(400, self.not_an_object)
        return data
