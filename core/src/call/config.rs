//! Session-level settings and shared state: [`Config`], [`Agent`], and the
//! per-request overrides in [`CallOptions`].

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant, SystemTime};

use http::HeaderMap;
use http::header::{ACCEPT, HeaderValue, USER_AGENT};

use crate::Result;
use crate::auth::Auth;
use crate::cookies::CookieJar;
use crate::deadline::Timeouts;
use crate::h1::Limits;
use crate::pool::{Checkin, Pool, PoolConfig, PoolStats, WaiterId};
use crate::proxy::{Proxy, ProxyConfig};
use crate::redirect::RedirectPolicy;
use crate::request::Request;
use crate::retry::{Retry, RetryBudget};
#[cfg(feature = "rustls")]
use crate::tls::TlsConnector;

use super::hooks::Hooks;
use super::mount::{Mount, Resolved};
use super::{Call, Connection};

/// Everything a session decides once for all its requests.
///
/// Every field has a documented, finite default; backends build one from
/// their `SessionBuilder`.
///
/// ```
/// use hawser_core::call::Config;
/// let cfg = Config::default();
/// assert_eq!(cfg.headers["user-agent"], concat!("hawser/", env!("CARGO_PKG_VERSION")));
/// assert!(cfg.cookie_store);
/// assert!(cfg.decompress);
/// ```
#[non_exhaustive]
#[derive(Clone)]
pub struct Config {
    /// Headers sent with every request unless the request sets the same
    /// name. Default: `User-Agent: hawser/<version>`, `Accept: */*`.
    pub headers: HeaderMap,
    /// Credentials for every request (a request may override them).
    pub auth: Option<Auth>,
    /// Keep cookies across requests (default true).
    pub cookie_store: bool,
    /// The retry policy. Default [`Retry::session_default`].
    pub retry: Retry,
    /// An opt-in retry budget shared by the session (default none, as urllib3).
    pub retry_budget: Option<RetryBudget>,
    /// Connect/read/write timeouts and the overall deadline.
    pub timeouts: Timeouts,
    /// Redirect following.
    pub redirect: RedirectPolicy,
    /// Proxies (default: none; use [`ProxyConfig::from_env`] to read the
    /// environment the caller passes in).
    pub proxies: ProxyConfig,
    /// TLS settings (webpki roots, verification on).
    #[cfg(feature = "rustls")]
    pub tls: TlsConnector,
    /// Wire-format limits on response heads and chunked framing.
    pub limits: Limits,
    /// Pool limits and idle eviction.
    pub pool: PoolConfig,
    /// Ask for and decode gzip/deflate bodies (feature `gzip`; default on).
    pub decompress: bool,
    /// Largest decoded body accepted before failing with
    /// [`ErrorKind::BodyTooLarge`](crate::ErrorKind::BodyTooLarge) (default 1 GiB, for
    /// streamed bodies; reading into memory is capped by
    /// `max_body_in_memory`), so a small compressed body cannot exhaust memory.
    pub max_decompressed: u64,
    /// Largest decoded/compressed ratio accepted once more than 1 MiB has
    /// been decoded (default 100; ordinary text compresses 5–20 times,
    /// a decompression bomb about 1000 times); `None` disables the check.
    pub max_decompression_ratio: Option<u64>,
    /// Header names that carry credentials of the caller's own (`X-Api-Key`,
    /// ...): stripped on a redirect to another origin exactly like
    /// `Authorization`, and redacted in `Debug` (default none; a value
    /// marked with `HeaderValue::set_sensitive` is treated the same).
    pub sensitive_headers: Vec<http::header::HeaderName>,
    /// The largest body `bytes()`, `text()` and `json()` read into memory
    /// (default 10 MiB, as ureq); a request may set its own. Checked against
    /// `Content-Length` before reading and while reading (decoded bytes);
    /// streaming a body is not capped.
    pub max_body_in_memory: u64,
    /// Bodies of at least this many bytes are sent with
    /// `Expect: 100-continue`, so that a server can refuse them (401, 413)
    /// before they are sent. Default `None`: never, as requests, reqwest,
    /// ureq and hyper, because it costs every such request a round trip
    /// (1 MiB uploads on loopback ran at 0.7x hyper's rate with it) and up
    /// to [`expect_continue_wait`](Self::expect_continue_wait) against a
    /// server that ignores `Expect`. curl's choice is `Some(1 << 20)`. A
    /// request can still ask with its own `Expect: 100-continue` header.
    pub expect_continue_min: Option<u64>,
    /// How long to wait for `100 Continue` before sending the body anyway
    /// (default 1 s, as curl).
    pub expect_continue_wait: Duration,
    /// Happy Eyeballs (RFC 8305) connection attempt delay: when a name has
    /// several addresses, the next one is tried this long after the last
    /// attempt started if none has connected yet, and the first to connect
    /// wins (default 250 ms, the RFC's recommendation).
    pub happy_eyeballs_delay: Duration,
    /// The base of the per-call RNG seeds the session's builders hand out
    /// ([`Agent::next_seed`]; jitter, Digest cnonces). `None` (the
    /// default): a random base per agent, so sessions do not draw the same
    /// jitter. Set it to replay a run exactly.
    pub seed: Option<u64>,
    /// The largest response body hawser reads and discards to keep a
    /// connection when it follows a redirect, answers an auth challenge or
    /// retries a status (default 64 KiB); larger bodies close the connection.
    pub max_drain: u64,
    /// Per-prefix policies (requests' `Session.mount`): the longest prefix
    /// matching a request's URL sets its retry policy, timeouts, redirect
    /// policy and pool limits where the request sets none (default none).
    pub mounts: Vec<Mount>,
    /// Observers of each request written and each response head read
    /// (default none).
    pub hooks: Hooks,
}

impl Default for Config {
    fn default() -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("hawser/", env!("CARGO_PKG_VERSION"))),
        );
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        Config {
            headers,
            auth: None,
            cookie_store: true,
            retry: Retry::session_default(),
            retry_budget: None,
            timeouts: Timeouts::default(),
            redirect: RedirectPolicy::default(),
            proxies: ProxyConfig::new(),
            #[cfg(feature = "rustls")]
            tls: crate::tls::TlsConfig::new()
                .build()
                .expect("the default TLS configuration is valid"),
            limits: Limits::default(),
            pool: PoolConfig::default(),
            decompress: cfg!(feature = "gzip"),
            max_decompressed: 1 << 30,
            max_decompression_ratio: Some(100),
            max_body_in_memory: 10 << 20,
            sensitive_headers: Vec::new(),
            expect_continue_min: None,
            expect_continue_wait: Duration::from_secs(1),
            happy_eyeballs_delay: Duration::from_millis(250),
            seed: None,
            max_drain: 64 * 1024,
            mounts: Vec::new(),
            hooks: Hooks::new(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("headers", &crate::redact::Headers(&self.headers))
            .field("auth", &self.auth)
            .field("cookie_store", &self.cookie_store)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("redirect", &self.redirect)
            .field("proxies", &self.proxies)
            .field("limits", &self.limits)
            .field("pool", &self.pool)
            .field("decompress", &self.decompress)
            .field("mounts", &self.mounts)
            .field("hooks", &self.hooks)
            .finish_non_exhaustive()
    }
}

/// Per-request overrides of the session's [`Config`], plus the seed of the
/// call's random numbers (backoff jitter, Digest cnonce).
///
/// ```
/// use hawser_core::call::CallOptions;
/// use hawser_core::deadline::Timeouts;
/// let opts = CallOptions { timeouts: Some(Timeouts::from_secs_f64(2.0)?), seed: 7, ..Default::default() };
/// assert_eq!(opts.seed, 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, Debug)]
pub struct CallOptions {
    /// Timeouts for this request only.
    pub timeouts: Option<Timeouts>,
    /// Retry policy for this request only.
    pub retry: Option<Retry>,
    /// Credentials for this request only.
    pub auth: Option<Auth>,
    /// Redirect policy for this request only.
    pub redirect: Option<RedirectPolicy>,
    /// The cap for reading this request's response body into memory
    /// (overrides [`Config::max_body_in_memory`]).
    pub max_body_in_memory: Option<u64>,
    /// Session (or default) headers this request must not send, like
    /// requests' `headers={"User-Agent": None}`.
    pub remove_headers: Vec<http::header::HeaderName>,
    /// Seed for this call's RNG. The shared request builders set it from
    /// [`Agent::next_seed`]; tests pass a fixed one.
    pub seed: u64,
}

pub(crate) struct Shared<T> {
    pub(crate) config: Config,
    pub(crate) cookies: Mutex<CookieJar>,
    pub(crate) budget: Option<Mutex<RetryBudget>>,
    pub(crate) auth: Option<Auth>,
    /// Digest auth learnt for a proxy (with its credentials) by an earlier
    /// call, so later calls answer it preemptively instead of paying a 407
    /// round trip each. One entry per configured proxy at most.
    pub(crate) proxy_digest: Mutex<Vec<(Proxy, Auth)>>,
    /// The connection pool: idle connections with their transports, the
    /// active count per host, the wait queue, and the wakers of waiting calls.
    pub(crate) slots: Mutex<Slots<T>>,
    /// The per-call seed sequence: a base and a counter.
    seed_base: u64,
    seeds: AtomicU64,
    /// The mounts, longest prefix first, checked against the session.
    pub(crate) mounts: Vec<Resolved>,
    /// Byte buffers of finished calls, for the next ones: a fresh read
    /// buffer costs a 16 KiB memset, a third of a keep-alive request's CPU.
    spare: Mutex<Vec<super::Wire>>,
    /// The fields of a request that sets and removes none of its own: the
    /// session's, with `Accept-Encoding` when decompressing. Shared by such
    /// calls instead of copied into each.
    pub(crate) default_headers: Arc<HeaderMap>,
}

/// An idle connection: the driver's transport and the core's state for it.
pub(crate) struct Parked<T> {
    pub(crate) transport: T,
    pub(crate) conn: Connection,
}

/// The pool and the wakers of the calls waiting in its queue.
pub(crate) struct Slots<T> {
    pub(crate) pool: Pool<Parked<T>>,
    pub(crate) wakers: HashMap<WaiterId, Waker>,
}

/// What a pool operation freed: transports to close and waiters to wake.
/// Wakers run after the lock is released, so a waker that polls at once
/// cannot deadlock on the pool.
pub(crate) struct Freed<T> {
    pub(crate) close: Vec<T>,
    pub(crate) wake: Vec<Waker>,
}

impl<T> Freed<T> {
    pub(crate) fn new() -> Self {
        Freed {
            close: Vec::new(),
            wake: Vec::new(),
        }
    }

    /// Take what a checkin/release/cancel answered.
    pub(crate) fn take(&mut self, slots: &mut Slots<T>, c: Checkin<Parked<T>>) {
        if let Some(p) = c.close {
            self.close.push(p.transport);
        }
        if let Some(id) = c.wake
            && let Some(w) = slots.wakers.remove(&id)
        {
            self.wake.push(w);
        }
    }

    /// Run the wakers (call with the pool unlocked).
    pub(crate) fn wake(&mut self) {
        for w in self.wake.drain(..) {
            w.wake();
        }
    }
}

/// A session's core: its [`Config`], its connection pool, and the state its
/// calls share (cookie jar, retry budget, Digest nonces). Cheap to clone;
/// `Send + Sync` when the transport `T` is `Send`.
///
/// `T` is the driver's transport handle (a socket the core never touches:
/// it only stores it in the pool, lends it back in outputs, and drops it).
/// Idle connections wait in the agent's pool with their TLS and keep-alive
/// state, so a driver keeps no pool of its own.
///
/// The locks inside are held only for the duration of a core method, never
/// across I/O, so an async backend may use an `Agent` from any task.
///
/// ```
/// use hawser_core::call::{Agent, CallOptions, Config};
/// use hawser_core::request::Request;
/// use std::time::{Instant, SystemTime};
/// let agent: Agent<std::net::TcpStream> = Agent::new(Config::default())?;
/// let call = agent.start(Request::get("http://127.0.0.1:1/").build()?, CallOptions::default(),
///     Instant::now(), SystemTime::now())?;
/// assert_eq!(agent.pool_stats().active, 0); // nothing held before the first poll
/// # drop(call);
/// # Ok::<(), hawser_core::Error>(())
/// ```
pub struct Agent<T> {
    pub(crate) shared: Arc<Shared<T>>,
}

impl<T> Clone for Agent<T> {
    fn clone(&self) -> Self {
        Agent {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Agent<T> {
    /// A new agent with `config`; fails with [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest)
    /// when the pool settings are invalid.
    pub fn new(config: Config) -> Result<Agent<T>> {
        let mut pool = Pool::new(config.pool)?;
        let (mounts, policies) = super::mount::resolve(&config.mounts, config.timeouts)?;
        pool.set_policies(policies)?;
        let seed_base = config.seed.unwrap_or_else(random_base);
        let budget = config.retry_budget.clone().map(Mutex::new);
        let auth = config.auth.clone();
        let mut default_headers = config.headers.clone();
        if config.decompress && !default_headers.contains_key(http::header::ACCEPT_ENCODING) {
            default_headers.insert(
                http::header::ACCEPT_ENCODING,
                http::HeaderValue::from_static(super::ACCEPT_ENCODINGS),
            );
        }
        Ok(Agent {
            shared: Arc::new(Shared {
                config,
                cookies: Mutex::new(CookieJar::new()),
                budget,
                auth,
                proxy_digest: Mutex::new(Vec::new()),
                slots: Mutex::new(Slots {
                    pool,
                    wakers: HashMap::new(),
                }),
                seed_base,
                seeds: AtomicU64::new(0),
                mounts,
                spare: Mutex::new(Vec::new()),
                default_headers: Arc::new(default_headers),
            }),
        })
    }

    /// The session's settings.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The mount whose prefix is the longest to match `url`, if any (see
    /// [`Mount`]).
    pub fn mount_for(&self, url: &url::Url) -> Option<&Mount> {
        self.resolved_mount(url).map(|r| &r.mount)
    }

    pub(crate) fn resolved_mount(&self, url: &url::Url) -> Option<&Resolved> {
        self.shared.mounts.iter().find(|r| r.mount.matches(url))
    }

    /// The timeouts a request to `url` starts from: its mount's, else the
    /// session's.
    pub fn timeouts_for(&self, url: &url::Url) -> Timeouts {
        self.resolved_mount(url)
            .and_then(|r| r.timeouts)
            .unwrap_or(self.shared.config.timeouts)
    }

    /// The session's cookie jar (locked while the guard lives: keep it short).
    pub fn cookies(&self) -> MutexGuard<'_, CookieJar> {
        self.shared
            .cookies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Connection pool counters: opened, reused, evicted, waiting, and the
    /// idle and active connections now.
    pub fn pool_stats(&self) -> PoolStats {
        self.shared.slots().pool.stats()
    }

    /// The next call's RNG seed: distinct per call, derived from
    /// [`Config::seed`] (or a random base) so a fixed base replays exactly.
    /// The shared request builders use it for every request.
    ///
    /// ```
    /// use hawser_core::call::{Agent, Config};
    /// let mut cfg = Config::default();
    /// cfg.seed = Some(7);
    /// let (a, b): (Agent<()>, Agent<()>) = (Agent::new(cfg.clone())?, Agent::new(cfg)?);
    /// let first = a.next_seed();
    /// assert_ne!(first, a.next_seed());
    /// assert_eq!(first, b.next_seed());
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn next_seed(&self) -> u64 {
        let n = self.shared.seeds.fetch_add(1, Ordering::Relaxed);
        splitmix64(
            self.shared
                .seed_base
                .wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        )
    }

    /// Start one logical request at `now` (`wall` is the matching wall-clock
    /// time, used for cookie expiry and HTTP-date `Retry-After`).
    pub fn start(
        &self,
        request: Request,
        options: CallOptions,
        now: Instant,
        wall: SystemTime,
    ) -> Result<Call<T>> {
        Call::new_in(self.clone(), request, options, now, wall, |c| c)
    }

    /// [`start`](Self::start), with the call on the heap: for drivers that
    /// keep it boxed (a `Call` is about 3 KB), this builds it in its box
    /// instead of building it and then copying it there.
    ///
    /// ```
    /// # use std::time::{Instant, SystemTime};
    /// use hawser_core::call::{Agent, CallOptions, Config, Output};
    /// let agent: Agent<u32> = Agent::new(Config::default())?;
    /// let req = hawser_core::request::Request::get("http://example.test/").build()?;
    /// let mut call = agent.start_boxed(req, CallOptions::default(), Instant::now(), SystemTime::now())?;
    /// assert!(matches!(call.poll_output(Instant::now())?, Output::Resolve { .. }));
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn start_boxed(
        &self,
        request: Request,
        options: CallOptions,
        now: Instant,
        wall: SystemTime,
    ) -> Result<Box<Call<T>>> {
        let slot = Box::new_uninit();
        Call::new_in(self.clone(), request, options, now, wall, |c| {
            Box::write(slot, c)
        })
    }
}

/// How many spare buffer sets an agent keeps (enough for the calls that
/// usually run at once; more are freed).
const SPARE_WIRES: usize = 8;
/// A buffer set that grew past this (a large head or a slow consumer) is
/// shrunk back to the usual size before it is kept.
const SPARE_MAX_BYTES: usize = 64 * 1024;

impl<T> Shared<T> {
    /// A buffer set for a new call: a finished call's, or a new one.
    pub(crate) fn take_wire(&self) -> super::Wire {
        self.spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default()
    }

    /// A finished call's buffers, kept for the next call when small.
    pub(crate) fn put_wire(&self, mut wire: super::Wire) {
        wire.reset();
        if wire.capacity() > SPARE_MAX_BYTES {
            wire.shrink();
        }
        let mut spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner);
        if spare.len() < SPARE_WIRES {
            spare.push(wire);
        }
    }

    /// The pool, locked (never across I/O: only inside a core method).
    pub(crate) fn slots(&self) -> MutexGuard<'_, Slots<T>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// SplitMix64's output function: spreads a counter over all 64 bits.
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random seed base from std's per-process random hasher keys (no RNG
/// dependency and no I/O per call: std seeds them once per thread).
fn random_base() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x6861_7773_6572); // "hawser"
    h.finish()
}

impl<T> fmt::Debug for Agent<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}
