#!/bin/sh
# Run "$@", then wait until the bench has read the BPF programs' run-time statistics
# (they vanish when the observer exits): tell it through $BENCH_HOLD_DIR/done, wait on .../go.
"$@"
st=$?
echo done > "$BENCH_HOLD_DIR/done"
read _ < "$BENCH_HOLD_DIR/go"
exit $st
