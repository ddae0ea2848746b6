"""``python -m rnnkit`` runs the command line."""

from rnnkit.cli import main

main()
