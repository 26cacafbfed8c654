"""The ONLIVE.SITE booking-service API: its models, rules, handlers, store and signature gate."""
