"""emulator package of gtcheck."""
