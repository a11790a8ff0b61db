"""Local fake servers that speak the protocols of third-party services the tests cannot reach."""
