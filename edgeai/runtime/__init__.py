"""The composition root: everything edgeai runs, built from the config and the device profile
in one place (context, models, compose, assistant), and the supervisor that watches it run."""
