"""CI gates, build steps and generators: run by make, not by users directly."""
