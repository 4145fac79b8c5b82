//! (cookies: under construction)
