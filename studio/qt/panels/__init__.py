"""One dock or central panel per module."""
