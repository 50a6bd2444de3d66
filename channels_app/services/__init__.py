"""Every state change, one function per use case. Nothing else writes models."""
