"""edgeai: a private, offline voice and vision assistant for small computers."""

__version__ = "0.1.0"
