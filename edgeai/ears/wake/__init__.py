"""Wake word detection in the openWakeWord model format."""
