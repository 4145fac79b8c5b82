//! (pool: under construction)
