"""Journeys (flat touch arrays + offsets) and path tables, built once from validated events."""
