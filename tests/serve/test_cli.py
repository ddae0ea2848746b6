"""``rnnkit serve`` on the command line: options reach the app, the warning when exposed
without a token, errors for bad model specs (uvicorn itself replaced); then real server
processes: SIGTERM drains an in-flight request and exits 0, ``--workers 2`` shares one port and
sums its metrics."""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from rnnkit.cli import main
from rnnkit.cli.serve import is_loopback
from tests.serve.conftest import start_server, stop_server


def serve(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run ``rnnkit serve argv`` and return what it passed to ``uvicorn.run``."""
    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    with pytest.raises(SystemExit) as exc:
        main(["serve", *argv])
    seen["code"] = exc.value.code
    return seen


def test_defaults_bind_loopback_without_warning(
    run_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = serve([str(run_dirs["clf"]), f"tagger={run_dirs['pos']}"], monkeypatch)
    assert seen["code"] in (0, None)
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8000
    err = capsys.readouterr().err
    assert "warning" not in err and "serving tagger (tag)" in err
    with TestClient(seen["app"]) as client:
        names = [m["name"] for m in client.get("/v1/models").json()["models"]]
        assert names == ["clf", "tagger"]


def test_exposed_without_token_warns_and_limits_apply(
    run_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(run_dirs["clf"]), "--host", "0.0.0.0", "--port", "9001", "--max-texts", "1"]
    seen = serve(argv, monkeypatch)
    assert seen["host"] == "0.0.0.0" and seen["port"] == 9001
    assert "without --token" in capsys.readouterr().err
    with TestClient(seen["app"]) as client:
        body = {"texts": ["a", "b"]}
        assert client.post("/v1/models/clf/predict", json=body).status_code == 422
    serve([*argv, "--token", "t"], monkeypatch)
    assert "warning" not in capsys.readouterr().err
    monkeypatch.setenv("RNNKIT_SERVE_TOKEN", "t")
    seen = serve(argv, monkeypatch)
    assert "warning" not in capsys.readouterr().err
    with TestClient(seen["app"]) as client:
        assert client.get("/v1/models").status_code == 401


def test_bad_specs_are_user_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve([str(tmp_path / "missing")], monkeypatch)["code"] == 2
    assert "not a run directory" in capsys.readouterr().err
    assert serve(["bad name!=x"], monkeypatch)["code"] == 2
    assert "model name" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_sigterm_drains_an_in_flight_request_and_exits_0(
    run_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """A request whose body is still arriving when SIGTERM comes is answered, then the server
    exits 0."""
    proc, url = start_server([str(run_dirs["clf"])], log=tmp_path / "serve.log")
    try:
        host, port = url.removeprefix("http://").split(":")
        body = json.dumps({"texts": ["a good film"]}).encode()
        head = (
            f"POST /v1/models/clf/predict HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection((host, int(port)), timeout=20) as conn:
            conn.sendall(head + body[:5])
            time.sleep(0.5)  # the request is in flight
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert proc.poll() is None  # still draining
            conn.sendall(body[5:])
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                answer += chunk
        status, _, rest = answer.partition(b"\r\n")
        assert status == b"HTTP/1.1 200 OK", answer
        assert json.loads(rest.partition(b"\r\n\r\n")[2])["results"][0]["label"]
        assert proc.wait(timeout=20) == 0
    finally:
        stop_server(proc)
    assert "Finished server process" in (tmp_path / "serve.log").read_text()


def test_workers_share_the_port_and_sum_their_metrics(
    run_dirs: dict[str, Path], tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    proc, url = start_server([str(run_dirs["clf"]), "--workers", "2"], log=log, timeout=120)
    try:
        workers = _children(proc.pid, "spawn_main")
        assert len(workers) == 2, workers  # two spawned workers under uvicorn's supervisor
        n = 12
        for i in range(n):  # a new connection each: the kernel hands them to either worker
            response = httpx.post(f"{url}/v1/models/clf/predict", json={"texts": [f"good {i}"]})
            assert response.status_code == 200
        metrics = httpx.get(f"{url}/metrics").text
        predicted = re.search(
            r'rnnkit_serve_requests_total\{endpoint="/v1/models/\{name\}/predict",'
            r'method="POST",status="200"\} (\S+)',
            metrics,
        )
        assert predicted is not None, metrics
        assert float(predicted.group(1)) == n  # every worker's count, summed
        assert "rnnkit_serve_models 1.0" in metrics
        assert stop_server(proc, timeout=60) == 0
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]  # none left
    finally:
        stop_server(proc)
    assert log.read_text().count("Finished server process") == 2


def _children(pid: int, command: str) -> list[int]:
    """The processes whose parent is ``pid`` and whose command line holds ``command`` (Linux
    /proc; multiprocessing's resource tracker is a child too)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and command.encode() in cmdline:
            out.append(int(stat.parent.name))
    return out
