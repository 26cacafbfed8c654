"""The Wingfield rules in plain Python (no HTTP, no storage details), one module per area; rule ids in docstrings."""
