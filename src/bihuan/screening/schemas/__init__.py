"""API shapes of fast testing, one module per concept."""
