"""The ONLIVE.SITE rules (O1-O7) in plain Python, one module per resource."""
