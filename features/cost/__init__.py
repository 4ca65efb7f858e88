"""Cost guards: the project budget."""
