module gtcheck/bench/peers/porcupine

go 1.18

require github.com/anishathalye/porcupine v1.3.0

// Porcupine is built from a local copy, never fetched: uncomment and point at it, or
// (as bench/bench_vs_porcupine.py does) pass `-modfile` with the replace added:
// replace github.com/anishathalye/porcupine => /tmp/porcupine-src
