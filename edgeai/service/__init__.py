"""`edgeai run`: the loops composed into one long-running, supervised system service."""
