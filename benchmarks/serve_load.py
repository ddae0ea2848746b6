"""``rnnkit serve`` under load (issue 17): a bounded load test on loopback only.

Starts ``rnnkit serve clf=RUN_DIR`` in a process of its own on a free loopback port, once with
micro-batching on (``--max-batch 32``) and once off (``--max-batch 1``); for 1, 8 and 32
concurrent clients (and 64 with ``--full``) httpx ``AsyncClient`` tasks send predict requests of
one text each for ``--seconds`` (each level stops by itself), then the server is stopped with
SIGTERM. Reports requests/s, p50/p95/p99 latency, errors (non-200 answers and transport
failures), the mean latency the app itself measured and the mean batch it ran (both from its
/metrics; the app's latency leaves out time in the kernel's and uvicorn's queues), the CPU the
server process and this client process used (percent of one core, all threads), and the
server's resident memory before and after each level.

The clients run in this process, on the same machine as the server: on a small machine they take
CPU from it, so the numbers are a lower bound of what the server does alone.

Run (one torch thread in the server)::

    OMP_NUM_THREADS=1 python benchmarks/serve_load.py runs/classify/rotten-tomatoes/rnn-seed0 \\
        --seconds 10

Prints a Markdown table (and writes it as JSON with ``--json PATH``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

TEXTS = [
    "A gripping, beautifully acted film that stays with you.",
    "Dull, overlong and completely forgettable.",
    "The plot is thin but the performances carry it.",
    "one of the worst movies i have seen this year",
    "Charming and funny, if a little slight.",
    "It never decides what it wants to be.",
    "A small masterpiece of tension and restraint.",
    "the jokes fall flat and the ending drags",
]
MODEL = "clf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (psutil if installed, else /proc)."""
    try:
        psutil: Any = importlib.import_module("psutil")  # optional, and without type stubs
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for process {pid}") from None
    rss: int = psutil.Process(pid).memory_info().rss
    return rss / 2**20


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (all its threads; NaN off Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric_totals(url: str) -> dict[str, float]:
    """The server's totals so far, from its Prometheus metrics: texts and batches run, and the
    summed seconds and count of predict requests as the app timed them."""
    predict = '{endpoint="/v1/models/{name}/predict"}'
    wanted = {
        "texts": "rnnkit_serve_batch_size_sum{",
        "batches": "rnnkit_serve_batch_size_count{",
        "seconds": "rnnkit_serve_request_duration_seconds_sum" + predict,
        "requests": "rnnkit_serve_request_duration_seconds_count" + predict,
    }
    totals = dict.fromkeys(wanted, 0.0)
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        for key, prefix in wanted.items():
            if line.startswith(prefix):
                totals[key] += float(line.rsplit(" ", 1)[1])
    return totals


def start_server(
    run_dir: str, max_batch: int, max_wait_ms: float, threads: int
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    argv = [sys.executable, "-m", "rnnkit", "serve", f"{MODEL}={run_dir}", "--port", str(port)]
    argv += ["--max-batch", str(max_batch), "--max-wait-ms", str(max_wait_ms)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"rnnkit serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError("rnnkit serve not ready within 120 s")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


async def load(url: str, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` tasks each sending one request at a time until ``seconds`` have passed; each
    task has an ``AsyncClient`` (one keep-alive connection) of its own, made before the clock
    starts, since one client's pool shared by many tasks costs this process more CPU per request
    as the tasks grow."""
    latencies: list[float] = []
    errors = 0
    endpoint = f"{url}/v1/models/{MODEL}/predict"

    async def client(k: int, http: httpx.AsyncClient, stop_at: float) -> None:
        nonlocal errors
        i = k
        while time.monotonic() < stop_at:
            body = {"texts": [TEXTS[i % len(TEXTS)]]}
            i += 1
            start = time.perf_counter()
            try:
                response = await http.post(endpoint, json=body)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - start)
            else:
                errors += 1

    async with contextlib.AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(httpx.AsyncClient(timeout=30)) for _ in range(clients)
        ]
        start = time.monotonic()
        stop_at = start + seconds
        tasks = [client(k, http, stop_at) for k, http in enumerate(https)]
        await asyncio.wait_for(asyncio.gather(*tasks), seconds + 60)
        elapsed = time.monotonic() - start
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def run(
    run_dir: str,
    max_batch: int,
    max_wait_ms: float,
    levels: list[int],
    seconds: float,
    threads: int,
) -> list[dict[str, Any]]:
    proc, url = start_server(run_dir, max_batch, max_wait_ms, threads)
    rows: list[dict[str, Any]] = []
    try:
        for _ in range(3):  # warm-up: the first requests pay for lazy initialisation
            httpx.post(f"{url}/v1/models/{MODEL}/predict", json={"texts": TEXTS}, timeout=30)
        for clients in levels:
            rss_start = rss_mib(proc.pid)
            before = metric_totals(url)
            server0, client0, wall0 = cpu_seconds(proc.pid), time.process_time(), time.monotonic()
            got = asyncio.run(load(url, clients, seconds))
            server1, client1, wall1 = cpu_seconds(proc.pid), time.process_time(), time.monotonic()
            after = metric_totals(url)
            done = {key: after[key] - before[key] for key in after}
            lat = got["latencies"]
            row = {
                "max_batch": max_batch,
                "max_wait_ms": max_wait_ms,
                "clients": clients,
                "requests": len(lat),
                "rps": len(lat) / got["elapsed"],
                "p50_ms": 1000 * percentile(lat, 50),
                "p95_ms": 1000 * percentile(lat, 95),
                "p99_ms": 1000 * percentile(lat, 99),
                "mean_ms": 1000 * statistics.fmean(lat) if lat else float("nan"),
                "errors": got["errors"],
                "server_mean_ms": 1000 * done["seconds"] / max(1.0, done["requests"]),
                "mean_batch": done["texts"] / max(1.0, done["batches"]),
                "server_cpu_pct": 100 * (server1 - server0) / (wall1 - wall0),
                "client_cpu_pct": 100 * (client1 - client0) / (wall1 - wall0),
                "rss_start_mib": rss_start,
                "rss_end_mib": rss_mib(proc.pid),
            }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        code = stop_server(proc)
    print(f"server (--max-batch {max_batch}) exited with {code}", file=sys.stderr)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| micro-batching | clients | requests | requests/s | p50 ms | p95 ms | p99 ms | errors "
        "| app mean ms | mean batch | server CPU % | client CPU % | server RSS start → end (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        mode = (
            f"on (`--max-batch {r['max_batch']} --max-wait-ms {r['max_wait_ms']:g}`)"
            if r["max_batch"] > 1
            else "off (`--max-batch 1`)"
        )
        lines.append(
            f"| {mode} | {r['clients']} | {r['requests']} | {r['rps']:.1f} | {r['p50_ms']:.1f} "
            f"| {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | {r['server_mean_ms']:.1f} "
            f"| {r['mean_batch']:.2f} "
            f"| {r['server_cpu_pct']:.0f} | {r['client_cpu_pct']:.0f} "
            f"| {r['rss_start_mib']:.0f} → {r['rss_end_mib']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("run_dir", help="a trained classifier's run directory")
    parser.add_argument("--seconds", type=float, default=30.0, help="per concurrency level")
    parser.add_argument("--full", action="store_true", help="also 64 concurrent clients")
    parser.add_argument(
        "--max-wait-ms", type=float, default=5.0, help="the server's batch wait (its default: 5)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the server")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if not (Path(args.run_dir) / "config.json").is_file():
        parser.error(f"{args.run_dir} is not a run directory (no config.json)")
    levels = [1, 8, 32, 64] if args.full else [1, 8, 32]
    rows: list[dict[str, Any]] = []
    for max_batch in (32, 1):
        rows += run(args.run_dir, max_batch, args.max_wait_ms, levels, args.seconds, args.threads)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
