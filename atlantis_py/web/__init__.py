"""HTTP: webhooks in, health and metrics out."""
