"""Measuring variants: the role SageMaker assumes for AI recommendation and benchmark jobs."""
