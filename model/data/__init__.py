"""tracecot.model.data: the training data of the fine-tuned model (`tracecot data build`).

Modules, by job: generate (procedural CruxEval-style programs, over the typed expressions of
grammar and the dead-store pruning of prune), harvest (functions from a source tree: the
stdlib or a user's project), inputs (typed argument values), examples (runs -> sandbox-
verified records, the contract with `tracecot train`), fingerprint (normalised-AST hash,
n-grams, construct coverage), decontaminate (CruxEval / HumanEval), shards, stats, build
(orchestration over worker processes, and the CLI).
"""
