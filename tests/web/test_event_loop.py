"""No synchronous database work on the event loop.

An `async def` endpoint runs on the event loop, so a database session in it (directly or
through any of its dependencies) blocks every other request while it waits. Such routes are
plain `def` (FastAPI runs them in its thread pool); only small async dependencies that read
the request (the form, the body) stay async, and they never receive the session.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from crosspromo.app import create_app
from crosspromo.settings import Settings
from crosspromo.web.deps import get_db


def _call(dependant: Dependant) -> Any:
    call = dependant.call
    return inspect.unwrap(call) if call is not None else None


def _is_async(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
        getattr(call, "__call__", None)  # noqa: B004  (callable class instances)
    )


def _tree(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _tree(sub)


def _uses_db(dependant: Dependant) -> bool:
    return any(_call(d) is get_db for d in _tree(dependant))


def _flatten(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, also inside included routers (newer FastAPI wraps them)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(_flatten(route.original_router.routes))
    return found


def _routes(tmp_path: Any) -> list[APIRoute]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/x.db", secret_key="t"))
    routes = _flatten(app.routes)
    app.state.engine.dispose()
    return routes


def test_no_async_endpoint_depends_on_the_database_session(tmp_path: Any) -> None:
    routes = _routes(tmp_path)
    assert len(routes) > 100
    bad = [
        f"{sorted(r.methods)} {r.path} ({r.endpoint.__module__}.{r.endpoint.__name__})"
        for r in routes
        if _is_async(r.endpoint) and _uses_db(r.dependant)
    ]
    assert not bad, "async def routes with database work on the event loop:\n" + "\n".join(bad)


def test_no_async_dependency_receives_the_session(tmp_path: Any) -> None:
    """An async dependency may sit above one that uses the session, never take it itself."""
    bad = set()
    for route in _routes(tmp_path):
        for node in _tree(route.dependant):
            if node is route.dependant or not _is_async(_call(node)):
                continue
            if any(_call(sub) is get_db for sub in node.dependencies):
                bad.add(f"{_call(node).__module__}.{_call(node).__name__}")
    assert not bad, sorted(bad)


def test_the_walk_sees_the_session_through_dependencies(tmp_path: Any) -> None:
    """The check itself: a page route reaches get_db through its sign-in dependency."""
    till = next(
        r
        for r in _routes(tmp_path)
        if r.path == "/b/{business_id}/till/{action}" and "POST" in r.methods
    )
    assert _uses_db(till.dependant)
    assert not _is_async(till.endpoint)
