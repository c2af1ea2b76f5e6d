"""Models of the scheme; filled by its own issue."""
