"""Thin, checked wrappers around the native inference engines."""
