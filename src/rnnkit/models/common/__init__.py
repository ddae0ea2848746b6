"""What the task packages share: the run-directory artifact base, the embedder, transfer."""
