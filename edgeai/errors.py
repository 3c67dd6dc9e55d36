"""The error hierarchy: every error a user can cause is one of these, with a one-line message."""


class EdgeAIError(Exception):
    """Base class: the CLI prints the message on one line and exits non-zero."""


class ConfigError(EdgeAIError):
    """A config, profile or catalog file is malformed or fails validation."""


class ProfileError(EdgeAIError):
    """No device profile fits, or the one asked for does not exist."""


class UnknownModelError(EdgeAIError):
    """A model name that is not in the catalog."""


class ModelStoreError(EdgeAIError):
    """The model store cannot fetch, verify or hold a model."""


class IntegrityError(ModelStoreError):
    """A file's size or sha256 differs from the catalog."""


class SourceError(ModelStoreError):
    """One source could not deliver a model; the store tries the next one."""


class DiskFullError(ModelStoreError):
    """The store's filesystem has no room for the model."""


class AudioError(EdgeAIError):
    """An audio file or device cannot be read or written as expected."""


class CameraError(EdgeAIError):
    """A camera, stream, video file or image cannot be opened or read."""


class ModelLoadError(EdgeAIError):
    """A model file exists but is not what the role expects (shape, format, header)."""


class ExportError(EdgeAIError):
    """An export cannot start or a conversion failed; nothing half-written is left behind."""


class ServiceError(EdgeAIError):
    """The service cannot start a part it needs (the API's port is taken, say)."""


def first_line(error: BaseException) -> str:
    """The first line of a (often multi-line, native) library error, for a one-line message."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def last_error_line(output: str) -> str:
    """The line of a tool's stderr that says what went wrong: its last ERROR line (pip,
    llama.cpp's converter), else its last line (a Python traceback ends with the exception)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1]


class ProtocolError(EdgeAIError):
    """A Wyoming peer sent an event that is malformed, too large, or cut off."""


class RemoteStageError(EdgeAIError):
    """A stage on another machine did not answer, or answered with an error."""
