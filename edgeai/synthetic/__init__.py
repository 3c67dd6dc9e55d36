"""Synthetic speech and noise: training data, dev sets and benchmark clips made offline."""
