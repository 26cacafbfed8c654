"""bookingkit's stateful mock of the Wingfield Partner API and ONLIVE.SITE, driven by openapi.yaml.

PYTEST_DONT_REWRITE: `bookingkit test` imports this before pytest starts; nothing here asserts for pytest.
"""
