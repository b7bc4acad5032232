"""The `veneer` command line, run as a real process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

VENEER = [sys.executable, "-m", "facade.cli"]
BAD_CONFIG = """\
listen:
  port: eighty
backends:
  erp: {kind: sope, endpoint: "http://127.0.0.1:1/x"}
routes:
  GET /api/v1/x: {backend: nope, operation: X}
"""


def run(
    *args: str, cwd: Path | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VENEER, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[str], deadline: float = 20) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"process exited early ({process.returncode}): {out}\n{err}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"nothing listened on {port} within {deadline}s")


@contextmanager
def running(*args: str, cwd: Path | None = None) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [*VENEER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return json.loads(reply.read())


@pytest.mark.parametrize("command", ["serve", "demo", "sandbox", "check-config", "config-schema"])
def test_every_command_has_help(command: str) -> None:
    """Each subcommand answers --help with a usage line and exits 0."""
    result = run(command, "--help")
    assert result.returncode == 0
    assert f"usage: veneer {command}" in result.stdout


def test_check_config_accepts_the_default(repo_root: Path) -> None:
    """check-config on the embedded default says ok with the counts and exits 0."""
    result = run("check-config", "config/gateway.yaml", cwd=repo_root)
    assert result.returncode == 0, result.stderr
    assert "ok (3 backends, 17 routes)" in result.stdout


def test_check_config_lists_every_error_and_exits_nonzero(tmp_path: Path) -> None:
    """check-config prints each problem with file, line and dotted path, and exits 2."""
    config = tmp_path / "bad.yaml"
    config.write_text(BAD_CONFIG)
    result = run("check-config", str(config))
    assert result.returncode == 2
    assert "3 configuration errors" in result.stderr
    assert f"{config}:2:9: listen.port: wrong type" in result.stderr
    assert "backends.erp.kind: unknown adapter kind (did you mean 'soap'?)" in result.stderr
    assert 'routes."GET /api/v1/x".backend: unknown backend' in result.stderr


def test_config_schema_prints_json_schema() -> None:
    """config-schema prints a JSON Schema document an editor can load."""
    result = run("config-schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert "routes" in schema["properties"]


def test_serve_refuses_an_invalid_config_before_opening_a_port(tmp_path: Path) -> None:
    """serve on a bad config exits 2 with the errors, and never listens on its port."""
    port = free_port()
    config = tmp_path / "bad.yaml"
    config.write_text(BAD_CONFIG.replace("port: eighty", f"port: {port}"))
    with running("serve", "--config", str(config)) as process:
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            with socket.socket() as sock:
                assert sock.connect_ex(("127.0.0.1", port)) != 0, (
                    "a port opened on an invalid config"
                )
            time.sleep(0.02)
        assert process.returncode == 2
        assert "configuration error" in process.stderr.read()  # type: ignore[union-attr]


def test_serve_answers_healthz_and_stops_on_sigterm(repo_root: Path) -> None:
    """serve on a valid config answers /healthz, logs JSON lines, and exits 0 on SIGTERM."""
    port = free_port()
    with running(
        "serve", "--config", "config/gateway.yaml", "--port", str(port), cwd=repo_root
    ) as process:
        wait_for_port(port, process)
        health = get_json(f"http://127.0.0.1:{port}/healthz")
        assert health == {"status": "ok", "uptime_s": pytest.approx(health["uptime_s"])}  # type: ignore[index]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        first_log = process.stderr.readline()  # type: ignore[union-attr]
        assert json.loads(first_log)["event"] == "gateway listening"
        assert json.loads(first_log)["loop"] == "uvloop"  # listen.loop: auto, uvloop installed


def test_serve_runs_on_asyncios_loop_when_the_config_says_so(tmp_path: Path) -> None:
    """listen.loop: asyncio serves on asyncio's own loop, and its log line says which loop runs."""
    port = free_port()
    config = tmp_path / "asyncio.yaml"
    config.write_text(
        f"version: 1\nlisten: {{port: {port}, loop: asyncio}}\nstore: {{data_dir: d}}\n"
    )
    with running("serve", "--config", str(config)) as process:
        listening = json.loads(process.stderr.readline())  # type: ignore[union-attr]
        assert (listening["event"], listening["loop"]) == ("gateway listening", "asyncio")
        wait_for_port(port, process)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_sandbox_runs_and_takes_faults_from_the_cli() -> None:
    """`veneer sandbox` serves all three systems and `veneer sandbox fault` steers them live."""
    ports = {name: free_port() for name in ("erp", "crm", "wms", "control")}
    args = [f"--{name}-port={port}" for name, port in ports.items()]
    control = f"http://127.0.0.1:{ports['control']}"
    with running("sandbox", *args) as process:
        for port in ports.values():
            wait_for_port(port, process)
        result = run("sandbox", "fault", "erp", "down", "--control", control)
        assert result.returncode == 0, result.stderr
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", ports["erp"])) != 0, "ERP still accepts while down"
        status = json.loads(run("sandbox", "status", "--control", control).stdout)
        assert status["erp"]["mode"] == "down" and status["crm"]["mode"] == "none"
        bad = run("sandbox", "fault", "crm", "drop_session", "--control", control)
        assert bad.returncode == 1 and "no sessions" in bad.stderr
        assert run("sandbox", "fault", "erp", "reset", "--control", control).returncode == 0
        wait_for_port(ports["erp"], process)


def _ports_free(*ports: int) -> bool:
    for port in ports:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return False
    return True


def test_demo_brings_everything_up_and_prints_the_urls(repo_root: Path) -> None:
    """`veneer demo` (what `make run` runs) starts everything, printing each URL and working credentials."""
    default_ports = (8080, 8081, 8069, 28192, 8090)
    assert _ports_free(*default_ports), (
        f"the demo's ports {default_ports} are taken by another process"
    )
    with running("demo", "--config", "config/gateway.yaml", cwd=repo_root) as process:
        for port in default_ports:
            wait_for_port(port, process)
        banner = ""
        while "Fault control API" not in banner:
            banner += process.stdout.readline()  # type: ignore[union-attr]
        for url in (
            "http://127.0.0.1:8080/healthz",
            "http://127.0.0.1:8081/WS/CRONUS/Page/SalesOrder?wsdl",
            "http://127.0.0.1:8069/xmlrpc/2",
            "tcp://127.0.0.1:28192",
            "http://127.0.0.1:8090/faults",
        ):
            assert url in banner
        assert get_json("http://127.0.0.1:8080/healthz")["status"] == "ok"  # type: ignore[index]
        with urllib.request.urlopen(
            "http://127.0.0.1:8081/WS/CRONUS/Page/SalesOrder?wsdl"
        ) as reply:
            assert b"ReadMultiple" in reply.read()
        while "export API_KEY=" not in banner:
            banner += process.stdout.readline()  # type: ignore[union-attr]
        _demo_credentials_work(banner)


def _demo_credentials_work(banner: str) -> None:
    """The printed TOKEN reads an order, the printed API_KEY a customer; nothing reads without."""
    exports = dict(
        line.strip().removeprefix("export ").split("=", 1)
        for line in banner.splitlines()
        if line.strip().startswith("export ")
    )
    order = "http://127.0.0.1:8080/api/v1/orders/SO-100001"
    bearer = {"Authorization": f"Bearer {exports['TOKEN']}"}
    with urllib.request.urlopen(urllib.request.Request(order, headers=bearer)) as reply:
        assert json.loads(reply.read())["no"] == "SO-100001"
    customer = urllib.request.Request(
        "http://127.0.0.1:8080/api/v1/customers/7", headers={"X-API-Key": exports["API_KEY"]}
    )
    with urllib.request.urlopen(customer) as reply:
        assert reply.status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(order)
    assert refused.value.code == 401


def test_serve_with_two_workers_shares_one_port(repo_root: Path, tmp_path: Path) -> None:
    """`serve --workers 2` runs two gateway processes on one port, and both answer."""
    port = free_port()
    env_store = f"sqlite:///{tmp_path / 'veneer.db'}"
    process = subprocess.Popen(
        [
            *VENEER,
            "serve",
            "--config",
            "config/gateway.yaml",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        cwd=repo_root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "VENEER_STORE_URL": env_store},
    )
    try:
        wait_for_port(port, process)
        pids = set()
        deadline = time.monotonic() + 20
        while len(pids) < 2 and time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
                assert json.loads(reply.read())["status"] == "ok"
            pids |= _listening_pids(port)
            time.sleep(0.1)
        assert len(pids) == 2, f"expected two worker processes on :{port}, saw {pids}"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def _listening_pids(port: int) -> set[int]:
    """Processes with a listening socket on ``port`` (read from /proc, no extra tools)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            pids.add(int(proc.name))
    return pids
