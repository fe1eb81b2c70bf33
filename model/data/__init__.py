"""Training data for the fine-tuned model (tracecot data build)."""
