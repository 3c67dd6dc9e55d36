"""Several devices in one home, sharing an MQTT broker: wake arbitration and rooms."""
