//! Criterion benchmark (retry): being written.
fn main() {}
