"""The ground-truth simulator, evaluation against truth, and the bundled datasets."""
