"""Forge-neutral values that flow between the layers; no library types here."""
