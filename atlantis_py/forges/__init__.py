"""The edge: forge webhooks in, comments/statuses/approvals out."""
