"""Reusable constructs; each owns every resource it creates."""
