//! (tls: under construction)
