//! Where a request goes: its route (direct, forward proxy, tunnel), the
//! pool key, and the request target.

use super::*;

pub(super) fn describe_target(route: &Route) -> String {
    let (h, p) = connect_target(route);
    match route.proxy() {
        Some(_) => format!("the proxy {h}:{p}"),
        None => format!("{h}:{p}"),
    }
}

/// Where the TCP connection goes: the proxy, or the origin.
pub(super) fn connect_target(route: &Route) -> (&str, u16) {
    match route {
        Route::Direct { host, port } => (host.as_str(), *port),
        Route::Forward { proxy, .. } | Route::Tunnel { proxy, .. } => (proxy.host(), proxy.port()),
    }
}

/// The route and pool key for `url`.
pub(super) fn route_for<T>(agent: &Agent<T>, url: &Url) -> Result<(Route, PoolKey)> {
    let route = agent.config().proxies.route(url)?;
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let mut key = if url.scheme() == "https" {
        PoolKey::new(Scheme::Https, host, port)
    } else {
        PoolKey::new(Scheme::Http, host, port)
    };
    if let Some(m) = agent.resolved_mount(url) {
        key = key.with_policy(m.pool_policy);
    }
    if let Some(p) = route.proxy() {
        key = key.with_proxy(hash_str(&format!("{}:{}", p.host(), p.port())));
    }
    #[cfg(feature = "rustls")]
    if url.scheme() == "https" {
        let id = agent.config().tls.id();
        key = key.with_tls_identity(hash_bytes(id.as_bytes()));
    }
    Ok((route, key))
}

pub(super) fn hash_str(s: &str) -> u64 {
    hash_bytes(s.as_bytes())
}

/// FNV-1a: a stable, dependency-free identity for pool keys.
pub(super) fn hash_bytes(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `path?query`, the origin-form target.
pub(super) fn request_target(url: &Url) -> String {
    url[url::Position::BeforePath..url::Position::AfterQuery].to_owned()
}
