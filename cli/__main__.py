"""`python -m braid.cli ...` runs the `braid` command."""

from braid.cli.entry import run

run()
