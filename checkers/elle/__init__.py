"""Elle-style checking of transactional histories (list-append, rw-register, bank).

Jepsen's Elle (Kingsbury & Alvaro, VLDB 2020) finds isolation anomalies by inferring a
dependency graph between transactions from what they read and wrote and searching it
for cycles, named after Adya's phenomena (G0, G1a-c, G-single, G2). This package does
the same in Python, agrees with Elle on elle-cli's corpus, and adds regions: a DynamoDB
global table's transactions are ACID only in the region that ran them (SEMANTICS.md A11).

Entry points: `checkers.elle.check.check(txns, workload, consistency_models=...)` (one
history, Elle's result shape), `checkers.elle.txn.load(path, fmt)` (JSONL / EDN /
elle-cli JSON -> transactions), `checkers.elle.run` (the checker sets of the list-append,
rw-register and bank workloads in a gtcheck run), `checkers.elle.models` (which model
forbids which anomaly), `checkers.elle.simulate` (serializable and anomalous histories).
"""
