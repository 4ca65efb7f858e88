"""Thin stacks that compose the constructs of constructs_lib, plus the app's config parsing."""
