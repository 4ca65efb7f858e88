"""Optimization jobs: the launcher Lambda (launcher_function/), its workflow and the job role."""
