"""Schemathesis over the OpenAPI document, in process (ASGI), on both engines: a bounded
number of generated requests per operation, authenticated as the owner of a seeded business,
with real ids in the paths so that requests reach the services. 0 server errors."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings

EXAMPLES = 6  # per operation: about 400 requests per engine


def test_no_server_error_under_the_fuzzer(
    app: Any, client: TestClient, world: dict[str, Any]
) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    ids, headers = world["ids"], world["headers"]
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            nonlocal calls
            for name in list(case.path_parameters or {}):
                if name in ids:
                    case.path_parameters[name] = ids[name]
            response = case.call(headers=headers)
            calls += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} {case.body!r:.200}"
                    f" -> {response.status_code}"
                )

        run()
    assert calls > 200
    assert not failures, "\n".join(failures[:30]) + f"\n{len(failures)} server errors"
