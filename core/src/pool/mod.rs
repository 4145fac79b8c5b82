//! The connection pool's settings and counters.
//!
//! Each [`Agent`](crate::call::Agent) owns one pool; its calls take
//! connections from it and give them back themselves (see the
//! [`call`](crate::call) module's driver contract), so a driver never sees
//! a lease or a wait-queue ticket. This module holds what users configure
//! and observe:
//!
//! - Connections are grouped by scheme, host, port, proxy and TLS settings.
//!   Per group the pool keeps an idle list (reused last-in first-out, like
//!   urllib3, so the warmest connection goes first and cold ones age out),
//!   a count of *active* connections (in use or being opened), and a FIFO
//!   queue of calls waiting for a slot.
//! - Limits ([`PoolConfig`]): idle per host, idle in total, active per
//!   host. At the active limit, [`WhenFull`] decides: `Wait` (queue; the
//!   wait is bounded by the pool wait timeout and the call's deadline, and
//!   exactly the waiter that gets a freed slot is woken), `Error` (fail at
//!   once with [`ErrorKind::PoolFull`](crate::ErrorKind::PoolFull)) or
//!   `OpenExtra` (an unpooled extra connection, closed when done:
//!   urllib3's `pool_block=False`).
//! - An idle connection expires at the earliest of last use + idle timeout,
//!   creation + maximum lifetime, and last use + the server's
//!   `Keep-Alive: timeout=N` less a margin (1 s, or N/2 when N is 2 s or
//!   less). Before an idle connection is reused, the driver peeks at it
//!   without blocking; data or EOF means it is discarded
//!   ([`PoolStats::discarded_stale`]) and another one is used. A connection
//!   with bytes left after its response never goes back to the pool.
//!
//! ```
//! use std::time::Duration;
//! use hawser_core::call::{Agent, Config};
//! use hawser_core::pool::{PoolConfig, WhenFull};
//!
//! let mut config = Config::default();
//! config.pool = PoolConfig {
//!     max_active_per_host: 4,
//!     when_full: WhenFull::Wait,
//!     max_lifetime: Some(Duration::from_secs(600)),
//!     ..PoolConfig::default()
//! };
//! let agent: Agent<std::net::TcpStream> = Agent::new(config)?;
//! assert_eq!(agent.pool_stats().active, 0);
//!
//! let mut bad = Config::default();
//! bad.pool.max_active_per_host = 0;
//! let err = Agent::<std::net::TcpStream>::new(bad).unwrap_err();
//! assert_eq!(err.kind(), hawser_core::ErrorKind::InvalidRequest);
//! # Ok::<(), hawser_core::Error>(())
//! ```

mod engine;

pub(crate) use engine::{
    Checkin, Checkout, KeepAlive, Lease, Pool, PoolKey, Scheme, WaiterId, WaiterTicket,
};
pub use engine::{EvictReason, PoolConfig, PoolStats, WhenFull};

// Unit tests of the engine (crate-private), kept with the other tests.
#[cfg(test)]
#[path = "../../tests/unit/pool_bookkeeping.rs"]
mod bookkeeping_tests;
#[cfg(test)]
#[path = "../../tests/unit/pool_props.rs"]
mod props_tests;
