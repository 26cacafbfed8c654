"""The rules of the Wingfield court area, in plain Python: no HTTP, no storage details."""
