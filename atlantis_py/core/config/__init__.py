"""workflows.yaml (and its parts) into one RepoConfig model."""
