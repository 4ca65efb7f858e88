"""The notebook workspace: instance, lifecycle scripts (notebook_lifecycle/), network."""
