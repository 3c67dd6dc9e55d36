"""The `edgeai` command line."""
