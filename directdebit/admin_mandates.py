"""Admin: mandates."""
