"""Thin HTTP handlers, one module per resource: unpack the request, call the rules, shape the answer."""
