"""The Wyoming protocol: edgeai's stages served to Home Assistant, and stages used remotely."""
