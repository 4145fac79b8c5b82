//! Criterion benchmark (pool): being written.
fn main() {}
