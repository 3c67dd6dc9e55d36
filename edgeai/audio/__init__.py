"""Audio at the edge: sources and sinks. Inside the runtime audio is 16 kHz mono int16."""

SAMPLE_RATE_HZ = 16000
"""The one rate every stage after a source works at."""
