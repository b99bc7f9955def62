"""Forge-neutral decisions: what a comment asks for, which projects a change touches."""
