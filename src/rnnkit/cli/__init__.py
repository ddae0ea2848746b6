"""The ``rnnkit`` command line (docs/design.md §6).

Each command parses its options and calls one typed library function; no logic lives here.
Errors caused by the user's input (:class:`rnnkit.errors.RnnkitError`) print as one line on
stderr and exit with status 2. Heavy modules (torch, scikit-learn) are imported inside the
commands so that ``rnnkit --help`` stays fast.

Every module of this package adds its commands to the apps of :mod:`rnnkit.cli.common`; they are
all imported here, so a new task's commands need only a new module.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from rnnkit.cli.common import app, interrupt_message
from rnnkit.errors import RnnkitError

__all__ = ["app", "main"]

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def _show_info_logs() -> None:
    """Print the library's INFO messages (vector coverage, skipped lines, what --init-from
    loaded) on stderr, so that stdout keeps only the command's output (tables, JSON)."""
    log = logging.getLogger("rnnkit")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    if log.level == logging.NOTSET or log.level > logging.INFO:
        log.setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``rnnkit`` script: user errors become one line and exit status 2;
    Ctrl-C exits with status 130 and says how to continue."""
    _show_info_logs()
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        app(args=args, prog_name="rnnkit")
    except RnnkitError as err:
        print(f"rnnkit: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print(interrupt_message(args), file=sys.stderr)
        raise SystemExit(130) from None
    except SystemExit as exit_:
        # Typer turns Ctrl-C into a silent exit with status 130
        if exit_.code == 130:
            print(interrupt_message(args), file=sys.stderr)
        raise
