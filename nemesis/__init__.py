"""nemesis package of gtcheck."""
