//! The little a driver needs from an async runtime: resolve, connect, sleep.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};

/// An async runtime's sockets and timer, as the hawser driver uses them.
///
/// [`Smol`] is the implementation on smol's `async-net` and `async-io`;
/// `hawser-async-std` supplies one on async-std. Everything else (the run
/// loop, the pool, the response body) is shared, so backends on different
/// runtimes behave identically.
///
/// ```
/// use std::net::SocketAddr;
/// use std::time::Instant;
/// use hawser_smol::runtime::{Runtime, Smol};
///
/// smol::block_on(async {
///     let addrs = Smol::resolve("127.0.0.1".into(), 8080).await?;
///     assert_eq!(addrs, vec!["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]);
///     Smol::sleep_until(Instant::now()).await; // already due: returns at once
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait Runtime: Send + Sync + 'static {
    /// A connected TCP stream.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Resolve `host` (a name or an IP literal) and `port` to addresses.
    fn resolve(host: String, port: u16)
        -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send;

    /// Open a TCP connection to `addr` (with `TCP_NODELAY`: the core hands
    /// out whole heads and body pieces, so Nagle only adds latency).
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Complete at `deadline` (at once if it has passed).
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send;
}

/// The smol runtime: `async_net::TcpStream` and `async_io::Timer`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Smol;

impl Runtime for Smol {
    type Stream = async_net::TcpStream;

    async fn resolve(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
        // An IP literal needs no trip to the resolver's thread pool.
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        async_net::resolve((host, port)).await
    }

    async fn connect(addr: SocketAddr) -> io::Result<async_net::TcpStream> {
        let s = async_net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }

    async fn sleep_until(deadline: Instant) {
        async_io::Timer::at(deadline).await;
    }
}
