"""atlantis-py: a human review gate in front of every Terraform change."""

__version__ = "0.1.0"
