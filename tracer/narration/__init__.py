"""Narration: a trace told as numbered steps whose claims the verifier checks (forward along
the run, backward from the result), and the analysis of a trace both narrators share."""
