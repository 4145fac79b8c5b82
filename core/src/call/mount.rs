//! Per-prefix policies: requests' `Session.mount(prefix, HTTPAdapter(...))`.

use std::fmt;
use std::time::Duration;

use url::Url;

use crate::deadline::{InvalidTimeout, Timeouts};
use crate::pool::PoolConfig;
use crate::redirect::RedirectPolicy;
use crate::retry::Retry;
use crate::{Error, ErrorKind, Result};

/// One change to a set of [`Timeouts`], kept as a change so that it applies
/// over whatever the session (or a mount) sets, in whatever order the
/// builder calls came.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TimeoutEdit {
    All(Timeouts),
    Both(Duration),
    Connect(Duration),
    Read(Duration),
    Write(Duration),
    PoolWait(Duration),
    Deadline(Duration),
}

impl TimeoutEdit {
    pub(crate) fn apply(self, t: Timeouts) -> Result<Timeouts, InvalidTimeout> {
        match self {
            TimeoutEdit::All(all) => Ok(all),
            TimeoutEdit::Both(d) => t.with_connect(d)?.with_read(d),
            TimeoutEdit::Connect(d) => t.with_connect(d),
            TimeoutEdit::Read(d) => t.with_read(d),
            TimeoutEdit::Write(d) => t.with_write(d),
            TimeoutEdit::PoolWait(d) => t.with_pool_wait(d),
            TimeoutEdit::Deadline(d) => t.with_deadline(d),
        }
    }
}

/// Apply `edits` in order over `base`.
pub(crate) fn apply_edits(base: Timeouts, edits: &[TimeoutEdit]) -> Result<Timeouts> {
    edits
        .iter()
        .try_fold(base, |t, e| e.apply(t))
        .map_err(Error::from)
}

/// The policy for every URL that starts with a prefix, like a requests
/// adapter mounted with `session.mount("https://slow.example/", adapter)`.
///
/// Whatever a mount leaves unset comes from the session; whatever a request
/// sets for itself beats the mount. The longest matching prefix wins, and
/// matching ignores ASCII case, as in requests. The retry policy, timeouts
/// and redirect policy are chosen by the request's URL and hold across its
/// redirects (they govern one logical request, like its deadline). A mount
/// with its own [`pool`](Mount::pool) settings gets its own connections
/// (a requests adapter has its own pool manager), governed by those limits
/// on every hop whose URL it matches; `max_idle_total` stays the
/// session's.
///
/// ```
/// use std::time::Duration;
/// use hawser_core::call::{Agent, Config, Mount};
/// use hawser_core::retry::Retry;
///
/// let mut config = Config::default();
/// config.mounts.push(
///     Mount::new("https://slow.example/")
///         .retry(Retry::new(Some(8)))
///         .read_timeout(Duration::from_secs(120)),
/// );
/// config.mounts.push(Mount::new("https://slow.example/fast/").read_timeout(Duration::from_secs(2)));
/// let agent: Agent<()> = Agent::new(config)?;
///
/// let url = url::Url::parse("https://SLOW.example/fast/items")?;
/// let m = agent.mount_for(&url).expect("a mount matches");
/// assert_eq!(m.prefix(), "https://slow.example/fast/"); // the longest prefix
/// assert_eq!(agent.mount_for(&"https://other.example/".parse()?), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Mount {
    prefix: String,
    pub(crate) retry: Option<Retry>,
    pub(crate) timeouts: Vec<TimeoutEdit>,
    pub(crate) redirect: Option<RedirectPolicy>,
    pub(crate) pool: Option<PoolConfig>,
}

impl PartialEq for Mount {
    /// Mounts are compared by prefix.
    fn eq(&self, other: &Mount) -> bool {
        self.prefix == other.prefix
    }
}

impl Mount {
    /// A policy for URLs starting with `prefix` (`"https://"`,
    /// `"https://api.example/"`, `"http://h:8080/v2/"`); it changes nothing
    /// until a setting is given.
    ///
    /// ```
    /// let m = hawser_core::call::Mount::new("HTTPS://api.example/");
    /// assert_eq!(m.prefix(), "https://api.example/"); // matching ignores case
    /// ```
    pub fn new(prefix: impl Into<String>) -> Mount {
        Mount {
            prefix: prefix.into().to_ascii_lowercase(),
            retry: None,
            timeouts: Vec::new(),
            redirect: None,
            pool: None,
        }
    }

    /// The prefix, lower-cased.
    ///
    /// ```
    /// assert_eq!(hawser_core::call::Mount::new("http://").prefix(), "http://");
    /// ```
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Does this mount's prefix match `url` (ignoring ASCII case)?
    ///
    /// ```
    /// use hawser_core::call::Mount;
    /// let m = Mount::new("https://api.example/v2/");
    /// assert!(m.matches(&"https://api.example/v2/items".parse()?));
    /// assert!(!m.matches(&"https://api.example/v1/".parse()?));
    /// # Ok::<(), url::ParseError>(())
    /// ```
    pub fn matches(&self, url: &Url) -> bool {
        let s = url.as_str().as_bytes();
        let p = self.prefix.as_bytes();
        s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p)
    }

    /// The retry policy under this prefix (requests' `HTTPAdapter(max_retries=...)`).
    ///
    /// ```
    /// use hawser_core::{call::Mount, retry::Retry};
    /// let m = Mount::new("https://flaky.example/").retry(Retry::new(Some(10)));
    /// # drop(m);
    /// ```
    pub fn retry(mut self, retry: Retry) -> Mount {
        self.retry = Some(retry);
        self
    }

    /// Connect and read timeouts under this prefix (requests' `timeout=5`).
    ///
    /// ```
    /// let m = hawser_core::call::Mount::new("http://").timeout(std::time::Duration::from_secs(5));
    /// # drop(m);
    /// ```
    pub fn timeout(self, d: Duration) -> Mount {
        self.edit(TimeoutEdit::Both(d))
    }

    /// The connect timeout under this prefix.
    ///
    /// ```
    /// let m = hawser_core::call::Mount::new("http://").connect_timeout(std::time::Duration::from_secs(3));
    /// # drop(m);
    /// ```
    pub fn connect_timeout(self, d: Duration) -> Mount {
        self.edit(TimeoutEdit::Connect(d))
    }

    /// The read timeout (longest silence) under this prefix.
    ///
    /// ```
    /// let m = hawser_core::call::Mount::new("http://").read_timeout(std::time::Duration::from_secs(60));
    /// # drop(m);
    /// ```
    pub fn read_timeout(self, d: Duration) -> Mount {
        self.edit(TimeoutEdit::Read(d))
    }

    /// The write timeout (longest stall while sending) under this prefix.
    ///
    /// ```
    /// let m = hawser_core::call::Mount::new("http://").write_timeout(std::time::Duration::from_secs(60));
    /// # drop(m);
    /// ```
    pub fn write_timeout(self, d: Duration) -> Mount {
        self.edit(TimeoutEdit::Write(d))
    }

    /// How long a request under this prefix may wait for a pool slot.
    ///
    /// ```
    /// let m = hawser_core::call::Mount::new("http://").pool_wait(std::time::Duration::from_secs(1));
    /// # drop(m);
    /// ```
    pub fn pool_wait(self, d: Duration) -> Mount {
        self.edit(TimeoutEdit::PoolWait(d))
    }

    /// The overall deadline of each logical request under this prefix.
    ///
    /// ```
    /// let m = hawser_core::call::Mount::new("http://").deadline(std::time::Duration::from_secs(30));
    /// # drop(m);
    /// ```
    pub fn deadline(self, d: Duration) -> Mount {
        self.edit(TimeoutEdit::Deadline(d))
    }

    /// Every timeout at once.
    ///
    /// ```
    /// use hawser_core::{call::Mount, deadline::Timeouts};
    /// let m = Mount::new("http://").timeouts(Timeouts::from_pair_secs_f64(3.05, 27.0)?);
    /// # drop(m);
    /// # Ok::<(), hawser_core::deadline::InvalidTimeout>(())
    /// ```
    pub fn timeouts(self, t: Timeouts) -> Mount {
        self.edit(TimeoutEdit::All(t))
    }

    /// Follow at most `n` redirects under this prefix (0: none).
    ///
    /// ```
    /// let m = hawser_core::call::Mount::new("https://api.example/").max_redirects(0);
    /// # drop(m);
    /// ```
    pub fn max_redirects(mut self, n: u32) -> Mount {
        self.redirect = Some(if n == 0 {
            RedirectPolicy::none()
        } else {
            RedirectPolicy::limited(n)
        });
        self
    }

    /// Pool limits for this prefix's own connections (requests'
    /// `HTTPAdapter(pool_maxsize=..., pool_block=...)`).
    ///
    /// ```
    /// use hawser_core::{call::Mount, pool::{PoolConfig, WhenFull}};
    /// let m = Mount::new("https://slow.example/").pool(PoolConfig {
    ///     max_active_per_host: 2,
    ///     when_full: WhenFull::Wait,
    ///     ..PoolConfig::default()
    /// });
    /// # drop(m);
    /// ```
    pub fn pool(mut self, pool: PoolConfig) -> Mount {
        self.pool = Some(pool);
        self
    }

    fn edit(mut self, e: TimeoutEdit) -> Mount {
        self.timeouts.push(e);
        self
    }
}

/// A mount checked against the session: its timeouts resolved over the
/// session's, and its pool policy number.
#[derive(Clone)]
pub(crate) struct Resolved {
    pub(crate) mount: Mount,
    pub(crate) timeouts: Option<Timeouts>,
    pub(crate) pool_policy: u32,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.mount.fmt(f)
    }
}

/// Check `mounts` against the session's timeouts; longest prefix first.
/// Returns the resolved mounts and the pool policies they define (policy
/// `n` is `policies[n - 1]`).
pub(crate) fn resolve(
    mounts: &[Mount],
    base: Timeouts,
) -> Result<(Vec<Resolved>, Vec<PoolConfig>)> {
    // As requests' dict: mounting the same prefix again replaces it.
    let mut latest: Vec<&Mount> = Vec::new();
    for m in mounts.iter().rev() {
        if !latest.iter().any(|k| k.prefix == m.prefix) {
            latest.push(m);
        }
    }
    latest.sort_by_key(|m| std::cmp::Reverse(m.prefix.len()));
    let mut out = Vec::new();
    let mut policies = Vec::new();
    for m in latest {
        if m.prefix.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "a mount needs a non-empty prefix (\"http://\", \"https://host/\", ...)",
            ));
        }
        let pool_policy = match m.pool {
            Some(p) => {
                policies.push(p);
                u32::try_from(policies.len()).unwrap_or(u32::MAX)
            }
            None => 0,
        };
        out.push(Resolved {
            mount: m.clone(),
            timeouts: resolve_timeouts(m, base)?,
            pool_policy,
        });
    }
    Ok((out, policies))
}

fn resolve_timeouts(m: &Mount, base: Timeouts) -> Result<Option<Timeouts>> {
    if m.timeouts.is_empty() {
        return Ok(None);
    }
    apply_edits(base, &m.timeouts).map(Some)
}
