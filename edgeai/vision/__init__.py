"""The camera half of the runtime: sources, motion gate, detectors, tracking, zones and events."""
