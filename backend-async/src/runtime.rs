//! The little the async driver needs from a runtime: resolve, connect,
//! sleep, poll a read or a write, and peek without blocking.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Instant;

/// An async runtime's sockets and timer, as the hawser driver uses them
/// (the shape of quinn's `Runtime`). Everything else, the run loop, the
/// response body, and (in `hawser-core`) the pool and every policy, is
/// shared, so sessions on different runtimes behave identically.
///
/// `hawser-smol`, `hawser-async-std` and `hawser-tokio` each implement it
/// in about a hundred lines. A sketch of an implementation over a made-up
/// runtime whose streams never connect:
///
/// ```
/// use std::future::Future;
/// use std::io;
/// use std::net::SocketAddr;
/// use std::task::{Context, Poll};
/// use std::time::Instant;
/// use hawser_async::Runtime;
///
/// struct Offline;
/// struct NoStream;
///
/// impl Runtime for Offline {
///     type Stream = NoStream;
///     async fn resolve(_host: String, _port: u16) -> io::Result<Vec<SocketAddr>> {
///         Err(io::ErrorKind::NotFound.into())
///     }
///     async fn connect(_addr: SocketAddr) -> io::Result<NoStream> {
///         Err(io::ErrorKind::ConnectionRefused.into())
///     }
///     fn sleep_until(_at: Instant) -> impl Future<Output = ()> + Send {
///         std::future::ready(())
///     }
///     fn poll_read(_: &mut NoStream, _: &mut Context<'_>, _: &mut [u8]) -> Poll<io::Result<usize>> {
///         Poll::Ready(Ok(0))
///     }
///     fn poll_write(_: &mut NoStream, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
///         Poll::Ready(Err(io::ErrorKind::NotConnected.into()))
///     }
///     fn peek(_: &NoStream) -> io::Result<usize> {
///         Ok(0)
///     }
/// }
///
/// let session: hawser_async::Session<Offline> = hawser_async::Session::new();
/// # drop(session);
/// ```
pub trait Runtime: Send + Sync + 'static {
    /// A connected TCP stream.
    type Stream: Send + Unpin + 'static;

    /// Resolve a DNS name (IP literals never get here) with `port`.
    fn resolve(host: String, port: u16)
    -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send;

    /// Open a TCP connection to `addr`, with `TCP_NODELAY` (the core hands
    /// out whole heads and body pieces, so Nagle only adds latency).
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Complete at `at` (at once if it has passed).
    fn sleep_until(at: Instant) -> impl Future<Output = ()> + Send;

    /// Poll one read into `buf`.
    fn poll_read(
        stream: &mut Self::Stream,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;

    /// Poll one write of (some of) `buf`.
    fn poll_write(
        stream: &mut Self::Stream,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>;

    /// Poll one vectored write of (some of) `bufs`, in order. The default
    /// writes the first non-empty buffer with [`poll_write`](Self::poll_write);
    /// a stream with `writev` should override it, so a request head and
    /// its body leave in one syscall.
    fn poll_write_vectored(
        stream: &mut Self::Stream,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        Self::poll_write(stream, cx, first)
    }

    /// Peek at an idle stream without blocking and without registering
    /// anything: `Err(WouldBlock)` when nothing waits, `Ok(0)` at EOF,
    /// `Ok(n)` when bytes wait. [`peek_fd`] does it in one syscall on Unix.
    fn peek(stream: &Self::Stream) -> io::Result<usize>;
}

/// `recv(MSG_PEEK | MSG_DONTWAIT)` of one byte: the one-syscall liveness
/// check behind [`Runtime::peek`] on Unix.
///
/// ```
/// use std::io::Write;
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let client = std::net::TcpStream::connect(listener.local_addr()?)?;
/// let (mut server, _) = listener.accept()?;
/// assert_eq!(hawser_async::peek_fd(&client).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
/// server.write_all(b"x")?;
/// server.flush()?;
/// std::thread::sleep(std::time::Duration::from_millis(50));
/// assert_eq!(hawser_async::peek_fd(&client)?, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(unix)]
pub fn peek_fd(fd: impl std::os::fd::AsFd) -> io::Result<usize> {
    use rustix::net::RecvFlags;
    rustix::net::recv(fd, &mut [0u8; 1], RecvFlags::PEEK | RecvFlags::DONTWAIT)
        .map(|(n, _)| n)
        .map_err(io::Error::from)
}
