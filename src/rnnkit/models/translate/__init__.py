"""The translate task."""
