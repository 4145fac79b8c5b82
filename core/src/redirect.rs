//! (redirect: under construction)
