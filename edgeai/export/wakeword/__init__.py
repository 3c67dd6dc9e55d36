"""Train an openWakeWord head for any phrase, offline, from synthetic speech."""
