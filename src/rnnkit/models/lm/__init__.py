"""The lm task."""
