//! (retry: under construction)
