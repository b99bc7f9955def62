"""One operation per job kind: autoplan, commands, apply, review, cleanup, API actions.
Each asks core/ for decisions, runner/ for work, report/ for words and forges/ for I/O."""
