"""Admin: batches."""
