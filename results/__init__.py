"""results package of gtcheck."""
