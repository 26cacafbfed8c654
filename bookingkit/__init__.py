"""Protocol code shared by the mock, the contract suite and the command line."""
