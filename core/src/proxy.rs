//! (proxy: under construction)
