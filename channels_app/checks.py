"""System checks for deployment."""
