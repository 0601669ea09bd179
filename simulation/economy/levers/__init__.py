"""The policy levers, one module each, and their registry."""
