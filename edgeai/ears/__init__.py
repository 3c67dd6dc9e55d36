"""The ears: the wake word and VAD, and the listener that turns audio into wake, speech-start
and speech-end events."""
