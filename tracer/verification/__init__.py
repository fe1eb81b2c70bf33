"""Verification: every claim of a narrative re-checked against a fresh run (`verify`), and
free-form reasoning checked sentence by sentence against a real run (`verify_text`)."""
