//! Going through an HTTP forward proxy, with and without credentials, and
//! what the proxy saw.
//!
//! requests: `proxies={"http": "http://user:pass@proxy:3128"}`. Credentials
//! in the proxy URL become `Proxy-Authorization: Basic ..`, sent to the
//! proxy only; the origin never sees them.
//!
//! Run: `cargo run -p hawser-std --example proxies`

use hawser_std::{Proxy, ProxyConfig, Session};
use hawser_testkit::{Behaviour, ProxyServer, TestServer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let origin = TestServer::builder()
        .route_prefix("/", Behaviour::Echo)
        .start()?;
    let open_proxy = ProxyServer::start(None)?;
    let locked_proxy = ProxyServer::start(Some(("scott", "tiger")))?;

    println!("== an open proxy ==");
    let session = Session::builder()
        .proxies(ProxyConfig::new().with_http(Proxy::parse(&open_proxy.url())?))
        .build()?;
    let resp = session.get(origin.url("/inventory?page=1")).send()?;
    println!("status {}", resp.status());
    show_proxy(&open_proxy);

    println!("\n== a proxy that wants credentials ==");
    let no_creds = Session::builder()
        .proxies(ProxyConfig::new().with_http(Proxy::parse(&locked_proxy.url())?))
        .build()?;
    match no_creds.get(origin.url("/inventory")).send() {
        Ok(resp) => println!(
            "without credentials: {} (Proxy-Authenticate: {})",
            resp.status(),
            resp.header("proxy-authenticate").unwrap_or("-")
        ),
        Err(e) => println!("without credentials: {:?}: {e}", e.kind()),
    }
    let with_creds = Session::builder()
        .proxies(ProxyConfig::new().with_all(Proxy::parse(&locked_proxy.url_with_credentials())?))
        .build()?;
    let resp = with_creds.get(origin.url("/inventory")).send()?;
    println!("with credentials:    {}", resp.status());
    show_proxy(&locked_proxy);

    // What reached the origin: no proxy credentials.
    let leaked = origin
        .requests()
        .iter()
        .any(|r| r.header("proxy-authorization").is_some());
    println!(
        "\norigin saw {} request(s); any Proxy-Authorization among them: {leaked}",
        origin.requests().len()
    );
    Ok(())
}

fn show_proxy(proxy: &ProxyServer) {
    println!("the proxy saw:");
    for r in proxy.records() {
        println!(
            "  {} {}  Proxy-Authorization: {}  authorized: {}",
            r.method,
            r.target,
            r.header("proxy-authorization")
                .map(|_| "present")
                .unwrap_or("absent"),
            r.authorized
        );
    }
}
