"""How fast is ``rnnkit.nn.RNN``: fused dispatch vs raw ``torch.nn``, and the explicit loop?

Tokens per second (``B·T`` per pass) for training (forward + backward of a sum of the outputs)
and inference (forward under ``torch.inference_mode``), for ``elman``, ``lstm`` and ``gru``, uni-
and bidirectional, one layer, at (B=32, T=50, I=100, H=128) and (B=64, T=100, I=300, H=256),
three ways: raw ``torch.nn.RNN/LSTM/GRU``, ``RNN(impl="auto")`` (fused) and ``RNN(impl="loop")``.
Also the loop with ``recurrent_dropout`` (which forces it) and ``gru-cho``. Variants are timed
interleaved, after warm-up, and the best of ``--repeat`` passes is reported. On CPU it also
reports the LSTM's achieved GFLOP/s (its matmuls: ``2·B·T·4H·(I+H)`` per direction forward,
three times that for training) against a 2048² matmul measured in the same run.

    python benchmarks/rnn_speed.py            # prints the report
    python benchmarks/rnn_speed.py --write    # also updates benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rnnkit.fileio import write_text
from rnnkit.nn import RNN

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## RNN speed"
SIZES = {"small": (32, 50, 100, 128), "large": (64, 100, 300, 256)}
MODES = ("elman", "lstm", "gru")
VARIANTS = ("torch", "auto", "loop")
TORCH_MODULES: dict[str, Callable[..., nn.Module]] = {
    "elman": nn.RNN,
    "lstm": nn.LSTM,
    "gru": nn.GRU,
}


@dataclass(frozen=True)
class Case:
    """One timed configuration."""

    size: str
    mode: str
    bidirectional: bool
    variant: str  # torch | auto | loop | loop+rd

    def build(self, device: torch.device) -> nn.Module:
        _, _, i, h = SIZES[self.size]
        if self.variant == "torch":
            module = TORCH_MODULES[self.mode](
                i, h, batch_first=True, bidirectional=self.bidirectional
            )
        else:
            impl = "auto" if self.variant == "auto" else "loop"
            dropout = 0.25 if self.variant == "loop+rd" else 0.0
            module = RNN(
                self.mode, i, h, 1, self.bidirectional, impl=impl, recurrent_dropout=dropout
            )
        return module.to(device)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


def one_pass(module: nn.Module, x: torch.Tensor, train: bool) -> float:
    """Seconds for one training step (forward + backward) or one inference forward."""
    if x.is_cuda:
        torch.cuda.synchronize()
    start = clock()
    if train:
        out, _ = module(x)
        torch.autograd.backward(out.sum())
    else:
        with torch.inference_mode():
            module(x)
    if x.is_cuda:
        torch.cuda.synchronize()
    return clock() - start


def measure(
    cases: Sequence[Case], train: bool, repeat: int, warmup: int, device: torch.device
) -> dict[Case, float]:
    """Best (least) seconds per pass of each case; the cases of a group are interleaved.

    The least time, not the median: on a shared machine the noise only ever adds time.
    """
    times: dict[Case, list[float]] = {case: [] for case in cases}
    modules = {case: case.build(device) for case in cases}
    b, t, i, _ = SIZES[cases[0].size]
    x = torch.randn(b, t, i, device=device, requires_grad=train)
    for case in cases:
        modules[case].train(train)
        for _ in range(warmup):
            one_pass(modules[case], x, train)
    for r in range(repeat):
        shift = r % len(cases)
        for case in [*cases[shift:], *cases[:shift]]:
            for p in modules[case].parameters():
                p.grad = None
            times[case].append(one_pass(modules[case], x, train))
    return {case: min(ts) for case, ts in times.items()}


def matmul_gflops(n: int, repeat: int, device: torch.device) -> float:
    """GFLOP/s of an ``n×n`` float32 matmul, best of ``repeat``."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    torch.mm(a, b)
    ts = []
    for _ in range(repeat):
        if a.is_cuda:
            torch.cuda.synchronize()
        start = clock()
        torch.mm(a, b)
        if a.is_cuda:
            torch.cuda.synchronize()
        ts.append(clock() - start)
    return 2 * n**3 / min(ts) / 1e9


def call_overhead(repeat: int, device: torch.device) -> list[str]:
    """Microseconds per call on a tiny input (B=4, T=5, I=H=16), where the per-call work of
    the Python wrappers shows: raw ``torch.nn.LSTM`` vs ``RNN("lstm")``."""
    x = torch.randn(4, 5, 16, device=device)
    modules = {
        "torch.nn.LSTM": nn.LSTM(16, 16, batch_first=True).to(device),
        'RNN("lstm", impl="auto")': RNN("lstm", 16, 16).to(device),
    }
    best: dict[str, float] = {name: float("inf") for name in modules}
    calls = 200
    with torch.inference_mode():
        for _ in range(repeat):
            for name, module in modules.items():
                start = clock()
                for _ in range(calls):
                    module(x)
                best[name] = min(best[name], (clock() - start) / calls)
    lines = ["", "| per call, B=4, T=5, I=H=16, inference | µs |", "|---|---:|"]
    lines += [f"| {name} | {sec * 1e6:.1f} |" for name, sec in best.items()]
    return lines


def paired_dispatch(
    sizes: Sequence[str], pairs: int, warmup: int, device: torch.device
) -> dict[tuple[str, bool, bool], list[float]]:
    """Time ratios ``auto / torch.nn.LSTM`` of back-to-back passes (order alternating), per
    size, direction and phase: pairing cancels the slow drifts of a shared machine."""
    ratios: dict[tuple[str, bool, bool], list[float]] = {}
    for size in sizes:
        for bi in (False, True):
            for train in (True, False):
                cases = [Case(size, "lstm", bi, "torch"), Case(size, "lstm", bi, "auto")]
                modules = [case.build(device) for case in cases]
                b, t, i, _ = SIZES[size]
                x = torch.randn(b, t, i, device=device, requires_grad=train)
                for module in modules:
                    module.train(train)
                    for _ in range(warmup):
                        one_pass(module, x, train)
                found = []
                for k in range(pairs):
                    sec = [0.0, 0.0]
                    for j in (k % 2, 1 - k % 2):
                        for p in modules[j].parameters():
                            p.grad = None
                        sec[j] = one_pass(modules[j], x, train)
                    found.append(sec[1] / sec[0])
                ratios[(size, bi, train)] = found
    return ratios


def dispatch_table(ratios: dict[tuple[str, bool, bool], list[float]]) -> list[str]:
    lines = [
        "",
        'Dispatch overhead, paired: time of `RNN("lstm")` (fused) / time of `torch.nn.LSTM` '
        "in back-to-back passes on the same input.",
        "",
        "| B, T, I, H | D | phase | pairs | median ratio | quartiles |",
        "|---|---|---|---:|---:|---|",
    ]
    for (size, bi, train), found in ratios.items():
        q1, median, q3 = statistics.quantiles(found, n=4)
        lines.append(
            f"| {', '.join(map(str, SIZES[size]))} | {2 if bi else 1} "
            f"| {'train' if train else 'infer'} | {len(found)} | {median:.3f} "
            f"| {q1:.3f}–{q3:.3f} |"
        )
    return lines


def lstm_gflop(size: str, bidirectional: bool, train: bool) -> float:
    """Matmul GFLOP of one pass of a one-layer LSTM."""
    b, t, i, h = SIZES[size]
    forward = 2 * b * t * 4 * h * (i + h) * (2 if bidirectional else 1)
    return forward * (3 if train else 1) / 1e9


def run(args: argparse.Namespace, device: torch.device) -> dict[tuple[Case, bool], float]:
    """Seconds per pass for every case and phase."""
    results: dict[tuple[Case, bool], float] = {}
    for size in args.sizes:
        for mode in MODES:
            for bidirectional in (False, True):
                variants = list(VARIANTS)
                if mode == "lstm" and not bidirectional:
                    variants.append("loop+rd")
                cases = [Case(size, mode, bidirectional, v) for v in variants]
                for train in (True, False):
                    for case, sec in measure(
                        cases, train, args.repeat, args.warmup, device
                    ).items():
                        results[(case, train)] = sec
                    print(f"  measured {size} {mode} bi={bidirectional} train={train}", flush=True)
        cho = [Case(size, "gru-cho", False, "loop")]
        results[(cho[0], True)] = measure(cho, True, args.repeat, args.warmup, device)[cho[0]]
    return results


def rate(results: dict[tuple[Case, bool], float], case: Case, train: bool) -> float:
    b, t, _, _ = SIZES[case.size]
    return b * t / results[(case, train)]


def speed_table(results: dict[tuple[Case, bool], float], sizes: Sequence[str]) -> list[str]:
    lines = [
        "| B, T, I, H | mode | D | phase | torch.nn tok/s | auto tok/s | loop tok/s "
        "| auto / torch | loop time / fused |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        for mode in MODES:
            for bi in (False, True):
                for train in (True, False):
                    r = {v: rate(results, Case(size, mode, bi, v), train) for v in VARIANTS}
                    lines.append(
                        f"| {', '.join(map(str, SIZES[size]))} | {mode} | {2 if bi else 1} "
                        f"| {'train' if train else 'infer'} | {r['torch']:,.0f} | {r['auto']:,.0f} "
                        f"| {r['loop']:,.0f} | {r['auto'] / r['torch']:.3f} "
                        f"| {r['auto'] / r['loop']:.2f}× |"
                    )
    return lines


def extras(results: dict[tuple[Case, bool], float], sizes: Sequence[str]) -> list[str]:
    lines = ["", "| B, T, I, H | explicit-only option (train, D=1) | tok/s | time vs fused |"]
    lines.append("|---|---|---:|---:|")
    for size in sizes:
        dims = ", ".join(map(str, SIZES[size]))
        rd = Case(size, "lstm", False, "loop+rd")
        fused = rate(results, Case(size, "lstm", False, "auto"), True)
        lines.append(
            f"| {dims} | lstm, recurrent_dropout=0.25 | {rate(results, rd, True):,.0f} "
            f"| {fused / rate(results, rd, True):.2f}× |"
        )
        cho = Case(size, "gru-cho", False, "loop")
        gru = rate(results, Case(size, "gru", False, "auto"), True)
        lines.append(
            f"| {dims} | gru-cho | {rate(results, cho, True):,.0f} "
            f"| {gru / rate(results, cho, True):.2f}× (vs fused gru) |"
        )
    return lines


def gflops_table(
    results: dict[tuple[Case, bool], float], sizes: Sequence[str], peak: float
) -> list[str]:
    lines = [
        "",
        f"LSTM matmul throughput; a 2048² float32 matmul ran at {peak:.1f} GFLOP/s in this run "
        "(the better of one measurement before and one after the table).",
        "",
        "| B, T, I, H | D | phase | torch.nn GFLOP/s | auto GFLOP/s | loop GFLOP/s "
        "| auto / matmul |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for size in sizes:
        for bi in (False, True):
            for train in (True, False):
                work = lstm_gflop(size, bi, train)
                g = {v: work / results[(Case(size, "lstm", bi, v), train)] for v in VARIANTS}
                lines.append(
                    f"| {', '.join(map(str, SIZES[size]))} | {2 if bi else 1} "
                    f"| {'train' if train else 'infer'} | {g['torch']:.1f} | {g['auto']:.1f} "
                    f"| {g['loop']:.1f} | {g['auto'] / peak:.0%} |"
                )
    return lines


def verdicts(
    results: dict[tuple[Case, bool], float],
    sizes: Sequence[str],
    ratios: dict[tuple[str, bool, bool], list[float]],
) -> list[str]:
    worst = max(statistics.median(found) for found in ratios.values())
    lines = [
        "",
        f'- Target 1, `impl="auto"` within 5% of raw `torch.nn.LSTM`: worst paired median '
        f"time ratio {worst:.3f} → {'met' if worst <= 1.05 else 'NOT met'}.",
    ]
    if "large" in sizes:
        slow = {
            (m, bi): rate(results, Case("large", m, bi, "auto"), True)
            / rate(results, Case("large", m, bi, "loop"), True)
            for m in MODES
            for bi in (False, True)
        }
        worst = max(slow.values())
        detail = ", ".join(f"{m} D={2 if bi else 1} {v:.2f}×" for (m, bi), v in slow.items())
        lines.append(
            f"- Target 2, explicit loop within 2.5× of fused for training at H=256: {detail} "
            f"→ {'met' if worst <= 2.5 else 'NOT met'}."
        )
    return lines


def report(args: argparse.Namespace) -> str:
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    peaks = [matmul_gflops(2048, args.repeat, device)]
    results = run(args, device)
    peaks.append(matmul_gflops(2048, args.repeat, device))
    peak = max(peaks)
    command = " ".join(["python benchmarks/rnn_speed.py", *sys.argv[1:]])
    lines = [
        SECTION,
        "",
        f"- date: {datetime.date.today().isoformat()}; command: `{command}`",
        f"- machine: {args.device}, {cpu_model()}; process pinned to {args.threads} core(s), "
        f"{args.threads} intra-op thread(s); "
        f"torch {torch.__version__}",
        f"- data: random float32 inputs; one layer; best of {args.repeat} interleaved passes "
        f"after {args.warmup} warm-up pass(es); tokens/s = B·T / seconds per pass, "
        f"timed by the {args.clock} clock",
        "- caveat: on a shared machine single passes swing by tens of percent between runs (and "
        "the cpu clock still counts a core shared with a hyper-thread sibling); target 1 is "
        "judged on paired back-to-back ratios, not on the table",
        "",
        *speed_table(results, args.sizes),
        *extras(results, args.sizes),
        *call_overhead(args.repeat * 4, device),
    ]
    if device.type == "cpu":
        lines += gflops_table(results, args.sizes, peak)
    ratios = paired_dispatch(args.sizes, args.pairs, args.warmup, device)
    lines += dispatch_table(ratios)
    lines += verdicts(results, args.sizes, ratios)
    return "\n".join(lines) + "\n"


def update_results(section: str, path: Path = RESULTS) -> None:
    """Replace (or append) this benchmark's section of RESULTS.md, atomically."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    write_text(path, text.rstrip("\n") + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    linux = hasattr(os, "sched_getaffinity")
    cores = len(os.sched_getaffinity(0)) if linux else os.cpu_count() or 1
    parser.add_argument("--threads", type=int, default=cores, help=f"default: {cores}")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes per case")
    parser.add_argument("--warmup", type=int, default=2, help="untimed passes per case")
    parser.add_argument("--pairs", type=int, default=15, help="paired passes, LSTM dispatch")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument(
        "--clock",
        choices=list(CLOCKS),
        default="wall",
        help="wall: elapsed time; cpu: the process's CPU time, which leaves out the time other "
        "processes hold the core (for one thread on a shared machine)",
    )
    parser.add_argument("--write", action="store_true", help=f"update {RESULTS.name}")
    args = parser.parse_args(argv)
    if args.clock == "cpu" and (args.threads != 1 or args.device != "cpu"):
        parser.error("--clock cpu measures one CPU thread: use it with --threads 1 on cpu")
    global clock
    clock = CLOCKS[args.clock]
    if args.threads < 1 or args.threads > cores:
        parser.error(f"--threads must be in 1..{cores}")
    if linux:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.threads])
    section = report(args)
    print(section)
    if args.write:
        update_results(section)


if __name__ == "__main__":
    main()
