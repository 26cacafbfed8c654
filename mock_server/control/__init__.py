"""The mock's control plane: the admin API, its clock, state snapshots, faults and the request journal."""
