"""Thin stacks that compose the constructs of features/, the stage that holds them, the pipeline."""
