"""workloads package of gtcheck."""
