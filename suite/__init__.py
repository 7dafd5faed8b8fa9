"""suite package of gtcheck."""
