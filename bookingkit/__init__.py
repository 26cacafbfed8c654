"""Protocol code shared by the mock, the contract suite and the command line.

PYTEST_DONT_REWRITE: `bookingkit test` imports this before pytest starts; nothing here asserts for pytest.
"""
