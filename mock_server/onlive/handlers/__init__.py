"""Thin HTTP handlers for ONLIVE.SITE, one module per resource."""
