"""Where terraform and git run: worktree checkouts, terraform steps, saved plans.

The only package that starts processes. Everything here takes argv lists, an
explicit environment and a timeout; nothing goes through a shell.
"""
