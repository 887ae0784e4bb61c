"""``python -m attribution`` runs the command line."""

from attribution.cli.app import main

if __name__ == "__main__":  # pragma: no cover
    main()
