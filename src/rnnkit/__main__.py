"""``python -m rnnkit`` runs the command line (also as ``torchrun … -m rnnkit train TASK …``)."""

import os
import sys

from rnnkit.cli import main

if int(os.environ.get("RANK", "0")) > 0:
    # the other ranks of a data-parallel run: rank 0 prints the results (errors stay on stderr)
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
main()
