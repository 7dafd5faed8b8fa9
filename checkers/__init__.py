"""checkers package of gtcheck."""
