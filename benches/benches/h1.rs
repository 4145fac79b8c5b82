//! Criterion benchmark (h1): being written.
fn main() {}
