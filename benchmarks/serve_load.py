"""``rnnkit serve`` under load (issue 17): a bounded load test on loopback only.

Starts ``rnnkit serve clf=RUN_DIR`` processes on free loopback ports, with micro-batching on
(``--batched``, default ``--max-batch 32 --max-wait-ms 0``) and off (``--max-batch 1``); for
each level of concurrent clients (``--levels``, default 1, 8, 32, 64) client tasks, each on a
keep-alive connection of its own (a minimal HTTP/1.1 client on asyncio streams, see
:func:`load`), send predict requests of one text each for ``--seconds`` to one server, then to
the next, ``--reps`` times, the order reversed on every other repetition (so a drift in the
machine's load lands on every side); every level stops by itself, and the servers are stopped
with SIGTERM at the end. Reports per measurement requests/s, p50/p95/p99 latency, errors (non-200
answers, bodies without one result and broken connections), the mean latency the app itself
measured and the mean batch it ran (both from its /metrics; the app's latency leaves out time in
the kernel's and uvicorn's queues), the CPU the server process and this client process used
(percent of one core, all threads), and the server's resident memory before and after; then
per level the ratios of each batched side against off over all repetitions.

The clients run in this process, on the same machine as the server: on a small machine they take
CPU from it (about a tenth of a core at 3,000 requests/s; the httpx clients used before took
half a core at 700), so the numbers are a lower bound of what the server does alone.

Run (one torch thread in each server)::

    OMP_NUM_THREADS=1 python benchmarks/serve_load.py runs/classify/rotten-tomatoes/rnn-seed0 \\
        --levels 1,32,64 --seconds 30

Prints two Markdown tables (and writes the rows as JSON with ``--json PATH``).
"""

from __future__ import annotations

import argparse
import asyncio
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
# what a broken connection or a garbled answer raises while reading it (IncompleteReadError is
# an EOFError; a bad status or length an int() ValueError)
BROKEN = (OSError, ValueError, EOFError, asyncio.LimitOverrunError)


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


def request_bytes(port: int, text: str) -> bytes:
    """The whole HTTP/1.1 keep-alive request predicting ``text`` (one text), encoded once."""
    body = json.dumps({"texts": [text]}).encode()
    head = (
        f"POST /v1/models/{MODEL}/predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 response from ``reader``: its status, its body (by ``Content-Length``) and
    whether the server keeps the connection open. A response without ``Content-Length`` (this
    client never asks for a streamed one) is a :class:`ConnectionError`."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].split(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    length, keep = -1, True
    for line in header_lines:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
    if length < 0:
        raise ConnectionError(f"HTTP {status} answer without Content-Length")
    return status, await reader.readexactly(length), keep


def valid_answer(body: bytes, texts: int) -> bool:
    """Whether a 200 body is JSON with a ``results`` list of ``texts`` items."""
    try:
        results = json.loads(body).get("results")
    except (ValueError, AttributeError):
        return False
    return isinstance(results, list) and len(results) == texts


async def load(url: str, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` tasks each sending one request at a time until ``seconds`` have passed, each
    over a keep-alive connection of its own, opened before the clock starts.

    The client is a minimal HTTP/1.1 one on asyncio streams (each request's bytes made once, the
    answer read by its ``Content-Length``), not httpx: on a small machine the load generator
    shares the cores with the server, and httpx's per-request work took about as much CPU as
    the server itself. An answer counts when its status is 200 and its body is JSON with one
    result; any other status, a body that is not, and a broken connection (reopened for the
    next request) count as errors."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    requests = [request_bytes(int(port), text) for text in TEXTS]
    latencies: list[float] = []
    errors = 0

    async def client(
        k: int, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None, stop_at: float
    ) -> None:
        nonlocal errors
        i = k
        try:
            while time.monotonic() < stop_at:
                request = requests[i % len(requests)]
                i += 1
                start = time.perf_counter()
                ok = keep = False
                try:
                    if conn is None:
                        conn = await asyncio.open_connection(host, int(port))
                    conn[1].write(request)
                    status, body, keep = await read_response(conn[0])
                    ok = status == 200 and valid_answer(body, 1)
                except (
                    OSError,
                    ValueError,
                    asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError,
                ):
                    pass
                if ok:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors += 1
                if not keep and conn is not None:
                    conn[1].close()
                    conn = None
        finally:
            if conn is not None:
                conn[1].close()

    conns = [await asyncio.open_connection(host, int(port)) for _ in range(clients)]
    start = time.monotonic()
    stop_at = start + seconds
    tasks = [client(k, conn, stop_at) for k, conn in enumerate(conns)]
    await asyncio.wait_for(asyncio.gather(*tasks), seconds + 60)
    elapsed = time.monotonic() - start
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure(
    proc: subprocess.Popen[bytes], url: str, max_batch: int, clients: int, seconds: float
) -> dict[str, Any]:
    """One level of load against one server: the row of the table (latencies kept under
    ``"latencies"`` for the ratios)."""
    rss_start = rss_mib(proc.pid)
    before = metric_totals(url)
    server0, client0, wall0 = cpu_seconds(proc.pid), time.process_time(), time.monotonic()
    got = asyncio.run(load(url, clients, seconds))
    server1, client1, wall1 = cpu_seconds(proc.pid), time.process_time(), time.monotonic()
    after = metric_totals(url)
    done = {key: after[key] - before[key] for key in after}
    lat = got["latencies"]
    return {
        "max_batch": max_batch,
        "clients": clients,
        "requests": len(lat),
        "elapsed": got["elapsed"],
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
        "latencies": lat,
    }


Side = tuple[int, float]  # a server's --max-batch and --max-wait-ms
OFF: Side = (1, 0.0)


def run(
    run_dir: str, sides: list[Side], levels: list[int], seconds: float, threads: int, reps: int
) -> list[dict[str, Any]]:
    """A server per side, all started at once (micro-batching off is ``--max-batch 1``),
    measured in turn at each level, ``reps`` times, the order of the sides reversed on every
    other repetition."""
    servers = {side: start_server(run_dir, *side, threads) for side in sides}
    rows: list[dict[str, Any]] = []
    try:
        for _, url in servers.values():
            for _ in range(3):  # warm-up: the first requests pay for lazy initialisation
                httpx.post(f"{url}/v1/models/{MODEL}/predict", json={"texts": TEXTS}, timeout=30)
        for clients in levels:
            for rep in range(reps):
                for side in sides if rep % 2 == 0 else sides[::-1]:
                    proc, url = servers[side]
                    row = measure(proc, url, side[0], clients, seconds)
                    row["max_wait_ms"], row["rep"] = side[1], rep
                    rows.append(row)
                    shown = {k: v for k, v in row.items() if k != "latencies"}
                    print(json.dumps(shown), file=sys.stderr, flush=True)
    finally:
        for side, (proc, _) in servers.items():
            code = stop_server(proc)
            print(f"server {side} exited with {code}", file=sys.stderr)
    return rows


def _pooled(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Requests/s, p50 and p95 (ms) and errors over several measurements."""
    lat = [x for r in rows for x in r["latencies"]]
    return {
        "rps": len(lat) / sum(r["elapsed"] for r in rows),
        "p50": 1000 * percentile(lat, 50),
        "p95": 1000 * percentile(lat, 95),
        "errors": sum(r["errors"] for r in rows),
    }


def ratios(rows: list[dict[str, Any]]) -> str:
    """Per level and batched side, against micro-batching off over all repetitions:
    requests/s (on / off) and p50, p95 latency (off / on: above 1 means on answers faster)."""
    lines = [
        "| clients | micro-batching | requests/s on / off | requests/s on/off "
        "| p50 ms on / off | p50 off/on | p95 ms on / off | p95 off/on | errors on / off |",
        "|---:|---|---|---:|---|---:|---|---:|---|",
    ]
    sides = sorted({(r["max_batch"], r["max_wait_ms"]) for r in rows} - {OFF})
    for clients in sorted({r["clients"] for r in rows}):
        level = [r for r in rows if r["clients"] == clients]
        off = _pooled([r for r in level if (r["max_batch"], r["max_wait_ms"]) == OFF])
        for side in sides:
            on = _pooled([r for r in level if (r["max_batch"], r["max_wait_ms"]) == side])
            lines.append(
                f"| {clients} | `--max-batch {side[0]} --max-wait-ms {side[1]:g}` "
                f"| {on['rps']:.1f} / {off['rps']:.1f} | {on['rps'] / off['rps']:.2f} "
                f"| {on['p50']:.1f} / {off['p50']:.1f} | {off['p50'] / on['p50']:.2f} "
                f"| {on['p95']:.1f} / {off['p95']:.1f} | {off['p95'] / on['p95']:.2f} "
                f"| {on['errors']} / {off['errors']} |"
            )
    return "\n".join(lines)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| micro-batching | clients | rep | requests | requests/s | p50 ms | p95 ms | p99 ms "
        "| errors "
        "| app mean ms | mean batch | server CPU % | client CPU % | server RSS start → end (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        mode = (
            f"on (`--max-batch {r['max_batch']} --max-wait-ms {r['max_wait_ms']:g}`)"
            if r["max_batch"] > 1
            else "off (`--max-batch 1`)"
        )
        lines.append(
            f"| {mode} | {r['clients']} | {r['rep']} | {r['requests']} | {r['rps']:.1f} "
            f"| {r['p50_ms']:.1f} "
            f"| {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | {r['server_mean_ms']:.1f} "
            f"| {r['mean_batch']:.2f} "
            f"| {r['server_cpu_pct']:.0f} | {r['client_cpu_pct']:.0f} "
            f"| {r['rss_start_mib']:.0f} → {r['rss_end_mib']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("run_dir", help="a trained classifier's run directory")
    parser.add_argument("--seconds", type=float, default=30.0, help="per level and side")
    parser.add_argument("--levels", default="1,8,32,64", help="concurrent clients, comma-separated")
    parser.add_argument("--reps", type=int, default=2, help="measurements per level and side")
    parser.add_argument(
        "--batched",
        default="32:0",
        help="the micro-batching servers to compare with --max-batch 1, each "
        "MAX_BATCH:MAX_WAIT_MS, comma-separated",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the server")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if not (Path(args.run_dir) / "config.json").is_file():
        parser.error(f"{args.run_dir} is not a run directory (no config.json)")
    levels = [int(x) for x in args.levels.split(",")]
    sides: list[Side] = [
        (int(b), float(w)) for b, w in (x.split(":") for x in args.batched.split(","))
    ]
    rows = run(args.run_dir, [*sides, OFF], levels, args.seconds, args.threads, args.reps)
    print(table(rows))
    print()
    print(ratios(rows))
    if args.json:
        shown = [{k: v for k, v in r.items() if k != "latencies"} for r in rows]
        args.json.write_text(json.dumps(shown, indent=1) + "\n")


if __name__ == "__main__":
    main()
