"""``python -m provenance`` runs the CLI."""

from .cli import run

run()
