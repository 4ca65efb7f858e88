"""Lifecycle scripts of the notebook instance (on_start.sh, autostop.py), each shipped as a file
of its own; a package here only so that the tests import autostop by name."""
