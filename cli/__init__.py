"""The command line (installed as ``attribution.cli``): a thin typer app, one module per command."""
