//! (deadline: under construction)
