"""`serve --workers 2` as real processes: reloads, forcings, restarts and the supervisor's death.

The kernel hands each connection to one worker (SO_REUSEPORT), so an ops request reaches one of
them, and SIGHUP may be sent to any process; the others must learn of it through the supervisor
or the store. Workers are told apart by the ``pid`` in ``/readyz``, over fresh connections
(urllib opens one per request), until each has answered; every wait is a bounded poll with
short timeouts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.chaos.processes import ManagedProcess, free_port

OPS_TOKEN = "workers-reload-admin-token"
WITHIN_S = 20.0


def config(*, items: bool) -> str:
    """One SOAP backend (its WSDL loads from disk, no backend is contacted); ``items`` adds one."""
    text = textwrap.dedent("""
        listen: {host: 127.0.0.1}
        logging: {format: json}
        ops:
          admin_token: ${OPS_TOKEN}
        backends:
          erp:
            kind: soap
            endpoint: http://127.0.0.1:1/WS/CRONUS/Page
            options: {services: {SalesOrder: wsdl/nav-salesorder.wsdl}}
    """)
    if items:
        text += textwrap.indent(
            textwrap.dedent("""
                items:
                  kind: soap
                  endpoint: http://127.0.0.1:1/WS/CRONUS/Page
                  options: {services: {Item: wsdl/nav-item.wsdl}}
            """),
            "  ",
        )
    return text


@pytest.fixture
def config_file(tmp_path: Path, repo_root: Path) -> Path:
    shutil.copytree(repo_root / "config" / "wsdl", tmp_path / "wsdl")
    path = tmp_path / "gateway.yaml"
    path.write_text(config(items=False))
    return path


@pytest.fixture
def gateway(config_file: Path, tmp_path: Path) -> Iterator[tuple[ManagedProcess, int]]:
    port = free_port()
    supervisor = ManagedProcess.start(
        "gateway",
        ["serve", "--config", str(config_file), "--port", str(port), "--workers", "2"],
        log_dir=tmp_path,
        env={"OPS_TOKEN": OPS_TOKEN},
    )
    try:
        supervisor.wait_until_serving(f"http://127.0.0.1:{port}/healthz")
        yield supervisor, port
    finally:
        supervisor.stop()
        print(supervisor.log_tail(60))  # pytest shows it for a failing test only


def log_events(process: ManagedProcess, event: str) -> list[dict[str, Any]]:
    """The JSON log lines of ``event`` so far (a line still being written is skipped)."""
    found = []
    for line in process.log_path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == event:
            found.append(record)
    return found


def readiness(port: int) -> dict[str, Any]:
    """/readyz over a new connection (so the kernel may pick either worker)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as reply:
        answer: dict[str, Any] = json.loads(reply.read())
        return answer


def until(condition: Callable[[], bool], what: str, process: ManagedProcess) -> None:
    deadline = time.monotonic() + WITHIN_S
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {WITHIN_S}s:\n{process.log_tail()}"
        time.sleep(0.02)


def until_every_worker(
    port: int, workers: set[int], serves: Callable[[dict[str, Any]], bool], what: str
) -> dict[int, dict[str, Any]]:
    """Poll /readyz until each worker's latest answer satisfies ``serves``; their answers."""
    latest: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + WITHIN_S
    while not (set(latest) == workers and all(serves(a) for a in latest.values())):
        assert time.monotonic() < deadline, f"{what} not within {WITHIN_S}s: {latest}"
        answer = readiness(port)
        assert answer["pid"] in workers, f"{answer['pid']} is not one of the workers {workers}"
        latest[answer["pid"]] = answer
        time.sleep(0.01)  # poll, do not flood: the machine may be busy with other work
    return latest


def post_reload(port: int) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/ops/reload",
        data=b'{"reason": "items backend"}',
        headers={"Authorization": f"Bearer {OPS_TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status, json.loads(reply.read())


def serving_workers(supervisor: ManagedProcess, port: int) -> set[int]:
    """The pids of the two workers, once both serve the first configuration."""
    until(lambda: bool(log_events(supervisor, "workers started")), "workers started", supervisor)
    workers = set(log_events(supervisor, "workers started")[0]["pids"])
    assert len(workers) == 2
    until_every_worker(port, workers, lambda a: a["backends"] == ["erp"], "both workers serving")
    return workers


def the_pass_on(supervisor: ManagedProcess) -> dict[str, Any]:
    """The supervisor's one "reload passed on" line, once a second one has had time to come."""
    event = "reload passed on to the other workers"
    until(lambda: bool(log_events(supervisor, event)), "the supervisor passing it on", supervisor)
    time.sleep(0.5)  # room for a second pass-on, which must not come
    [passed_on] = log_events(supervisor, event)
    return passed_on


def test_one_ops_reload_reaches_every_worker(
    gateway: tuple[ManagedProcess, int], config_file: Path
) -> None:
    """After one POST /ops/reload, each of the two workers serves the new backend at generation 2."""
    supervisor, port = gateway
    workers = serving_workers(supervisor, port)

    config_file.write_text(config(items=True))
    status, outcome = post_reload(port)

    assert status == 200, outcome
    assert outcome["result"] == "applied" and outcome["generation"] == 2
    assert outcome["changes"]["backends"]["added"] == ["items"]
    assert outcome["other_workers"] == "asked"
    latest = until_every_worker(
        port, workers, lambda a: a["backends"] == ["erp", "items"], "the reload on every worker"
    )
    assert {pid: a["generation"] for pid, a in latest.items()} == dict.fromkeys(workers, 2)
    passed_on = the_pass_on(supervisor)
    assert passed_on["requested_by"] in workers
    assert passed_on["pids"] == sorted(workers - {passed_on["requested_by"]})


@pytest.mark.parametrize("signalled", ["one worker", "the supervisor"])
def test_sighup_to_any_process_reloads_every_worker_once(
    gateway: tuple[ManagedProcess, int], config_file: Path, signalled: str
) -> None:
    """SIGHUP to one worker, or to the supervisor, leaves both workers at generation 2 on the
    new file's digest, passed on once (not a reload per signal received)."""
    supervisor, port = gateway
    workers = serving_workers(supervisor, port)

    config_file.write_text(config(items=True))
    digest = hashlib.sha256(config_file.read_bytes()).hexdigest()
    os.kill(min(workers) if signalled == "one worker" else supervisor.pid, signal.SIGHUP)

    latest = until_every_worker(
        port,
        workers,
        lambda a: a["config_digest"] == digest and a["backends"] == ["erp", "items"],
        "the reload on every worker",
    )
    assert {pid: a["generation"] for pid, a in latest.items()} == dict.fromkeys(workers, 2)
    passed_on = the_pass_on(supervisor)
    assert passed_on["digest"] == digest[:12]
    if signalled == "one worker":
        assert passed_on["requested_by"] == min(workers)


def test_a_worker_restarted_on_an_edited_file_brings_the_others_along(
    gateway: tuple[ManagedProcess, int], config_file: Path
) -> None:
    """The file is edited but not reloaded, then a worker dies: its replacement serves the new
    file, and the surviving worker reloads to match instead of staying on the old one."""
    supervisor, port = gateway
    workers = serving_workers(supervisor, port)

    config_file.write_text(config(items=True))
    digest = hashlib.sha256(config_file.read_bytes()).hexdigest()
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    until(lambda: bool(log_events(supervisor, "worker restarted")), "the restart", supervisor)
    [restarted] = log_events(supervisor, "worker restarted")
    assert restarted["replaces"] == victim
    now = (workers - {victim}) | {restarted["pid"]}

    latest = until_every_worker(
        port,
        now,
        lambda a: a["config_digest"] == digest and a["backends"] == ["erp", "items"],
        "both workers on the edited file",
    )
    survivor = next(iter(workers - {victim}))
    assert latest[survivor]["generation"] == 2  # it reloaded; the new worker started on it
    assert latest[restarted["pid"]]["generation"] == 1


def gone(pid: int) -> bool:
    """The process has exited (reaped, or a zombie its new parent has not reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_workers_stop_when_their_supervisor_is_killed(
    gateway: tuple[ManagedProcess, int],
) -> None:
    """kill -9 of the supervisor leaves no orphan holding the port: each worker sees its inbox
    close, says so, and stops."""
    supervisor, port = gateway
    workers = serving_workers(supervisor, port)

    supervisor.process.kill()
    supervisor.process.wait(timeout=5)

    until(lambda: all(gone(pid) for pid in workers), "both workers stopping", supervisor)
    stopped = log_events(supervisor, "the supervisor is gone: this worker stops")
    assert len(stopped) == 2


def post_force(port: int, state: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/ops/breakers/erp",
        data=json.dumps({"state": state, "reason": "ERP maintenance"}).encode(),
        headers={"Authorization": f"Bearer {OPS_TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        answer: dict[str, Any] = json.loads(reply.read())
        return answer


def erp_by_worker(port: int) -> dict[str, str]:
    """The ERP breaker's state in each worker, as /ops/breakers lists it (a new connection)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/ops/breakers", headers={"Authorization": f"Bearer {OPS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=2) as reply:
        listed = json.loads(reply.read())["breakers"]
    return dict(next(b for b in listed if b["name"] == "erp")["workers"])


def erp_on_dashboard(port: int) -> dict[str, str]:
    """The ERP breaker's state in each worker, from the first picture of the dashboard's feed."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/ops/events", headers={"Authorization": f"Bearer {OPS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=2) as stream:
        while not (line := stream.readline()).startswith(b"data: "):
            pass
    picture = json.loads(line.removeprefix(b"data: "))
    erp = next(b for b in picture["backends"] if b["name"] == "erp")
    return dict(next(b for b in erp["breakers"] if b["name"] == "erp")["workers"])


def test_a_breaker_forced_on_one_worker_is_forced_on_every_worker(
    gateway: tuple[ManagedProcess, int],
) -> None:
    """POST /ops/breakers/erp reaches one worker; within moments both hold the ERP forced open,
    and the hand-back to auto reaches both too."""
    supervisor, port = gateway
    workers = serving_workers(supervisor, port)

    forced = post_force(port, "forced_open")

    assert forced["state"] == "forced_open" and forced["shared"] is True
    until_every_worker(port, workers, lambda a: a["degraded_backends"] == ["erp"], "both forced")
    until(  # and /ops/breakers, and the dashboard's feed, asked of either, say so per worker slot
        lambda: (
            erp_by_worker(port) == {"0": "forced_open", "1": "forced_open"}
            and erp_on_dashboard(port) == {"0": "forced_open", "1": "forced_open"}
        ),
        "both workers' states listed",
        supervisor,
    )
    assert post_force(port, "auto")["shared"] is True
    until_every_worker(port, workers, lambda a: a["degraded_backends"] == [], "both automatic")


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """/metrics over a new connection (the kernel picks the worker), as series → value."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {OPS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=2) as reply:
        text = reply.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def requests_counted(found: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
    return sum(v for (name, _), v in found.items() if name == "veneer_http_requests_total")


def breaker_workers(found: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> list[str]:
    return sorted(
        dict(labels)["worker"] for (name, labels) in found if name == "veneer_breaker_state"
    )


def test_every_scrape_counts_what_all_workers_served_and_a_replaced_worker_keeps_its_count(
    gateway: tuple[ManagedProcess, int],
) -> None:
    """Thirty requests spread over both workers: every scrape, whichever worker answers it,
    counts thirty, before and after one worker is stopped and replaced, with one breaker
    series per live worker slot."""
    supervisor, port = gateway
    workers = serving_workers(supervisor, port)
    for _ in range(30):  # a new connection each: the kernel spreads them over the workers
        with contextlib.suppress(urllib.error.HTTPError):  # 404: counted all the same
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/none", timeout=2).close()

    # Each worker's file is up to a second behind it: wait until both have caught up.
    until(
        lambda: all(requests_counted(scrape(port)) == 30 for _ in range(8)),
        "the workers' counts added",
        supervisor,
    )
    scrapes = [scrape(port) for _ in range(8)]
    assert [requests_counted(found) for found in scrapes] == [30] * 8
    assert all(breaker_workers(found) == ["0", "1"] for found in scrapes)

    victim = min(workers)
    os.kill(victim, signal.SIGTERM)  # a stopping worker writes its numbers a last time
    until(lambda: bool(log_events(supervisor, "worker restarted")), "the restart", supervisor)
    [restarted] = log_events(supervisor, "worker restarted")
    now = (workers - {victim}) | {restarted["pid"]}
    until_every_worker(port, now, lambda a: a["backends"] == ["erp"], "the replacement serving")

    scrapes = [scrape(port) for _ in range(8)]
    assert [requests_counted(found) for found in scrapes] == [30] * 8
    assert all(breaker_workers(found) == ["0", "1"] for found in scrapes)
