"""Model endpoints: async and realtime kinds, their model, scaling, role and images."""
