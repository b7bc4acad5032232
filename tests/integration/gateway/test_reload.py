"""Configuration reload in a running app: what changes, what survives, and what a bad file does.

The gateway runs over the in-memory adapter kind from a file in the test's tmp dir; each test
rewrites the file and reloads through ``POST /ops/reload`` (SIGHUP calls the same Reloader; the
chaos suite sends a real one to a real process).
"""

from __future__ import annotations

import asyncio
import hashlib
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from adapters.registry import AdapterRegistry
from facade.app import RELOADER, RUNTIME, SERVING, create_app
from facade.connection import CALL_LANE, HIT_LANE
from facade.runtime import Runtime
from facade.settings import load_settings
from tests.support.credentials import TEST_API_KEY, TEST_API_KEY_HASH
from tests.support.memory_adapter import MemoryAdapter
from tests.support.serving import GatewayTestServer

Client = Callable[..., Awaitable[TestClient]]
ADMIN = {"Authorization": "Bearer reload-test-admin-token"}
OTHER_KEY = "vk_second_key_for_reload_tests_01"


def config(
    *,
    endpoint: str = "http://127.0.0.1:1/",
    name_field: str = "name",
    extra_route: str = "",
    failures: int = 5,
    port: int = 8080,
) -> str:
    """The test configuration; ``extra_route`` is appended to ``routes`` as written."""
    return (
        textwrap.dedent(f"""
        listen: {{port: {port}}}
        ops:
          admin_token: ${{OPS_TOKEN}}
        auth:
          api_keys:
            clients:
              tester: {{hash: "{TEST_API_KEY_HASH}", scopes: [things:read, things:write]}}
        backends:
          mem:
            kind: memory
            endpoint: {endpoint}
            breaker: {{consecutive_failures: {failures}}}
            cache: {{ttl: 60s}}
            options:
              records:
                "1": {{name: one}}
                "2": {{name: two}}
          other:
            kind: memory
            endpoint: http://127.0.0.1:2/
            options:
              records: {{"9": {{name: nine}}}}
        routes:
          GET /api/v1/things/{{id}}:
            backend: mem
            operation: get
            request: {{id: path.id}}
            response: {{id: path.id, {name_field}: result.name}}
          GET /api/v1/others/{{id}}:
            backend: other
            operation: get
            request: {{id: path.id}}
    """)
        + extra_route
    )


EXTRA_ROUTE = """\
  GET /api/v1/things:
    backend: mem
    operation: list
"""


def rewrite(path: Path, text: str) -> None:
    path.write_text(text)


def load(path: Path) -> Any:
    return load_settings(path, environ={"OPS_TOKEN": "reload-test-admin-token"}, kinds=["memory"])


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(config())
    return path


@pytest.fixture
async def client(config_file: Path, aiohttp_client: Client) -> TestClient:
    registry = AdapterRegistry(discover=list)
    registry.register("memory", MemoryAdapter)
    app = create_app(await Runtime.open(load(config_file), registry=registry, with_store=True))
    app[RELOADER].load = load
    return await aiohttp_client(GatewayTestServer(app), headers={"X-API-Key": TEST_API_KEY})


def adapter(client: TestClient, name: str = "mem") -> MemoryAdapter:
    found = client.app[RUNTIME].backends.adapters[name]
    assert isinstance(found, MemoryAdapter)
    return found


async def reload(client: TestClient, **body: Any) -> tuple[int, dict[str, Any]]:
    response = await client.post("/ops/reload", json=body, headers=ADMIN)
    return response.status, await response.json()


async def test_a_valid_reload_serves_new_and_changed_routes_at_once(
    client: TestClient, config_file: Path
) -> None:
    """A reload that adds a route and reshapes another (cached) one answers with both at once."""
    assert (await (await client.get("/api/v1/things/1")).json()) == {"id": "1", "name": "one"}
    assert (await client.get("/api/v1/things")).status == 404
    rewrite(config_file, config(name_field="title", extra_route=EXTRA_ROUTE))

    status, outcome = await reload(client, reason="rename name to title")

    assert status == 200, outcome
    assert outcome["result"] == "applied" and outcome["generation"] == 2
    assert outcome["changes"]["routes"] == {
        "added": ["GET /api/v1/things"],
        "removed": [],
        "changed": ["GET /api/v1/things/{id}"],
    }
    assert outcome["changes"]["backends"] == {"added": [], "removed": [], "changed": []}
    assert (await (await client.get("/api/v1/things/1")).json()) == {"id": "1", "title": "one"}
    listed = await client.get("/api/v1/things")
    assert listed.status == 200 and len(await listed.json()) == 2
    spec = await (await client.get("/openapi.json")).json()
    assert "/api/v1/things" in spec["paths"]


async def test_an_invalid_file_is_rejected_with_its_errors_and_the_old_one_keeps_serving(
    client: TestClient, config_file: Path
) -> None:
    """A route naming an unknown backend is refused (422, with path and line) and nothing changes."""
    bad = config(extra_route=EXTRA_ROUTE).replace(
        "    backend: mem\n    operation: list", "    backend: nowhere\n    operation: list"
    )
    rewrite(config_file, bad)

    status, problem = await reload(client)

    assert status == 422 and problem["code"] == "config_invalid", problem
    assert problem["generation"] == 1
    [error] = problem["errors"]
    assert error["path"] == 'routes."GET /api/v1/things".backend'
    assert error["line"] is not None and str(config_file) in error["detail"]
    assert (await client.get("/api/v1/things/1")).status == 200
    assert (await client.get("/api/v1/things")).status == 404
    ready = await (await client.get("/readyz")).json()
    assert ready["generation"] == 1


async def test_an_adapter_that_cannot_start_rejects_the_reload(
    client: TestClient, config_file: Path
) -> None:
    """An option the adapter kind does not have is found by the reload, as startup finds it."""
    rewrite(
        config_file,
        config().replace(
            'options:\n      records:\n        "1"',
            'options:\n      colour: red\n      records:\n        "1"',
            1,
        ),
    )

    status, problem = await reload(client)

    assert status == 422, problem
    assert [e["path"] for e in problem["errors"]] == ["backends.mem.options.colour"]
    assert adapter(client).closed is False


async def test_yaml_that_does_not_parse_is_rejected(client: TestClient, config_file: Path) -> None:
    """A syntax error is reported with its line, and the served generation stays 1."""
    rewrite(config_file, config() + "\nroutes: [unclosed\n")

    status, problem = await reload(client)

    assert status == 422 and problem["errors"][0]["line"] is not None, problem
    assert client.app[RUNTIME].generation.number == 1


async def test_an_unchanged_backend_keeps_its_adapter_and_its_open_breaker(
    client: TestClient, config_file: Path
) -> None:
    """Forcing the breaker open, then reloading a route change, leaves it open on the same adapter."""
    before = adapter(client)
    forced = await client.post(
        "/ops/breakers/mem", json={"state": "forced_open", "reason": "maintenance"}, headers=ADMIN
    )
    assert forced.status == 200
    rewrite(config_file, config(name_field="title"))

    status, _ = await reload(client)

    assert status == 200
    assert adapter(client) is before and before.closed is False
    breaker = await (await client.get("/ops/breakers/mem", headers=ADMIN)).json()
    assert breaker["state"] == "forced_open"
    assert (await client.get("/api/v1/things/1")).status == 503


async def test_a_changed_breaker_threshold_applies_without_losing_the_count(
    client: TestClient, config_file: Path
) -> None:
    """Lowering consecutive_failures to 2 after 2 failures opens the breaker on the next failure."""
    from adapters.errors import BackendUnavailable

    adapter(client).fail_with = BackendUnavailable("down", backend="mem", operation="get")
    for _ in range(2):
        assert (await client.get("/api/v1/things/1")).status in {502, 503, 504}
    rewrite(config_file, config(failures=3))
    assert (await reload(client))[0] == 200
    assert (await client.get("/api/v1/things/1")).status in {502, 503, 504}

    breaker = await (await client.get("/ops/breakers/mem", headers=ADMIN)).json()
    assert breaker["state"] == "open"


async def test_a_backend_moved_to_another_endpoint_gets_a_new_adapter_and_a_fresh_breaker(
    client: TestClient, config_file: Path
) -> None:
    """The old adapter closes once unused; the new one serves with a closed breaker."""
    old = adapter(client)
    await client.post("/ops/breakers/mem", json={"state": "forced_open"}, headers=ADMIN)
    rewrite(config_file, config(endpoint="http://127.0.0.1:3/"))

    status, outcome = await reload(client)

    assert status == 200 and outcome["changes"]["backends"]["changed"] == ["mem"]
    new = adapter(client)
    assert new is not old and new.started
    assert (await client.get("/api/v1/things/1")).status == 200
    breaker = await (await client.get("/ops/breakers/mem", headers=ADMIN)).json()
    assert breaker["state"] == "closed"
    await _settle(lambda: old.closed)


async def test_a_removed_backend_loses_its_routes_breaker_and_adapter(
    client: TestClient, config_file: Path
) -> None:
    """Dropping the `other` backend (and its route) takes all three away."""
    other = adapter(client, "other")
    text = config()
    text = text[: text.index("  other:")] + text[text.index("routes:") :]
    text = text[: text.index("  GET /api/v1/others")]
    rewrite(config_file, text)

    status, outcome = await reload(client)

    assert status == 200, outcome
    assert outcome["changes"]["backends"]["removed"] == ["other"]
    assert (await client.get("/api/v1/others/9")).status == 404
    names = [
        b["name"]
        for b in (await (await client.get("/ops/breakers", headers=ADMIN)).json())["breakers"]
    ]
    assert names == ["mem"]
    await _settle(lambda: other.closed)


async def test_a_request_in_flight_finishes_on_the_generation_it_started_on(
    client: TestClient, config_file: Path
) -> None:
    """A call held inside the old adapter completes on it; only then does that adapter close."""
    old = adapter(client)
    old.gate = asyncio.Event()
    pending = asyncio.ensure_future(client.get("/api/v1/things/1"))
    await _settle(lambda: len(old.calls) == 1)
    rewrite(config_file, config(endpoint="http://127.0.0.1:3/", name_field="title"))

    assert (await reload(client))[0] == 200
    assert (await (await client.get("/api/v1/things/2")).json()) == {"id": "2", "title": "two"}
    await asyncio.sleep(0)
    assert old.closed is False  # still serving the held request

    old.gate.set()
    response = await pending
    assert response.status == 200
    assert await response.json() == {"id": "1", "name": "one"}  # the old generation's mapping
    await _settle(lambda: old.closed)


UNCACHED_THING = """\
  GET /api/v1/things/{id}/elsewhere:
    backend: other
    operation: get
    request: {id: path.id}
"""


async def test_a_call_lane_read_in_flight_keeps_its_generation_until_it_ends(
    client: TestClient, config_file: Path
) -> None:
    """An uncached read the call lane serves (a kept-alive connection's second request) stays
    pinned to the generation it started on across a reload, and lets it go when it ends."""
    rewrite(config_file, config(extra_route=UNCACHED_THING))
    assert (await reload(client))[0] == 200
    lane, path = client.app[CALL_LANE], "/api/v1/things/9/elsewhere"
    assert (await client.get(path)).status == 200  # the route resolved
    other = adapter(client, "other")
    other.gate = asyncio.Event()
    before, answered = client.app[SERVING].current, lane.answered
    pending = asyncio.ensure_future(client.get(path))
    await _settle(lambda: len(other.calls) == 2)
    rewrite(config_file, config(extra_route=UNCACHED_THING, name_field="title"))

    assert (await reload(client))[0] == 200
    assert client.app[SERVING].current is not before
    assert before.in_flight == 1  # still serving the held read

    other.gate.set()
    response = await pending
    assert response.status == 200
    assert await response.json() == {"name": "nine"}
    assert lane.answered == answered + 1, "the held read was not the call lane's"
    assert before.in_flight == 0


async def test_a_revoked_api_key_is_refused_after_reload(
    client: TestClient, config_file: Path
) -> None:
    """Replacing the API key clients takes effect for the next request, even for a read the hit
    lane answered from the cache just before the reload."""
    from facade.security.apikeys import hash_api_key

    lane = client.app[HIT_LANE]
    for _ in range(2):  # the second read is a fresh hit: the lane answers it
        assert (await client.get("/api/v1/things/1")).status == 200
        await asyncio.sleep(0)  # the connection goes back to waiting for the next request
    assert lane.answered == 1
    other_hash = hash_api_key(OTHER_KEY, salt=b"reload-test-salt")
    replaced = config().replace(
        f'tester: {{hash: "{TEST_API_KEY_HASH}"', f'second: {{hash: "{other_hash}"'
    )
    rewrite(config_file, replaced)

    assert (await reload(client))[0] == 200

    assert (await client.get("/api/v1/things/1")).status == 401
    allowed = await client.get("/api/v1/things/1", headers={"X-API-Key": OTHER_KEY})
    assert allowed.status == 200


async def test_a_route_cached_by_a_reload_is_answered_by_the_hit_lane(
    client: TestClient, config_file: Path
) -> None:
    """The hit lane remembers that a path has no cached route only for the generation that
    said so: once a reload caches it, its fresh hits are the lane's."""
    lane = client.app[HIT_LANE]

    async def read_twice() -> None:
        for _ in range(2):
            assert (await client.get("/api/v1/things/1")).status == 200
            await asyncio.sleep(0)  # the connection goes back to waiting for the next request

    cache = "    cache: {ttl: 60s}\n"
    rewrite(config_file, config().replace(cache, ""))
    assert (await reload(client))[0] == 200
    await read_twice()
    assert lane.answered == 0  # not cached: the pipeline's, both times
    rewrite(config_file, config())
    assert (await reload(client))[0] == 200

    await read_twice()
    assert lane.answered == 1  # the second read, a fresh hit


async def test_a_changed_listener_is_reported_as_needing_a_restart(
    client: TestClient, config_file: Path
) -> None:
    """The port cannot move under a running server: the reload says so, and readiness too."""
    rewrite(config_file, config(port=9090))

    status, outcome = await reload(client)

    assert status == 200 and outcome["restart_required"] == ["listen"]
    ready = await (await client.get("/readyz")).json()
    assert ready["restart_required"] == ["listen"] and ready["generation"] == 2


async def test_reloading_needs_the_ops_admin_credential(client: TestClient) -> None:
    """Without a credential the reload is refused with 401 and nothing is reloaded."""
    response = await client.post("/ops/reload", json={})
    assert response.status == 401
    assert client.app[RUNTIME].generation.number == 1


async def test_a_reason_that_is_not_plain_text_refuses_the_reload(client: TestClient) -> None:
    """A reason with a NUL (which PostgreSQL's audit table cannot store) is a 400 naming it, and
    nothing is reloaded."""
    status, problem = await reload(client, reason="deploy\x00")
    assert status == 400
    assert [e["field"] for e in problem["errors"]] == ["body.reason"]
    assert client.app[RUNTIME].generation.number == 1


async def test_reloads_are_counted_audited_and_logged(
    client: TestClient, config_file: Path
) -> None:
    """One applied and one rejected reload show in the metric by result and in the audit trail."""
    assert (await reload(client, reason="first"))[0] == 200
    rewrite(config_file, "backends: 3\n")
    assert (await reload(client, reason="second"))[0] == 422

    text = await (await client.get("/metrics", headers=ADMIN)).text()
    counts = {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "veneer_config_reloads"
        for sample in family.samples
        if sample.name == "veneer_config_reloads_total"
    }
    assert counts == {"ok": 1.0, "rejected": 1.0}
    audit = (await (await client.get("/ops/audit", headers=ADMIN)).json())["audit"]
    actions = [(e["action"], e["reason"]) for e in audit if e["action"].startswith("config.")]
    assert sorted(actions) == [("config.reload", "first"), ("config.reload_rejected", "second")]


def digest_of(path: Path) -> str:
    """What a worker tells the others of the file it applied: the SHA-256 of its bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class StandInSupervisor:
    """Stands in for the link to a supervisor: records the digests it was asked to pass on."""

    def __init__(self, reachable: bool = True) -> None:
        self.reachable = reachable
        self.digests: list[str] = []

    def __call__(self, digest: str) -> bool:
        self.digests.append(digest)
        return self.reachable


@pytest.mark.parametrize(
    ("reachable", "answer"), [(True, "asked"), (False, "unreachable"), (None, "none")]
)
async def test_an_applied_reload_says_what_it_asked_of_the_other_workers(
    client: TestClient, config_file: Path, reachable: bool | None, answer: str
) -> None:
    """Under a supervisor the others are asked, with the file's digest (or could not be); alone, "none"."""
    link = None if reachable is None else StandInSupervisor(reachable)
    client.app[RELOADER].ask_other_workers = link

    status, outcome = await reload(client)

    digest = digest_of(config_file)
    assert status == 200 and outcome["other_workers"] == answer and outcome["digest"] == digest
    assert link is None or link.digests == [digest]


async def test_a_rejected_reload_is_not_passed_on_to_the_other_workers(
    client: TestClient, config_file: Path
) -> None:
    """An invalid file changes nothing here, so nothing is asked of the other workers."""
    others = StandInSupervisor()
    client.app[RELOADER].ask_other_workers = others
    rewrite(config_file, "backends: 3\n")

    status, problem = await reload(client)

    assert status == 422 and "other_workers" not in problem
    assert others.digests == []


async def test_a_reload_passed_on_goes_no_further_when_this_worker_read_the_same_file(
    client: TestClient, config_file: Path
) -> None:
    """The digest it was told is the digest it read: every worker is on that file, nobody is asked."""
    others = StandInSupervisor()
    client.app[RELOADER].ask_other_workers = others
    told = digest_of(config_file)

    outcome = await client.app[RELOADER].reload(actor="worker:1", propagate=True, passed_on=told)

    assert outcome.applied and outcome.digest == told and outcome.other_workers is None
    assert others.digests == []


async def test_a_reload_passed_on_is_passed_on_again_when_the_file_changed_since(
    client: TestClient, config_file: Path
) -> None:
    """The file was edited after the first worker read it: this one read the newer bytes, and
    asks for them to reach every other worker, the first one included."""
    others = StandInSupervisor()
    client.app[RELOADER].ask_other_workers = others
    told = digest_of(config_file)
    rewrite(config_file, config(name_field="title", extra_route=EXTRA_ROUTE))
    newer = digest_of(config_file)

    outcome = await client.app[RELOADER].reload(actor="worker:1", propagate=True, passed_on=told)

    assert outcome.applied and outcome.other_workers == "asked"
    assert others.digests == [newer] != [told]


async def test_readiness_names_the_version_of_the_file_in_service(
    client: TestClient, config_file: Path
) -> None:
    """/readyz gives the digest of the file the generation in service was read from."""
    rewrite(config_file, config(name_field="title", extra_route=EXTRA_ROUTE))
    await reload(client)

    ready = await (await client.get("/readyz")).json()

    assert ready["config_digest"] == digest_of(config_file)


async def _settle(condition: Callable[[], bool], within_s: float = 2.0) -> None:
    """Let the event loop run background work (a retirement) until ``condition`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)
