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

import typer

try:  # typer ≥ 0.24 carries its own copy of click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - older typer on click ≥ 8.2
    from click.exceptions import (  # type: ignore[assignment]
        ClickException,
        NoArgsIsHelpError,
        UsageError,
    )

from rnnkit.cli.common import app, interrupt_message
from rnnkit.errors import RnnkitError

__all__ = ["app", "main"]

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


_LOG_HANDLER = "rnnkit-cli"


def _show_info_logs() -> None:
    """Print the library's INFO messages (vector coverage, skipped lines, what --init-from
    loaded) on stderr, so that stdout keeps only the command's output (tables, JSON)."""
    log = logging.getLogger("rnnkit")
    ours = next((h for h in log.handlers if h.get_name() == _LOG_HANDLER), None)
    if ours is None and not log.handlers:
        ours = logging.StreamHandler(sys.stderr)
        ours.set_name(_LOG_HANDLER)
        ours.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(ours)
    if isinstance(ours, logging.StreamHandler):
        # main() called again (tests) may find another sys.stderr; not setStream, which
        # flushes the old one, maybe closed by now
        ours.stream = sys.stderr
    if log.level == logging.NOTSET or log.level > logging.INFO:
        log.setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``rnnkit`` script: user errors (bad input, and bad options, missing
    arguments or unknown commands, which click would print as a framed box) become one line,
    ``rnnkit: error: …``, and exit status 2; Ctrl-C exits with status 130 and says how to
    continue."""
    _show_info_logs()
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        code = app(args=args, prog_name="rnnkit", standalone_mode=False)
    except RnnkitError as err:
        print(f"rnnkit: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    except NoArgsIsHelpError as err:  # a bare group: its help, as click does
        print(err.ctx.get_help() if err.ctx is not None else err.format_message())
        raise SystemExit(2) from None
    except UsageError as err:
        path = err.ctx.command_path if err.ctx is not None else "rnnkit"
        message = " ".join(err.format_message().split())
        print(f"rnnkit: error: {path}: {message} (see {path} -h)", file=sys.stderr)
        raise SystemExit(2) from None
    except ClickException as err:
        print(f"rnnkit: error: {' '.join(err.format_message().split())}", file=sys.stderr)
        raise SystemExit(2) from None
    except (KeyboardInterrupt, typer.Abort):
        code = 130
    if code == 130:  # Typer turns Ctrl-C into a silent exit with status 130
        print(interrupt_message(args), file=sys.stderr)
    raise SystemExit(code if isinstance(code, int) else 0)
