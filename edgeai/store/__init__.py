"""The model store: verified model files on local disk, fetched from the catalog's sources."""

from edgeai.store.store import ModelStatus, ModelStore, PullResult

__all__ = ["ModelStatus", "ModelStore", "PullResult"]
