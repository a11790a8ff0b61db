"""The employer's home across the three programmes; reads the domains' services."""
