"""Recording a run: the recorder's hot path, its two backends (settrace on 3.11, sys.monitoring
on 3.12+) side by side, and the export of what they recorded to the trace schema."""
