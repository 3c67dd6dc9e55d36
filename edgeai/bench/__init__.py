"""Benchmarks: measured side by side on this machine, written as JSON and markdown."""
