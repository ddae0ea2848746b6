"""CRF speed alone (issue 5, §6): forward algorithm (loss + backward), Viterbi and 5-best at
B=32, T=50, K=17 on CPU, one thread, against a naive reference that loops over sentences.

Run: ``nice -n 10 python benchmarks/crf_speed.py [--repeat 50] [--clock cpu]``; prints one JSON
object (``--clock cpu`` times this process's CPU seconds: a fairer figure on a loaded machine).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import torch

from rnnkit.nn.crf import CRF


def _time(fn: Callable[[], object], repeat: int, clock: Callable[[], float]) -> float:
    """Median seconds of ``fn`` over ``repeat`` runs (after 3 warm-ups)."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeat):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--tags", type=int, default=17)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument(
        "--clock", choices=["wall", "cpu"], default="wall", help="cpu: this process's CPU time"
    )
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(1)
    torch.manual_seed(0)
    b, t, k = args.batch, args.length, args.tags
    crf = CRF(k)
    emissions = torch.randn(b, t, k, requires_grad=True)
    tags = torch.randint(0, k, (b, t))
    lengths = torch.randint(t // 2, t + 1, (b,))
    lengths[0] = t
    mask = torch.arange(t)[None] < lengths[:, None]

    def loss_backward() -> None:
        crf(emissions, tags, mask).backward()

    def per_sentence_viterbi() -> None:  # the loop the batched version avoids
        for i in range(b):
            n = int(lengths[i])
            crf.decode(emissions[i : i + 1, :n].detach())

    tokens = int(lengths.sum())
    result = {
        "shape": {"B": b, "T": t, "K": k, "tokens": tokens},
        "threads": torch.get_num_threads(),
        "clock": args.clock,
        "torch": torch.__version__,
    }
    for name, fn in (
        ("forward_ms", lambda: crf(emissions, tags, mask).detach()),
        ("forward_backward_ms", loss_backward),
        ("viterbi_ms", lambda: crf.decode(emissions.detach(), mask)),
        ("nbest5_ms", lambda: crf.nbest(emissions.detach(), 5, mask)),
        ("viterbi_per_sentence_loop_ms", per_sentence_viterbi),
    ):
        seconds = _time(fn, args.repeat, clock)
        result[name] = round(1000 * seconds, 3)
        result[name.replace("_ms", "_tokens_per_s")] = round(tokens / seconds)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
