"""The device: its profiles, what this machine is (host facts), which profile fits it, where
each role is placed, and which model file (catalog model or exported artifact) each role runs."""
