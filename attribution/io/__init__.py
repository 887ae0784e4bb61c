"""Reading and writing: sources, column mapping and validation, timestamps, spend, channel grouping, exports."""
