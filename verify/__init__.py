"""``make verify``: the reliability campaigns — invariant fuzzing, static analysis, fault injection,
API fuzzing and load — whose figures make RELIABILITY.md. Nothing in that file is typed by hand."""
