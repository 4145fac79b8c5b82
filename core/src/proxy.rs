//! Proxies: which proxy (if any) a request goes through, and how to connect.
//!
//! A [`ProxyConfig`] holds an optional proxy per target scheme (`http`,
//! `https`, and `all` as the fallback) and a [`NoProxy`] list. It is built by
//! hand or from an environment map the caller passes in
//! ([`ProxyConfig::from_env`]; the core never reads the process
//! environment). For a target URL, [`ProxyConfig::route`] answers with a
//! [`Route`]: connect directly, send an absolute-form request to an HTTP
//! proxy (http targets), or open a `CONNECT` tunnel through the proxy
//! (https targets) and run TLS inside it.
//!
//! Proxy credentials (`http://user:pass@proxy:3128`) are sent only to the
//! proxy: on the absolute-form request for http targets, and on the
//! `CONNECT` request for https targets, never inside the tunnel. The call
//! ([`crate::call`]) sends them as Basic preemptively and answers a `407`
//! with a Digest challenge once per hop ([`Proxy::credentials`] keeps the
//! decoded user and password for that). `Debug` output redacts them.
//!
//! Only `http://` proxies are supported. `https://` proxies (TLS to the
//! proxy, then maybe TLS again inside) and SOCKS are rejected with
//! [`ProxyError::UnsupportedScheme`]: a clear error beats silently sending
//! the request somewhere else.
//!
//! ```
//! use hawser_core::proxy::{ProxyConfig, Route};
//! let env = [("HTTPS_PROXY", "http://u:p@proxy.internal:3128"), ("NO_PROXY", "localhost,.corp")];
//! let config = ProxyConfig::from_env(env).unwrap();
//! let target = url::Url::parse("https://api.example.com/v1").unwrap();
//! match config.route(&target).unwrap() {
//!     Route::Tunnel { proxy, authority } => {
//!         assert_eq!((proxy.host(), proxy.port()), ("proxy.internal", 3128));
//!         assert_eq!(authority, "api.example.com:443");
//!     }
//!     other => panic!("expected a tunnel, got {other:?}"),
//! }
//! let internal = url::Url::parse("https://db.corp/").unwrap();
//! assert!(matches!(config.route(&internal).unwrap(), Route::Direct { .. }));
//! ```

use std::fmt;
use std::net::Ipv4Addr;

use base64::Engine as _;
use http::HeaderValue;
use url::{Host, Url};

/// One HTTP proxy: where it is and the Basic credentials to present to it.
///
/// ```
/// use hawser_core::proxy::Proxy;
/// let p = Proxy::parse("http://alice:s3cret@proxy.example:8080").unwrap();
/// assert_eq!(p.host(), "proxy.example");
/// assert_eq!(p.port(), 8080);
/// assert_eq!(p.authorization().unwrap(), "Basic YWxpY2U6czNjcmV0");
/// assert_eq!(p.credentials(), Some(("alice", "s3cret")));
/// assert!(!format!("{p:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    username: Option<String>,
    /// Kept (decoded) to answer a Digest `407`, which needs the password
    /// itself, not only the Basic token.
    password: Option<String>,
    authorization: Option<HeaderValue>,
}

impl Proxy {
    /// Parse a proxy URL. A value without a scheme is taken as `http://`
    /// (as requests does with `HTTP_PROXY=proxy:3128`); the port defaults to
    /// 80. Userinfo is percent-decoded and becomes Basic credentials (a user
    /// without a password is sent as `user:`).
    ///
    /// ```
    /// use hawser_core::proxy::{Proxy, ProxyError};
    /// assert_eq!(Proxy::parse("proxy.local:3128").unwrap().port(), 3128);
    /// assert!(matches!(Proxy::parse("socks5://p:1080"), Err(ProxyError::UnsupportedScheme { .. })));
    /// ```
    pub fn parse(proxy_url: &str) -> Result<Proxy, ProxyError> {
        let trimmed = proxy_url.trim();
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("http://{trimmed}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| ProxyError::InvalidUrl {
            reason: e.to_string(),
        })?;
        Proxy::from_url(&url)
    }

    /// Build from an already parsed URL (scheme must be `http`).
    ///
    /// ```
    /// use hawser_core::proxy::Proxy;
    /// let url = url::Url::parse("http://proxy.example").unwrap();
    /// assert_eq!(Proxy::from_url(&url).unwrap().port(), 80);
    /// ```
    pub fn from_url(url: &Url) -> Result<Proxy, ProxyError> {
        if url.scheme() != "http" {
            return Err(ProxyError::UnsupportedScheme {
                scheme: url.scheme().to_owned(),
            });
        }
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.to_owned(),
            _ => {
                return Err(ProxyError::InvalidUrl {
                    reason: "proxy URL has no host".to_owned(),
                });
            }
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let (username, password, authorization) = if url.username().is_empty() {
            (None, None, None)
        } else {
            let user = percent_decode(url.username());
            let pass = url.password().map(percent_decode).unwrap_or_default();
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            let mut value = HeaderValue::from_str(&format!("Basic {token}")).map_err(|_| {
                ProxyError::InvalidUrl {
                    reason: "proxy credentials do not fit in a header".to_owned(),
                }
            })?;
            // Keeps the value out of HPACK-style tables and signals "secret"
            // to any code that honours the flag.
            value.set_sensitive(true);
            (Some(user), Some(pass), Some(value))
        };
        Ok(Proxy {
            host,
            port,
            username,
            password,
            authorization,
        })
    }

    /// The proxy's host (IPv6 literals keep their brackets).
    ///
    /// ```
    /// use hawser_core::proxy::Proxy;
    /// assert_eq!(Proxy::parse("http://Proxy.Local:3128")?.host(), "proxy.local");
    /// assert_eq!(Proxy::parse("http://[::1]:3128")?.host(), "[::1]");
    /// # Ok::<(), hawser_core::proxy::ProxyError>(())
    /// ```
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    ///
    /// ```
    /// use hawser_core::proxy::Proxy;
    /// assert_eq!(Proxy::parse("http://p:8080")?.port(), 8080);
    /// assert_eq!(Proxy::parse("p")?.port(), 80);
    /// # Ok::<(), hawser_core::proxy::ProxyError>(())
    /// ```
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` of the proxy, what the driver connects to.
    ///
    /// ```
    /// use hawser_core::proxy::Proxy;
    /// assert_eq!(Proxy::parse("http://[::1]:3128").unwrap().authority(), "[::1]:3128");
    /// ```
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The `Proxy-Authorization` value for this proxy, if it has credentials.
    /// Send it to the proxy only.
    ///
    /// ```
    /// use hawser_core::proxy::Proxy;
    /// let p = Proxy::parse("http://Aladdin:open%20sesame@p:3128")?;
    /// assert_eq!(p.authorization().unwrap(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    /// assert!(Proxy::parse("http://p:3128")?.authorization().is_none());
    /// # Ok::<(), hawser_core::proxy::ProxyError>(())
    /// ```
    pub fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }

    /// The decoded `(user, password)` from the proxy URL's userinfo, if it
    /// had any (a missing password is `""`). The call uses them to answer a
    /// `407` challenge (Basic or Digest); send them to the proxy only.
    ///
    /// ```
    /// use hawser_core::proxy::Proxy;
    /// let p = Proxy::parse("http://us%40r:p%3Ass@proxy:3128").unwrap();
    /// assert_eq!(p.credentials(), Some(("us@r", "p:ss")));
    /// assert_eq!(Proxy::parse("http://proxy:3128").unwrap().credentials(), None);
    /// ```
    pub fn credentials(&self) -> Option<(&str, &str)> {
        let user = self.username.as_deref()?;
        Some((user, self.password.as_deref().unwrap_or_default()))
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// Decode `%XX` escapes in URL userinfo; invalid escapes stay literal, and
/// bytes that do not form UTF-8 are replaced (the result goes into base64
/// either way, so nothing can be injected).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |c: Option<&u8>| c.and_then(|&c| (c as char).to_digit(16));
            if let (Some(h), Some(l)) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                // h, l < 16, so the value fits a byte.
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The hosts that bypass proxies, with requests 2.34's matching rules.
///
/// Entries are comma-separated; spaces are ignored. For a target host:
/// - the whole value `*` bypasses every host (`*` inside a list, or
///   `*.example.com`, matches nothing);
/// - an IPv4 target matches an entry that is the same address, or an IPv4
///   CIDR range `a.b.c.d/m` with 1 ≤ m ≤ 32 that contains it; entries with a
///   port never match an IPv4 target;
/// - a name (or IPv6) target matches an entry equal to the host, or the host
///   ending in `.` + entry (label boundary: `example.com` matches
///   `www.example.com`, not `notexample.com`); a leading dot on the entry is
///   ignored; an entry `host:port` matches that host on that port;
///   comparison is case-insensitive;
/// - like Python's standard library, a name entry also matches the end of a
///   dotted IPv4 target at a label boundary (`1.5` matches `192.168.1.5`).
///
/// Two differences from requests, both forced or chosen: `url::Url` forgets
/// an explicit default port, so `example.com:80` matches
/// `http://example.com/` as well as `http://example.com:80/` (requests only
/// the latter); IPv6 CIDR ranges and bracketed `[::1]` entries do not match,
/// as measured in requests.
///
/// ```
/// use hawser_core::proxy::NoProxy;
/// let np = NoProxy::parse("example.com, .corp, 10.0.0.0/8, ::1");
/// let m = |s: &str| np.matches(&url::Url::parse(s).unwrap());
/// assert!(m("http://www.example.com/"));
/// assert!(!m("http://notexample.com/"));
/// assert!(m("https://db.corp/"));
/// assert!(m("http://10.1.2.3/"));
/// assert!(m("http://[::1]:8080/"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    raw: String,
    entries: Vec<String>,
}

impl NoProxy {
    /// Parse a `NO_PROXY` value.
    ///
    /// ```
    /// use hawser_core::proxy::NoProxy;
    /// assert!(NoProxy::parse("").is_empty());
    /// assert!(!NoProxy::parse("*").is_empty());
    /// ```
    pub fn parse(value: &str) -> NoProxy {
        let compact: String = value.chars().filter(|c| *c != ' ').collect();
        let entries = compact
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
        NoProxy {
            raw: value.to_owned(),
            entries,
        }
    }

    /// True when nothing is bypassed.
    ///
    /// ```
    /// use hawser_core::proxy::NoProxy;
    /// assert!(NoProxy::parse(" , ").is_empty());
    /// assert!(!NoProxy::parse("localhost").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.raw != "*"
    }

    /// Does `url` bypass the proxy? A URL without a host always does.
    ///
    /// ```
    /// use hawser_core::proxy::NoProxy;
    /// let np = NoProxy::parse("internal.example,192.168.0.0/16");
    /// let bypass = |s: &str| np.matches(&url::Url::parse(s).unwrap());
    /// assert!(bypass("http://api.internal.example/") && bypass("http://192.168.4.2/"));
    /// assert!(!bypass("http://example.com/") && !bypass("http://10.0.0.1/"));
    /// assert!(NoProxy::parse("*").matches(&url::Url::parse("http://any.where/").unwrap()));
    /// ```
    pub fn matches(&self, url: &Url) -> bool {
        let Some(host) = url.host() else {
            return true;
        };
        // requests' own check (2.34, label-boundary rule).
        match host {
            Host::Ipv4(addr) => {
                let host_str = addr.to_string();
                for entry in &self.entries {
                    match parse_cidr(entry) {
                        Some((net, mask)) => {
                            if in_network(addr, net, mask) {
                                return true;
                            }
                        }
                        None => {
                            if *entry == host_str {
                                return true;
                            }
                        }
                    }
                }
            }
            Host::Domain(_) | Host::Ipv6(_) => {
                let hostname = hostname(&host);
                let with_port = url
                    .port_or_known_default()
                    .map(|p| format!("{hostname}:{p}"));
                for entry in &self.entries {
                    let entry = entry.trim_start_matches('.');
                    if entry.is_empty() {
                        continue;
                    }
                    if label_suffix(&hostname, entry)
                        || with_port
                            .as_deref()
                            .is_some_and(|hp| label_suffix(hp, entry))
                    {
                        return true;
                    }
                }
            }
        }
        // The standard library's fallback check, which requests also runs:
        // the whole value `*`, or a case-insensitive label-boundary suffix of
        // the host name without port.
        if self.raw == "*" {
            return true;
        }
        let hostname = hostname(&host).to_ascii_lowercase();
        self.raw
            .split(',')
            .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
            .filter(|e| !e.is_empty())
            .any(|e| label_suffix(&hostname, &e))
    }
}

/// The host as Python's `urlparse().hostname` gives it: lower-case, IPv6
/// without brackets.
fn hostname(host: &Host<&str>) -> String {
    match host {
        Host::Domain(d) => d.to_ascii_lowercase(),
        Host::Ipv4(a) => a.to_string(),
        Host::Ipv6(a) => a.to_string(),
    }
}

/// `host == entry` or `host` ends with `.entry`.
fn label_suffix(host: &str, entry: &str) -> bool {
    if host.eq_ignore_ascii_case(entry) {
        return true;
    }
    host.len() > entry.len()
        && host
            .get(host.len() - entry.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(entry))
        && host.as_bytes().get(host.len() - entry.len() - 1) == Some(&b'.')
}

/// requests' `is_valid_cidr`: `a.b.c.d/m` with 1 ≤ m ≤ 32. Hand-written
/// because it is eight lines; a CIDR crate would be a dependency for this.
fn parse_cidr(entry: &str) -> Option<(Ipv4Addr, u32)> {
    let (addr, mask) = entry.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    let mask: u32 = mask.parse().ok()?;
    (1..=32).contains(&mask).then_some((addr, mask))
}

fn in_network(addr: Ipv4Addr, net: Ipv4Addr, mask: u32) -> bool {
    let bits = u32::MAX.checked_shl(32 - mask).unwrap_or(0);
    u32::from(addr) & bits == u32::from(net) & bits
}

/// Which proxy each target scheme uses, and which hosts bypass them.
///
/// Lookup for a target: the proxy for its scheme, else the `all` proxy,
/// unless the [`NoProxy`] list matches the target. (requests applies
/// `NO_PROXY` only to proxies that came from the environment; here the list
/// belongs to the config, so a config built by hand can use one too. Leave
/// it empty to get requests' behaviour for explicit proxies.)
///
/// ```
/// use hawser_core::proxy::{NoProxy, Proxy, ProxyConfig};
/// let config = ProxyConfig::new()
///     .with_http(Proxy::parse("http://p1:3128").unwrap())
///     .with_all(Proxy::parse("http://p2:3128").unwrap())
///     .with_no_proxy(NoProxy::parse("internal.example"));
/// let pick = |s: &str| config.proxy_for(&url::Url::parse(s).unwrap()).map(|p| p.host().to_owned());
/// assert_eq!(pick("http://a.example/").as_deref(), Some("p1"));
/// assert_eq!(pick("https://a.example/").as_deref(), Some("p2"));
/// assert_eq!(pick("http://internal.example/"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    http: Option<Proxy>,
    https: Option<Proxy>,
    all: Option<Proxy>,
    no_proxy: NoProxy,
}

impl ProxyConfig {
    /// No proxies at all: every route is direct.
    ///
    /// ```
    /// use hawser_core::proxy::ProxyConfig;
    /// let url = url::Url::parse("http://a.example/").unwrap();
    /// assert!(ProxyConfig::new().proxy_for(&url).is_none());
    /// ```
    pub fn new() -> Self {
        ProxyConfig::default()
    }

    /// Use `proxy` for `http://` targets.
    ///
    /// ```
    /// use hawser_core::proxy::{Proxy, ProxyConfig};
    /// let cfg = ProxyConfig::new().with_http(Proxy::parse("p:3128")?);
    /// assert_eq!(cfg.proxy_for(&url::Url::parse("http://a.example/").unwrap()).unwrap().port(), 3128);
    /// assert!(cfg.proxy_for(&url::Url::parse("https://a.example/").unwrap()).is_none());
    /// # Ok::<(), hawser_core::proxy::ProxyError>(())
    /// ```
    pub fn with_http(mut self, proxy: Proxy) -> Self {
        self.http = Some(proxy);
        self
    }

    /// Use `proxy` for `https://` targets (through a `CONNECT` tunnel).
    ///
    /// ```
    /// use hawser_core::proxy::{Proxy, ProxyConfig};
    /// let cfg = ProxyConfig::new().with_https(Proxy::parse("tls-proxy:8443")?);
    /// assert_eq!(cfg.proxy_for(&url::Url::parse("https://a.example/").unwrap()).unwrap().host(), "tls-proxy");
    /// assert!(cfg.proxy_for(&url::Url::parse("http://a.example/").unwrap()).is_none());
    /// # Ok::<(), hawser_core::proxy::ProxyError>(())
    /// ```
    pub fn with_https(mut self, proxy: Proxy) -> Self {
        self.https = Some(proxy);
        self
    }

    /// Use `proxy` for targets whose scheme has no proxy of its own.
    ///
    /// ```
    /// use hawser_core::proxy::{Proxy, ProxyConfig};
    /// let cfg = ProxyConfig::new().with_all(Proxy::parse("any:1")?).with_http(Proxy::parse("web:2")?);
    /// let port = |s: &str| cfg.proxy_for(&url::Url::parse(s).unwrap()).map(|p| p.port());
    /// assert_eq!((port("http://a.example/"), port("https://a.example/")), (Some(2), Some(1)));
    /// # Ok::<(), hawser_core::proxy::ProxyError>(())
    /// ```
    pub fn with_all(mut self, proxy: Proxy) -> Self {
        self.all = Some(proxy);
        self
    }

    /// Hosts that bypass the proxies.
    ///
    /// ```
    /// use hawser_core::proxy::{NoProxy, Proxy, ProxyConfig};
    /// let cfg = ProxyConfig::new().with_all(Proxy::parse("p:3128")?).with_no_proxy(NoProxy::parse("localhost"));
    /// assert!(cfg.proxy_for(&url::Url::parse("http://localhost:8080/").unwrap()).is_none());
    /// assert!(cfg.proxy_for(&url::Url::parse("http://a.example/").unwrap()).is_some());
    /// # Ok::<(), hawser_core::proxy::ProxyError>(())
    /// ```
    pub fn with_no_proxy(mut self, no_proxy: NoProxy) -> Self {
        self.no_proxy = no_proxy;
        self
    }

    /// The bypass list in force.
    ///
    /// ```
    /// use hawser_core::proxy::{NoProxy, ProxyConfig};
    /// assert!(ProxyConfig::new().no_proxy().is_empty());
    /// let cfg = ProxyConfig::new().with_no_proxy(NoProxy::parse(".corp"));
    /// assert!(cfg.no_proxy().matches(&url::Url::parse("http://db.corp/").unwrap()));
    /// ```
    pub fn no_proxy(&self) -> &NoProxy {
        &self.no_proxy
    }

    /// Build from environment variables the caller passes in, with the rules
    /// requests inherits from Python's `urllib.request`:
    ///
    /// - `http_proxy`, `https_proxy`, `all_proxy` in any case; the lower-case
    ///   spelling wins over the upper-case one, and a lower-case variable set
    ///   to the empty string removes the entry even if the upper-case one is
    ///   set; empty values are ignored otherwise;
    /// - when `REQUEST_METHOD` is present (a CGI script, where `HTTP_PROXY`
    ///   can come from a client's `Proxy:` header, "httpoxy"), the
    ///   non-lower-case `HTTP_PROXY` is ignored;
    /// - `no_proxy` if non-empty, else `NO_PROXY`.
    ///
    /// Other `*_proxy` variables (ftp, ...) are ignored. A proxy value that
    /// is not a valid http proxy URL is an error naming the variable.
    ///
    /// ```
    /// use hawser_core::proxy::ProxyConfig;
    /// let cfg = ProxyConfig::from_env([("HTTP_PROXY", "http://upper:1"), ("http_proxy", "http://lower:2")]).unwrap();
    /// let url = url::Url::parse("http://a.example/").unwrap();
    /// assert_eq!(cfg.proxy_for(&url).unwrap().host(), "lower");
    /// ```
    pub fn from_env<K, V>(env: impl IntoIterator<Item = (K, V)>) -> Result<Self, ProxyError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let env: Vec<(K, V)> = env.into_iter().collect();
        // (scheme, value, variable name) as Python's two-pass algorithm
        // leaves them.
        let mut found: Vec<(String, String, String)> = Vec::new();
        let set = |found: &mut Vec<(String, String, String)>, key: String, val: &str, var: &str| {
            found.retain(|(k, _, _)| *k != key);
            found.push((key, val.to_owned(), var.to_owned()));
        };
        for (name, value) in &env {
            let lower = name.as_ref().to_ascii_lowercase();
            if let Some(prefix) = lower.strip_suffix("_proxy")
                && !value.as_ref().is_empty()
            {
                set(&mut found, prefix.to_owned(), value.as_ref(), name.as_ref());
            }
        }
        if env.iter().any(|(n, _)| n.as_ref() == "REQUEST_METHOD") {
            found.retain(|(k, _, _)| k != "http");
        }
        for (name, value) in &env {
            let name = name.as_ref();
            if let Some(prefix) = name.strip_suffix("_proxy") {
                let prefix = prefix.to_ascii_lowercase();
                if value.as_ref().is_empty() {
                    found.retain(|(k, _, _)| *k != prefix);
                } else {
                    set(&mut found, prefix, value.as_ref(), name);
                }
            }
        }

        let mut config = ProxyConfig::new();
        for (key, value, var) in &found {
            let slot = match key.as_str() {
                "http" => &mut config.http,
                "https" => &mut config.https,
                "all" => &mut config.all,
                _ => continue,
            };
            let proxy = Proxy::parse(value).map_err(|e| ProxyError::InvalidEnv {
                variable: var.clone(),
                source: Box::new(e),
            })?;
            *slot = Some(proxy);
        }
        let get = |wanted: &str| {
            env.iter()
                .find(|(n, v)| n.as_ref() == wanted && !v.as_ref().is_empty())
                .map(|(_, v)| v.as_ref().to_owned())
        };
        if let Some(no) = get("no_proxy").or_else(|| get("NO_PROXY")) {
            config.no_proxy = NoProxy::parse(&no);
        }
        Ok(config)
    }

    /// The proxy `url` should use, or `None` for a direct connection.
    ///
    /// ```
    /// use hawser_core::proxy::{NoProxy, Proxy, ProxyConfig};
    /// let cfg = ProxyConfig::new().with_http(Proxy::parse("p:3128")?).with_no_proxy(NoProxy::parse("10.0.0.0/8"));
    /// let via = |s: &str| cfg.proxy_for(&url::Url::parse(s).unwrap()).map(|p| p.authority());
    /// assert_eq!(via("http://a.example/"), Some("p:3128".to_owned()));
    /// assert_eq!(via("http://10.2.3.4/"), None); // bypassed
    /// # Ok::<(), hawser_core::proxy::ProxyError>(())
    /// ```
    pub fn proxy_for(&self, url: &Url) -> Option<&Proxy> {
        let by_scheme = match url.scheme() {
            "http" => self.http.as_ref(),
            "https" => self.https.as_ref(),
            _ => None,
        };
        let proxy = by_scheme.or(self.all.as_ref())?;
        if self.no_proxy.matches(url) {
            return None;
        }
        Some(proxy)
    }

    /// How to reach `url`: directly, through an HTTP proxy with an
    /// absolute-form request (http targets), or through a `CONNECT` tunnel
    /// (https targets).
    ///
    /// ```
    /// use hawser_core::proxy::{Proxy, ProxyConfig, Route};
    /// let cfg = ProxyConfig::new().with_all(Proxy::parse("http://u:p@proxy:3128").unwrap());
    /// let url = url::Url::parse("http://user:pw@a.example/x?q#frag").unwrap();
    /// let Route::Forward { proxy, target } = cfg.route(&url).unwrap() else { panic!() };
    /// assert_eq!(target, "http://a.example/x?q");
    /// assert!(proxy.authorization().is_some());
    /// ```
    pub fn route(&self, url: &Url) -> Result<Route, ProxyError> {
        let default_port = match url.scheme() {
            "http" => 80,
            "https" => 443,
            other => {
                return Err(ProxyError::UnsupportedTarget {
                    scheme: other.to_owned(),
                });
            }
        };
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.to_owned(),
            _ => {
                return Err(ProxyError::UnsupportedTarget {
                    scheme: url.scheme().to_owned(),
                });
            }
        };
        let port = url.port().unwrap_or(default_port);
        let Some(proxy) = self.proxy_for(url) else {
            return Ok(Route::Direct { host, port });
        };
        if url.scheme() == "https" {
            return Ok(Route::Tunnel {
                proxy: proxy.clone(),
                authority: format!("{host}:{port}"),
            });
        }
        // Absolute-form target: the URL minus userinfo and fragment (the
        // origin's credentials must not reach the proxy, and fragments are
        // never sent).
        let mut target = url.clone();
        // Setting userinfo to empty on an http URL cannot fail (it has a host).
        let _ = target.set_username("");
        let _ = target.set_password(None);
        target.set_fragment(None);
        Ok(Route::Forward {
            proxy: proxy.clone(),
            target: target.into(),
        })
    }
}

/// How the driver reaches the origin for one request.
///
/// ```
/// use hawser_core::proxy::{ProxyConfig, Route};
/// let url = url::Url::parse("https://a.example:8443/").unwrap();
/// assert_eq!(
///     ProxyConfig::new().route(&url).unwrap(),
///     Route::Direct { host: "a.example".into(), port: 8443 }
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Connect to the origin itself.
    Direct {
        /// Origin host (IPv6 in brackets).
        host: String,
        /// Origin port.
        port: u16,
    },
    /// Connect to the proxy and send the request with `target` as the
    /// request-target (absolute-form), adding the proxy's
    /// `Proxy-Authorization` if it has one.
    Forward {
        /// The proxy to connect to.
        proxy: Proxy,
        /// The absolute-form request target (no userinfo, no fragment).
        target: String,
    },
    /// Connect to the proxy, send a `CONNECT` for `authority` (as
    /// [`Route::connect_request`] writes it, or with a Digest
    /// `Proxy-Authorization` after a `407`), expect a 2xx, then run TLS with
    /// the origin inside the tunnel. The proxy's credentials go on the
    /// `CONNECT` only, never inside the tunnel.
    Tunnel {
        /// The proxy to connect to.
        proxy: Proxy,
        /// `host:port` of the origin, the `CONNECT` target.
        authority: String,
    },
}

impl Route {
    /// The proxy on this route, if any.
    ///
    /// ```
    /// use hawser_core::proxy::{ProxyConfig, Route};
    /// let url = url::Url::parse("http://a.example/").unwrap();
    /// assert!(ProxyConfig::new().route(&url).unwrap().proxy().is_none());
    /// ```
    pub fn proxy(&self) -> Option<&Proxy> {
        match self {
            Route::Direct { .. } => None,
            Route::Forward { proxy, .. } | Route::Tunnel { proxy, .. } => Some(proxy),
        }
    }

    /// The `Proxy-Authorization` value to put on the origin request itself:
    /// only for [`Route::Forward`] (the proxy reads the request). For a
    /// tunnel it is `None`: the credentials belong on the `CONNECT`.
    ///
    /// ```
    /// use hawser_core::proxy::{Proxy, ProxyConfig};
    /// let cfg = ProxyConfig::new().with_all(Proxy::parse("http://u:p@proxy:3128").unwrap());
    /// let http = url::Url::parse("http://a.example/").unwrap();
    /// let https = url::Url::parse("https://a.example/").unwrap();
    /// assert!(cfg.route(&http).unwrap().request_proxy_authorization().is_some());
    /// assert!(cfg.route(&https).unwrap().request_proxy_authorization().is_none());
    /// ```
    pub fn request_proxy_authorization(&self) -> Option<&HeaderValue> {
        match self {
            Route::Forward { proxy, .. } => proxy.authorization(),
            _ => None,
        }
    }

    /// For a tunnel, the bytes of the `CONNECT` request head (with the
    /// proxy's Basic credentials if any); `None` for other routes. The call
    /// writes its own head (it may have to answer a Digest `407`); this is
    /// the preemptive form, for drivers that open tunnels themselves.
    ///
    /// ```
    /// use hawser_core::proxy::{Proxy, ProxyConfig};
    /// let cfg = ProxyConfig::new().with_https(Proxy::parse("http://proxy:3128").unwrap());
    /// let url = url::Url::parse("https://a.example/").unwrap();
    /// let head = cfg.route(&url).unwrap().connect_request().unwrap();
    /// assert_eq!(head, b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n");
    /// ```
    pub fn connect_request(&self) -> Option<Vec<u8>> {
        let Route::Tunnel { proxy, authority } = self else {
            return None;
        };
        let mut head =
            format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
        if let Some(auth) = proxy.authorization() {
            head.extend_from_slice(b"Proxy-Authorization: ");
            head.extend_from_slice(auth.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        Some(head)
    }
}

/// Why a proxy setting or route is unusable.
///
/// ```
/// use hawser_core::proxy::ProxyError;
/// let e: hawser_core::Error = ProxyError::UnsupportedScheme { scheme: "https".into() }.into();
/// assert_eq!(e.kind(), hawser_core::ErrorKind::InvalidRequest);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL could not be parsed or has no host.
    InvalidUrl {
        /// Why.
        reason: String,
    },
    /// Only `http://` proxies are supported.
    UnsupportedScheme {
        /// The scheme given.
        scheme: String,
    },
    /// An environment variable held an unusable proxy.
    InvalidEnv {
        /// The variable's name.
        variable: String,
        /// What was wrong with its value.
        source: Box<ProxyError>,
    },
    /// The target URL is not http(s) or has no host.
    UnsupportedTarget {
        /// The target's scheme.
        scheme: String,
    },
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::InvalidUrl { reason } => write!(f, "invalid proxy URL: {reason}"),
            ProxyError::UnsupportedScheme { scheme } => write!(
                f,
                "unsupported proxy scheme {scheme:?}: only http:// proxies are supported"
            ),
            ProxyError::InvalidEnv { variable, source } => {
                write!(f, "environment variable {variable}: {source}")
            }
            ProxyError::UnsupportedTarget { scheme } => {
                write!(
                    f,
                    "cannot route a {scheme:?} URL without a host through hawser"
                )
            }
        }
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProxyError::InvalidEnv { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

impl From<ProxyError> for crate::Error {
    fn from(e: ProxyError) -> Self {
        // Every variant is a configuration problem on the caller's side.
        crate::Error::new(crate::ErrorKind::InvalidRequest, e.to_string()).with_source(e)
    }
}
