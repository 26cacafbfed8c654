"""bookingkit's stateful mock of the Wingfield Partner API, driven by openapi.yaml."""
