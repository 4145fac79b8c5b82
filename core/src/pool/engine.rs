//! The pool engine: per-key idle lists, active counts, FIFO waiters,
//! grants and eviction, as pure bookkeeping over a handle type `C` (the
//! agent stores `Parked<T>`: a transport and its core state). Only the
//! call module talks to it, under the agent's lock.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::{Error, ErrorKind};

/// The scheme part of a [`PoolKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

/// Which connections are interchangeable: same scheme, host, port, proxy and
/// TLS settings.
///
/// The host is compared case-insensitively (it is stored lower-cased). The
/// proxy and TLS identities are opaque values the caller computes (e.g. a
/// hash of the proxy URL and credentials, of the CA set and client cert).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolKey {
    scheme: Scheme,
    host: String,
    port: u16,
    proxy: Option<u64>,
    tls: u64,
    /// Which pool policy governs the key: 0 for the session's, `n` for the
    /// `n`-th mount's (a mount has its own connections, as a requests
    /// adapter has its own pool manager).
    policy: u32,
}

impl PoolKey {
    /// A key for `scheme://host:port`, no proxy, TLS identity 0.
    pub fn new(scheme: Scheme, host: &str, port: u16) -> PoolKey {
        PoolKey {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            proxy: None,
            tls: 0,
            policy: 0,
        }
    }
    /// `http://host:port`.
    #[cfg(test)]
    pub fn http(host: &str, port: u16) -> PoolKey {
        Self::new(Scheme::Http, host, port)
    }
    /// `https://host:port`.
    #[cfg(test)]
    pub fn https(host: &str, port: u16) -> PoolKey {
        Self::new(Scheme::Https, host, port)
    }
    /// Connections through the proxy with this identity.
    pub fn with_proxy(mut self, proxy_identity: u64) -> PoolKey {
        self.proxy = Some(proxy_identity);
        self
    }
    /// Connections governed by pool policy `policy` (see [`Pool::set_policies`]).
    pub fn with_policy(mut self, policy: u32) -> PoolKey {
        self.policy = policy;
        self
    }
    /// Connections made with the TLS settings of this identity.
    #[cfg_attr(not(feature = "rustls"), allow(dead_code))]
    pub fn with_tls_identity(mut self, tls_identity: u64) -> PoolKey {
        self.tls = tls_identity;
        self
    }
}

impl fmt::Display for PoolKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}:{}", self.host, self.port)?;
        if let Some(p) = self.proxy {
            write!(f, " via proxy {p:#x}")?;
        }
        if self.policy != 0 {
            write!(f, " (mount {})", self.policy)?;
        }
        Ok(())
    }
}

/// What to do when a host is at its active limit.
///
/// ```
/// use hawser_core::pool::{PoolConfig, WhenFull};
/// // Like urllib3's `pool_block=True`: wait for a connection.
/// let blocking = PoolConfig { when_full: WhenFull::Wait, ..PoolConfig::default() };
/// assert_eq!(PoolConfig::default().when_full, WhenFull::OpenExtra);
/// # drop(blocking);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Queue in FIFO order until a slot frees (bounded by the call's deadline).
    Wait,
    /// Fail at once with [`ErrorKind::PoolFull`].
    Error,
    /// Open an unpooled extra connection, closed when returned
    /// (urllib3's `pool_block=False`).
    OpenExtra,
}

/// Pool limits and lifetimes.
///
/// Defaults follow requests/urllib3 (`pool_maxsize=10`, `pool_block=False`)
/// and reqwest's 90 s idle timeout: 10 idle and 10 active per host,
/// 100 idle in total, `OpenExtra` when full, no maximum lifetime.
///
/// ```
/// use std::time::Duration;
/// use hawser_core::pool::{PoolConfig, WhenFull};
/// let config = PoolConfig {
///     max_active_per_host: 4,
///     when_full: WhenFull::Wait,
///     max_lifetime: Some(Duration::from_secs(600)),
///     ..PoolConfig::default()
/// };
/// assert_eq!(config.idle_timeout, Duration::from_secs(90));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Idle connections kept per key (0 keeps none).
    pub max_idle_per_host: usize,
    /// Idle connections kept in total (0 keeps none).
    pub max_idle_total: usize,
    /// Active (checked out + being opened) pooled connections per key; at
    /// least 1. Extras opened by [`WhenFull::OpenExtra`] are not counted.
    pub max_active_per_host: usize,
    /// What checkout does at the active limit.
    pub when_full: WhenFull,
    /// An idle connection unused this long is closed. Must be non-zero.
    pub idle_timeout: Duration,
    /// A connection older than this (from checkout for opening) is not reused.
    pub max_lifetime: Option<Duration>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_idle_per_host: 10,
            max_idle_total: 100,
            max_active_per_host: 10,
            when_full: WhenFull::OpenExtra,
            idle_timeout: Duration::from_secs(90),
            max_lifetime: None,
        }
    }
}

/// Why a connection was closed by the pool (counted in [`PoolStats`]).
///
/// ```
/// use hawser_core::pool::EvictReason;
/// assert_ne!(EvictReason::IdleTimeout, EvictReason::KeepAlive);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvictReason {
    /// Idle longer than the idle timeout.
    IdleTimeout,
    /// Older than the maximum lifetime.
    MaxLifetime,
    /// The server's `Keep-Alive: timeout=` (minus the margin) passed.
    KeepAlive,
}

/// A handle the pool gave back for closing, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Evicted<C> {
    /// The connection to close.
    pub handle: C,
    /// Why it is closed.
    pub reason: EvictReason,
}

/// Counters for stats. `idle`, `active` and `waiting` are current values;
/// the rest only grow.
///
/// ```
/// use hawser_core::call::{Agent, Config};
/// let agent: Agent<()> = Agent::new(Config::default())?;
/// let stats = agent.pool_stats();
/// assert_eq!((stats.opened, stats.idle, stats.active, stats.waiting), (0, 0, 0, 0));
/// # Ok::<(), hawser_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Leases handed out to open a new pooled connection.
    pub opened: u64,
    /// Leases handed out to open an unpooled extra (`OpenExtra`).
    pub opened_extra: u64,
    /// Idle connections handed out again.
    pub reused: u64,
    /// Connections closed for idle timeout.
    pub evicted_idle: u64,
    /// Connections closed for maximum lifetime.
    pub evicted_lifetime: u64,
    /// Connections closed for the server's keep-alive hint.
    pub evicted_keep_alive: u64,
    /// Returned connections closed because an idle limit was full, or extras.
    pub closed_full: u64,
    /// Returned connections closed because the caller said not reusable.
    pub closed_not_reusable: u64,
    /// Checkouts that had to wait.
    pub waited: u64,
    /// Waiters that gave up (deadline).
    pub wait_cancelled: u64,
    /// Checkouts refused by `WhenFull::Error`.
    pub rejected_full: u64,
    /// Idle connections discarded before reuse because the liveness check
    /// found them closed by the server or carrying unsolicited bytes.
    pub discarded_stale: u64,
    /// Idle connections now.
    pub idle: usize,
    /// Active pooled connections now (including slots granted to waiters).
    pub active: usize,
    /// Waiters queued now.
    pub waiting: usize,
    /// Keys with any idle, active or waiting connection now (keys with
    /// none are forgotten, so this does not grow with every host ever seen).
    pub keys: usize,
}

/// Misuse of the pool or a refused checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError {
    /// `WhenFull::Error` and the host is at its active limit.
    Full {
        /// The host.
        key: String,
        /// Its active limit.
        limit: usize,
    },
    /// A lease or ticket from another pool.
    ForeignToken,
    /// The configuration is invalid.
    InvalidConfig(&'static str),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Full { key, limit } => write!(
                f,
                "connection pool for {key} is full ({limit} active connections) and configured not to wait"
            ),
            PoolError::ForeignToken => {
                f.write_str("lease or waiter ticket belongs to another pool")
            }
            PoolError::InvalidConfig(why) => write!(f, "invalid pool configuration: {why}"),
        }
    }
}

impl std::error::Error for PoolError {}

impl From<PoolError> for Error {
    fn from(e: PoolError) -> Self {
        let kind = match e {
            PoolError::Full { .. } => ErrorKind::PoolFull,
            PoolError::ForeignToken => ErrorKind::Usage,
            PoolError::InvalidConfig(_) => ErrorKind::InvalidRequest,
        };
        Error::new(kind, e.to_string())
    }
}

/// The right to one active connection of a key. Move-only: give it back
/// exactly once, through [`Pool::checkin`] or [`Pool::release`].
///
/// The pool has no way to notice a dropped lease (it holds no reference to
/// it), so dropping one without returning it keeps its active slot counted:
/// a backend returns leases on every path, including errors and panics
/// (e.g. from a guard's `Drop`).
#[derive(Debug)]
#[must_use = "a lease must be returned with Pool::checkin or Pool::release"]
pub struct Lease {
    pool: u64,
    slot: usize,
    key: Arc<PoolKey>,
    created: Instant,
    extra: bool,
}

impl Lease {
    /// The key this lease belongs to.
    #[cfg(any(test, feature = "tracing"))]
    pub fn key(&self) -> &PoolKey {
        &self.key
    }
    /// True for an unpooled extra (`OpenExtra`): closed when returned.
    #[cfg(any(test, feature = "tracing"))]
    pub fn is_extra(&self) -> bool {
        self.extra
    }
}

/// Identifies a waiter, so a backend can find whom to wake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WaiterId(u64);

/// A place in a key's FIFO queue. Move-only: redeem it with
/// [`Pool::claim`] or give it up with [`Pool::cancel`].
///
/// As with [`Lease`], a dropped ticket is not noticed: a slot granted to it
/// stays taken, so cancel tickets on every exit path.
#[derive(Debug)]
#[must_use = "a waiter ticket must be claimed or cancelled"]
pub struct WaiterTicket {
    pool: u64,
    slot: usize,
    id: WaiterId,
    key: Arc<PoolKey>,
}

impl WaiterTicket {
    /// The waiter's id (matches [`Checkin::wake`]).
    pub fn id(&self) -> WaiterId {
        self.id
    }
    /// The key waited for.
    #[cfg(any(test, feature = "tracing"))]
    pub fn key(&self) -> &PoolKey {
        &self.key
    }
}

/// The answer of [`Pool::checkout`] and [`Pool::claim`].
#[derive(Debug)]
pub enum Checkout<C> {
    /// Reuse this idle connection.
    Reuse(Lease, C),
    /// Open a new connection (the lease counts toward the active limit,
    /// unless [`Lease::is_extra`]).
    Open(Lease),
    /// Wait until woken (see [`Checkin::wake`]), then [`Pool::claim`].
    Wait(WaiterTicket),
}

/// The answer of [`Pool::checkin`], [`Pool::release`] and [`Pool::cancel`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "close the handle and wake the waiter"]
pub struct Checkin<C> {
    /// A connection the pool does not keep: close it.
    pub close: Option<C>,
    /// A waiter that now holds a slot: wake it so it calls [`Pool::claim`].
    pub wake: Option<WaiterId>,
}

/// How much earlier than the server's `Keep-Alive: timeout=N` a connection
/// is retired: 1 s, or N/2 when N is 2 s or less. The margin covers the
/// request's travel time and clock granularity on the server, so we do not
/// send into a socket the server is closing.
pub const KEEP_ALIVE_MARGIN: Duration = Duration::from_secs(1);

/// How long after last use a connection may be reused given the server's
/// `Keep-Alive: timeout=N` hint.
pub fn keep_alive_expiry(hint: Duration) -> Duration {
    if hint <= 2 * KEEP_ALIVE_MARGIN {
        hint / 2
    } else {
        hint - KEEP_ALIVE_MARGIN
    }
}

/// The `timeout` and `max` parameters of a `Keep-Alive` response header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeepAlive {
    /// How long the server keeps an idle connection.
    pub timeout: Option<Duration>,
    /// How many more requests the server accepts on the connection.
    pub max: Option<u32>,
}

impl KeepAlive {
    /// Parse a header value; unknown or malformed parameters are ignored
    /// (the hint is advisory). Values are capped at a day.
    pub fn parse(value: &str) -> KeepAlive {
        let mut out = KeepAlive::default();
        for part in value.split(',') {
            let Some((name, val)) = part.split_once('=') else {
                continue;
            };
            let val = val.trim().trim_matches('"');
            let Ok(n) = val.parse::<u64>() else { continue };
            let name = name.trim();
            if name.eq_ignore_ascii_case("timeout") {
                out.timeout = Some(Duration::from_secs(n.min(86_400)));
            } else if name.eq_ignore_ascii_case("max") {
                out.max = Some(u32::try_from(n).unwrap_or(u32::MAX));
            }
        }
        out
    }
}

#[derive(Debug)]
struct Idle<C> {
    handle: C,
    created: Instant,
    last_used: Instant,
    expires: Instant,
    reason: EvictReason,
}

#[derive(Debug)]
enum Grant<C> {
    Reuse(Idle<C>),
    Open,
}

#[derive(Debug)]
struct Host<C> {
    /// The map's key, shared with leases and tickets.
    key: Arc<PoolKey>,
    /// Oldest first; reuse pops from the back (LIFO).
    idle: Vec<Idle<C>>,
    /// Pooled leases out plus slots granted to waiters.
    active: usize,
    waiters: VecDeque<WaiterId>,
}

impl<C> Host<C> {
    fn is_empty(&self) -> bool {
        self.idle.is_empty() && self.active == 0 && self.waiters.is_empty()
    }
}

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// Connection bookkeeping; see the [module docs](self).
#[derive(Debug)]
pub struct Pool<C> {
    id: u64,
    config: PoolConfig,
    /// The limits of mounted policies 1, 2, ... (see `set_policies`).
    policies: Vec<PoolConfig>,
    /// Per-key state in a slab, so leases and tickets find their host by
    /// index without hashing the key again; `None` slots are free.
    hosts: Vec<Option<Host<C>>>,
    /// Key to slab slot.
    index: HashMap<Arc<PoolKey>, usize>,
    /// Free slab slots, reused before the slab grows.
    free: Vec<usize>,
    /// Slots handed to waiters not yet claimed.
    granted: HashMap<WaiterId, Grant<C>>,
    /// Expired connections found during checkout, returned by `evict`.
    pending_close: Vec<Evicted<C>>,
    next_waiter: u64,
    idle_total: usize,
    stats: PoolStats,
}

fn add(t: Instant, d: Duration) -> Instant {
    // Saturate far in the future rather than panic on overflow; a bound
    // that cannot be represented is as good as none.
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(86_400 * 365)))
        .unwrap_or(t)
}

impl<C> Pool<C> {
    /// A pool with this configuration.
    pub fn new(config: PoolConfig) -> Result<Pool<C>, PoolError> {
        Self::validate(&config)?;
        Ok(Pool {
            id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
            config,
            policies: Vec::new(),
            hosts: Vec::new(),
            index: HashMap::new(),
            free: Vec::new(),
            granted: HashMap::new(),
            pending_close: Vec::new(),
            next_waiter: 0,
            idle_total: 0,
            stats: PoolStats::default(),
        })
    }

    /// The per-key limits of policies 1, 2, ... (a key's policy is set with
    /// [`PoolKey::with_policy`]; policy 0 and any unknown one use the
    /// pool's own configuration). `max_idle_total` is always the pool's.
    pub fn set_policies(&mut self, policies: Vec<PoolConfig>) -> Result<(), PoolError> {
        for p in &policies {
            Self::validate(p)?;
        }
        self.policies = policies;
        Ok(())
    }

    /// The limits that govern `key`.
    fn limits(&self, key: &PoolKey) -> PoolConfig {
        let n = key.policy as usize;
        match n.checked_sub(1).and_then(|i| self.policies.get(i)) {
            Some(p) => *p,
            None => self.config,
        }
    }

    fn validate(config: &PoolConfig) -> Result<(), PoolError> {
        if config.max_active_per_host == 0 {
            return Err(PoolError::InvalidConfig(
                "max_active_per_host must be at least 1",
            ));
        }
        if config.idle_timeout.is_zero() {
            return Err(PoolError::InvalidConfig("idle_timeout must be non-zero"));
        }
        if config.max_lifetime.is_some_and(|d| d.is_zero()) {
            return Err(PoolError::InvalidConfig("max_lifetime must be non-zero"));
        }
        Ok(())
    }

    /// The counters.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            idle: self.idle_total,
            active: self.live().map(|h| h.active).sum(),
            waiting: self.live().map(|h| h.waiters.len()).sum(),
            keys: self.index.len(),
            ..self.stats
        }
    }

    /// Idle connections of `key`.
    #[cfg(test)]
    pub fn idle_count(&self, key: &PoolKey) -> usize {
        self.find(key).map_or(0, |h| h.idle.len())
    }

    /// Active pooled connections of `key` (including slots granted to waiters).
    #[cfg(test)]
    pub fn active_count(&self, key: &PoolKey) -> usize {
        self.find(key).map_or(0, |h| h.active)
    }

    /// Waiters queued for `key` (not yet granted).
    #[cfg(test)]
    pub fn waiting_count(&self, key: &PoolKey) -> usize {
        self.find(key).map_or(0, |h| h.waiters.len())
    }

    fn live(&self) -> impl Iterator<Item = &Host<C>> {
        self.hosts.iter().flatten()
    }

    #[cfg(test)]
    fn find(&self, key: &PoolKey) -> Option<&Host<C>> {
        let slot = *self.index.get(key)?;
        self.hosts.get(slot)?.as_ref()
    }

    /// The live host at `slot` if it is the one `key` names (a token from
    /// this pool always matches: a host is only dropped when no lease,
    /// ticket or grant refers to it).
    fn host_at(&mut self, slot: usize, key: &Arc<PoolKey>) -> Option<&mut Host<C>> {
        self.hosts
            .get_mut(slot)?
            .as_mut()
            .filter(|h| Arc::ptr_eq(&h.key, key))
    }

    /// Drop the host at `slot` once nothing refers to it, so the pool does
    /// not grow with every key ever seen.
    fn drop_if_empty(&mut self, slot: usize) {
        if let Some(entry) = self.hosts.get_mut(slot)
            && entry.as_ref().is_some_and(Host::is_empty)
            && let Some(h) = entry.take()
        {
            self.index.remove(&*h.key);
            self.free.push(slot);
        }
    }

    /// The slot of `key`, creating its host if needed.
    fn slot_for(&mut self, key: &PoolKey) -> usize {
        if let Some(&slot) = self.index.get(key) {
            return slot;
        }
        let k = Arc::new(key.clone());
        let host = Host {
            key: Arc::clone(&k),
            idle: Vec::new(),
            active: 0,
            waiters: VecDeque::new(),
        };
        let slot = match self.free.pop() {
            Some(slot) if slot < self.hosts.len() => {
                self.hosts[slot] = Some(host);
                slot
            }
            _ => {
                self.hosts.push(Some(host));
                self.hosts.len() - 1
            }
        };
        self.index.insert(k, slot);
        slot
    }

    fn lease(&self, slot: usize, key: Arc<PoolKey>, created: Instant, extra: bool) -> Lease {
        Lease {
            pool: self.id,
            slot,
            key,
            created,
            extra,
        }
    }

    fn count_evicted(&mut self, reason: EvictReason) {
        match reason {
            EvictReason::IdleTimeout => self.stats.evicted_idle += 1,
            EvictReason::MaxLifetime => self.stats.evicted_lifetime += 1,
            EvictReason::KeepAlive => self.stats.evicted_keep_alive += 1,
        }
    }

    /// Ask for a connection to `key` at `now`. See [`Checkout`].
    pub fn checkout(&mut self, key: &PoolKey, now: Instant) -> Result<Checkout<C>, PoolError> {
        // The hot path (a known key) hashes once and allocates nothing; the
        // Arc is shared with the lease.
        let limits = self.limits(key);
        let slot = self.slot_for(key);
        let Some(Some(host)) = self.hosts.get_mut(slot) else {
            // `slot_for` always returns a live slot; answer without panicking.
            return Err(PoolError::ForeignToken);
        };
        let key = Arc::clone(&host.key);
        // Strict FIFO: a newcomer never overtakes a queued waiter.
        if host.waiters.is_empty() && host.active < limits.max_active_per_host {
            while let Some(conn) = host.idle.pop() {
                self.idle_total -= 1;
                if now >= conn.expires {
                    let reason = conn.reason;
                    self.pending_close.push(Evicted {
                        handle: conn.handle,
                        reason,
                    });
                    match reason {
                        EvictReason::IdleTimeout => self.stats.evicted_idle += 1,
                        EvictReason::MaxLifetime => self.stats.evicted_lifetime += 1,
                        EvictReason::KeepAlive => self.stats.evicted_keep_alive += 1,
                    }
                    continue;
                }
                host.active += 1;
                self.stats.reused += 1;
                let lease = Lease {
                    pool: self.id,
                    slot,
                    key,
                    created: conn.created,
                    extra: false,
                };
                return Ok(Checkout::Reuse(lease, conn.handle));
            }
            host.active += 1;
            self.stats.opened += 1;
            return Ok(Checkout::Open(self.lease(slot, key, now, false)));
        }
        match limits.when_full {
            WhenFull::Wait => {
                let id = WaiterId(self.next_waiter);
                self.next_waiter += 1;
                host.waiters.push_back(id);
                self.stats.waited += 1;
                Ok(Checkout::Wait(WaiterTicket {
                    pool: self.id,
                    slot,
                    id,
                    key,
                }))
            }
            WhenFull::Error => {
                let limit = limits.max_active_per_host;
                self.drop_if_empty(slot);
                self.stats.rejected_full += 1;
                Err(PoolError::Full {
                    key: key.to_string(),
                    limit,
                })
            }
            WhenFull::OpenExtra => {
                self.stats.opened_extra += 1;
                Ok(Checkout::Open(self.lease(slot, key, now, true)))
            }
        }
    }

    /// Return a connection after use at `now`. `reusable` is the h1 layer's
    /// verdict; `keep_alive` is the server's `Keep-Alive` header, if any.
    /// The connection is kept idle, handed to the oldest waiter, or given
    /// back in [`Checkin::close`].
    pub fn checkin(
        &mut self,
        lease: Lease,
        handle: C,
        reusable: bool,
        keep_alive: Option<KeepAlive>,
        now: Instant,
    ) -> Result<Checkin<C>, PoolError> {
        if lease.pool != self.id {
            return Err(PoolError::ForeignToken);
        }
        if lease.extra {
            self.stats.closed_full += 1;
            return Ok(Checkin {
                close: Some(handle),
                wake: None,
            });
        }
        if self.host_at(lease.slot, &lease.key).is_none() {
            return Err(PoolError::ForeignToken);
        }
        let limits = self.limits(&lease.key);
        let ka = keep_alive.unwrap_or_default();
        if !reusable || ka.max == Some(0) || ka.timeout == Some(Duration::ZERO) {
            self.stats.closed_not_reusable += 1;
            let wake = self.free_slot(lease.slot);
            return Ok(Checkin {
                close: Some(handle),
                wake,
            });
        }
        let mut conn = Idle {
            handle,
            created: lease.created,
            last_used: now,
            expires: add(now, limits.idle_timeout),
            reason: EvictReason::IdleTimeout,
        };
        if let Some(life) = limits.max_lifetime {
            let end = add(conn.created, life);
            if end < conn.expires {
                conn.expires = end;
                conn.reason = EvictReason::MaxLifetime;
            }
        }
        if let Some(hint) = ka.timeout {
            let end = add(now, keep_alive_expiry(hint));
            if end < conn.expires {
                conn.expires = end;
                conn.reason = EvictReason::KeepAlive;
            }
        }
        if now >= conn.expires {
            self.count_evicted(conn.reason);
            let wake = self.free_slot(lease.slot);
            return Ok(Checkin {
                close: Some(conn.handle),
                wake,
            });
        }
        let Some(Some(host)) = self.hosts.get_mut(lease.slot) else {
            return Err(PoolError::ForeignToken);
        };
        // A queued waiter takes the connection directly: its slot is the
        // one this lease held, so `active` is unchanged.
        if let Some(id) = host.waiters.pop_front() {
            self.granted.insert(id, Grant::Reuse(conn));
            return Ok(Checkin {
                close: None,
                wake: Some(id),
            });
        }
        host.active = host.active.saturating_sub(1);
        // Inlined `keep_idle` on the hot path: one map lookup per checkin.
        if host.idle.len() >= limits.max_idle_per_host || self.config.max_idle_total == 0 {
            self.stats.closed_full += 1;
            self.drop_if_empty(lease.slot);
            return Ok(Checkin {
                close: Some(conn.handle),
                wake: None,
            });
        }
        host.idle.push(conn);
        self.idle_total += 1;
        let close = self.retire_lru();
        Ok(Checkin { close, wake: None })
    }
    /// Put `conn` on `key`'s idle list if the limits allow; otherwise hand
    /// back what must be closed.
    fn keep_idle(&mut self, slot: usize, conn: Idle<C>) -> Option<C> {
        let Some(Some(host)) = self.hosts.get(slot) else {
            return Some(conn.handle);
        };
        let per_host = self.limits(&host.key).max_idle_per_host;
        let Some(Some(host)) = self.hosts.get_mut(slot) else {
            return Some(conn.handle);
        };
        if host.idle.len() >= per_host || self.config.max_idle_total == 0 {
            self.stats.closed_full += 1;
            self.drop_if_empty(slot);
            return Some(conn.handle);
        }
        host.idle.push(conn);
        self.idle_total += 1;
        self.retire_lru()
    }

    /// Keep the total idle bound by retiring the least recently used idle
    /// connection of the whole pool (O(hosts), only when over the bound).
    fn retire_lru(&mut self) -> Option<C> {
        if self.idle_total <= self.config.max_idle_total {
            return None;
        }
        let oldest = self
            .hosts
            .iter()
            .enumerate()
            .filter_map(|(i, h)| Some((h.as_ref()?.idle.first()?.last_used, i)))
            .min_by_key(|(t, _)| *t)
            .map(|(_, i)| i)?;
        let h = self.hosts.get_mut(oldest)?.as_mut()?;
        if h.idle.is_empty() {
            return None;
        }
        let c = h.idle.remove(0);
        self.idle_total -= 1;
        self.stats.closed_full += 1;
        self.drop_if_empty(oldest);
        Some(c.handle)
    }

    /// A pooled slot of `key` is free: give it to the oldest waiter, or
    /// drop it from the active count.
    fn free_slot(&mut self, slot: usize) -> Option<WaiterId> {
        let host = self.hosts.get_mut(slot)?.as_mut()?;
        if let Some(id) = host.waiters.pop_front() {
            self.granted.insert(id, Grant::Open);
            return Some(id);
        }
        host.active = host.active.saturating_sub(1);
        self.drop_if_empty(slot);
        None
    }

    /// Whether the waiter holding `ticket` has been granted a slot (so
    /// [`Pool::claim`] would not answer [`Checkout::Wait`]).
    pub fn is_granted(&self, ticket: &WaiterTicket) -> bool {
        ticket.pool == self.id && self.granted.contains_key(&ticket.id)
    }

    /// The idle connection handed out with `lease` was found dead before
    /// use (closed by the server, or with unsolicited bytes on it): count
    /// it, and hand out the next live idle connection of the same key under
    /// the same lease, or `None` to open a new one with it. The lease keeps
    /// its slot either way, so no waiter can take it in between.
    pub fn replace_stale(&mut self, lease: &mut Lease, now: Instant) -> Option<C> {
        // The discarded connection was not reused after all.
        self.stats.discarded_stale += 1;
        self.stats.reused = self.stats.reused.saturating_sub(1);
        lease.created = now;
        let slot = lease.slot;
        let key = Arc::clone(&lease.key);
        let ours = lease.pool == self.id && !lease.extra;
        loop {
            let next = match self.host_at(slot, &key) {
                Some(host) if ours => host.idle.pop(),
                _ => None,
            };
            let Some(conn) = next else {
                self.stats.opened += 1;
                return None;
            };
            self.idle_total -= 1;
            if now >= conn.expires {
                self.count_evicted(conn.reason);
                self.pending_close.push(Evicted {
                    handle: conn.handle,
                    reason: conn.reason,
                });
                continue;
            }
            self.stats.reused += 1;
            lease.created = conn.created;
            return Some(conn.handle);
        }
    }

    /// The connection of `lease` was closed instead of returned: free its
    /// slot (maybe waking a waiter).
    pub fn release(&mut self, lease: Lease) -> Result<Checkin<C>, PoolError> {
        if lease.pool != self.id || (!lease.extra && self.host_at(lease.slot, &lease.key).is_none())
        {
            return Err(PoolError::ForeignToken);
        }
        let wake = if lease.extra {
            None
        } else {
            self.free_slot(lease.slot)
        };
        Ok(Checkin { close: None, wake })
    }

    /// Redeem a ticket: after a wake, the granted connection or a lease to
    /// open one; before it, the ticket back as [`Checkout::Wait`].
    pub fn claim(&mut self, ticket: WaiterTicket, now: Instant) -> Result<Checkout<C>, PoolError> {
        if ticket.pool != self.id {
            return Err(PoolError::ForeignToken);
        }
        let Some(grant) = self.granted.remove(&ticket.id) else {
            return Ok(Checkout::Wait(ticket));
        };
        match grant {
            Grant::Reuse(conn) if now < conn.expires => {
                self.stats.reused += 1;
                let lease = self.lease(ticket.slot, ticket.key, conn.created, false);
                Ok(Checkout::Reuse(lease, conn.handle))
            }
            Grant::Reuse(conn) => {
                // Expired between wake and claim: never hand it out.
                self.count_evicted(conn.reason);
                self.pending_close.push(Evicted {
                    handle: conn.handle,
                    reason: conn.reason,
                });
                self.stats.opened += 1;
                Ok(Checkout::Open(self.lease(
                    ticket.slot,
                    ticket.key,
                    now,
                    false,
                )))
            }
            Grant::Open => {
                self.stats.opened += 1;
                Ok(Checkout::Open(self.lease(
                    ticket.slot,
                    ticket.key,
                    now,
                    false,
                )))
            }
        }
    }

    /// Give up waiting (the deadline passed). If a slot had already been
    /// granted, it passes to the next waiter or back to the pool.
    pub fn cancel(&mut self, ticket: WaiterTicket, now: Instant) -> Result<Checkin<C>, PoolError> {
        if ticket.pool != self.id {
            return Err(PoolError::ForeignToken);
        }
        self.stats.wait_cancelled += 1;
        match self.granted.remove(&ticket.id) {
            None => {
                if let Some(host) = self.host_at(ticket.slot, &ticket.key) {
                    host.waiters.retain(|w| *w != ticket.id);
                    self.drop_if_empty(ticket.slot);
                }
                Ok(Checkin {
                    close: None,
                    wake: None,
                })
            }
            Some(Grant::Open) => {
                let wake = self.free_slot(ticket.slot);
                Ok(Checkin { close: None, wake })
            }
            Some(Grant::Reuse(conn)) => {
                if now >= conn.expires {
                    self.count_evicted(conn.reason);
                    let wake = self.free_slot(ticket.slot);
                    return Ok(Checkin {
                        close: Some(conn.handle),
                        wake,
                    });
                }
                let Some(host) = self.host_at(ticket.slot, &ticket.key) else {
                    return Ok(Checkin {
                        close: Some(conn.handle),
                        wake: None,
                    });
                };
                if let Some(id) = host.waiters.pop_front() {
                    self.granted.insert(id, Grant::Reuse(conn));
                    return Ok(Checkin {
                        close: None,
                        wake: Some(id),
                    });
                }
                host.active = host.active.saturating_sub(1);
                let close = self.keep_idle(ticket.slot, conn);
                Ok(Checkin { close, wake: None })
            }
        }
    }

    /// Remove every idle connection expired at `now` (plus any found
    /// expired during checkout) and return them to be closed.
    pub fn evict(&mut self, now: Instant) -> Vec<Evicted<C>> {
        let mut out = std::mem::take(&mut self.pending_close);
        let mut removed = 0;
        let mut counts = [0u64; 3];
        for host in self.hosts.iter_mut().flatten() {
            let before = host.idle.len();
            let mut i = 0;
            while i < host.idle.len() {
                if now >= host.idle[i].expires {
                    let c = host.idle.remove(i);
                    counts[c.reason as usize] += 1;
                    out.push(Evicted {
                        handle: c.handle,
                        reason: c.reason,
                    });
                } else {
                    i += 1;
                }
            }
            removed += before - host.idle.len();
        }
        for slot in 0..self.hosts.len() {
            self.drop_if_empty(slot);
        }
        self.idle_total -= removed;
        self.stats.evicted_idle += counts[EvictReason::IdleTimeout as usize];
        self.stats.evicted_lifetime += counts[EvictReason::MaxLifetime as usize];
        self.stats.evicted_keep_alive += counts[EvictReason::KeepAlive as usize];
        out
    }

    /// The next instant an idle connection expires (call [`Pool::evict`]
    /// then), or `None` when nothing is idle. Connections found expired by
    /// a checkout are not included: call [`Pool::evict`] after checkouts.
    #[cfg(test)]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.live()
            .flat_map(|h| h.idle.iter().map(|c| c.expires))
            .min()
    }

    /// Take every idle connection (shutdown); waiters and leases stay.
    #[cfg(test)]
    pub fn clear(&mut self) -> Vec<C> {
        let mut out: Vec<C> = self.pending_close.drain(..).map(|e| e.handle).collect();
        for host in self.hosts.iter_mut().flatten() {
            out.extend(host.idle.drain(..).map(|c| c.handle));
        }
        for slot in 0..self.hosts.len() {
            self.drop_if_empty(slot);
        }
        self.idle_total = 0;
        out
    }
}
