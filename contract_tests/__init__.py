"""The contract suite: talks HTTP only, to whatever implementation a target profile describes."""
