"""``rnnkit serve`` on the command line: options reach the app, the warning when exposed
without a token, errors for bad model specs (uvicorn itself is replaced)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from rnnkit.cli import main
from rnnkit.cli.serve import is_loopback


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


def test_real_server_answers_and_exits_0_on_sigterm(run_dirs: dict[str, Path]) -> None:
    """``rnnkit serve`` in a process of its own on a free loopback port."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [sys.executable, "-m", "rnnkit", "serve", str(run_dirs["clf"]), "--port", str(port)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        response = httpx.post(f"{url}/v1/models/clf/predict", json={"texts": ["good"]})
        assert response.status_code == 200 and response.json()["results"][0]["label"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
