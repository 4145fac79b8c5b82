//! (h1: under construction)
