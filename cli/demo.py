"""``attribution demo``: attribute the bundled sample event log with every model and print the comparison."""

from __future__ import annotations

from typing import Optional

import typer

from .app import app


@app.command("demo")
def demo_command(
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Also write the comparison table here."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary on stderr."),
) -> None:
    """Attribute the bundled sample event log with every available model and print the comparison."""
    from attribution.datasets import sample_events_path
    from attribution.models import available_models

    from .run import run_command

    run_command(events=[sample_events_path()], model=available_models(), lookback_days="30", conversion_event=None,
                column=None, input="events", separator=" > ", on_bad_rows="error", output=output, format=None,
                quiet=quiet)
