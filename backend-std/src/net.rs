//! What blocking std sockets need beyond `std::net` to do what the core
//! asks (the counterpart of an async runtime's glue): a name lookup bounded
//! by a deadline, non-blocking connects raced with `poll(2)`, a one-syscall
//! liveness peek, and socket timeouts set lazily.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::OwnedFd;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use hawser_core::call::Input;
use rustix::net::{AddressFamily, RecvFlags, SocketFlags, SocketType};

/// A pooled connection of a blocking session: a TCP socket with the
/// timeouts last set on it. The core keeps it in the session's pool.
#[derive(Debug)]
pub struct Connection {
    sock: TcpStream,
    /// The socket timeouts now set: (read, write).
    set: [Option<Duration>; 2],
}

impl Connection {
    /// Write (some of) `data`, bounded by `until` (`now` is the driver's
    /// clock reading of this step).
    pub(crate) fn write(&mut self, data: &[u8], until: Instant, now: Instant) -> io::Result<usize> {
        self.bound(1, until, now)?;
        self.sock.write(data)
    }

    /// Write (some of) `bufs[0]` then `bufs[1]` in one `writev`, bounded by
    /// `until`.
    pub(crate) fn write_vectored(
        &mut self,
        bufs: [&[u8]; 2],
        until: Instant,
        now: Instant,
    ) -> io::Result<usize> {
        self.bound(1, until, now)?;
        self.sock
            .write_vectored(&[io::IoSlice::new(bufs[0]), io::IoSlice::new(bufs[1])])
    }

    /// Read into `buf`, bounded by `until`.
    pub(crate) fn read(
        &mut self,
        buf: &mut [u8],
        until: Instant,
        now: Instant,
    ) -> io::Result<usize> {
        self.bound(0, until, now)?;
        self.sock.read(buf)
    }

    /// Is the idle socket still quiet? See [`peek`].
    pub(crate) fn peek(&self) -> io::Result<usize> {
        peek(&self.sock)
    }

    /// Make the socket's read (`which` 0) or write (1) timeout no longer
    /// than what is left until `until`. It is set lazily to 3/4 of what is
    /// left, so a keep-alive exchange rarely needs a `setsockopt`; a read
    /// that times out early is a no-op timeout the core asks again after.
    fn bound(&mut self, which: usize, until: Instant, now: Instant) -> io::Result<()> {
        let left = until.saturating_duration_since(now);
        if left < Duration::from_millis(1) {
            return Err(io::ErrorKind::TimedOut.into());
        }
        if self.set[which].is_none_or(|t| t > left) {
            let t = (left * 3 / 4).max(Duration::from_millis(1));
            match which {
                0 => self.sock.set_read_timeout(Some(t))?,
                _ => self.sock.set_write_timeout(Some(t))?,
            }
            self.set[which] = Some(t);
        }
        Ok(())
    }
}

/// `recv(MSG_PEEK | MSG_DONTWAIT)`: is an idle socket still quiet? One syscall.
fn peek(sock: &TcpStream) -> io::Result<usize> {
    let flags = RecvFlags::PEEK | RecvFlags::DONTWAIT;
    let r = rustix::net::recv(sock, &mut [0u8; 1], flags);
    r.map(|(n, _)| n).map_err(io::Error::from)
}

/// Start a non-blocking connect to `addr`.
pub(crate) fn start_connect(addr: SocketAddr) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv6() {
        AddressFamily::INET6
    } else {
        AddressFamily::INET
    };
    let fd = rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?;
    match rustix::net::connect(&fd, &addr) {
        Ok(()) | Err(rustix::io::Errno::INPROGRESS) => Ok(fd),
        Err(e) => Err(e.into()),
    }
}

/// The attempt on `fd` ended: its error, or the socket made blocking, with
/// `TCP_NODELAY` (the core hands out whole heads and body pieces, so Nagle
/// only adds latency).
pub(crate) fn connected(fd: OwnedFd) -> io::Result<Connection> {
    rustix::net::sockopt::socket_error(&fd)??;
    let sock = TcpStream::from(fd);
    sock.set_nonblocking(false)?;
    sock.set_nodelay(true)?;
    let set = [None; 2];
    Ok(Connection { sock, set })
}

/// Resolve `host` by `until`. The system resolver has no timeout of its
/// own, so the lookup runs on a short-lived thread that is abandoned if late.
pub(crate) fn resolve(host: &str, port: u16, until: Instant) -> Input<'static, Connection> {
    let (tx, rx) = mpsc::channel();
    let name = host.to_owned();
    let spawned = thread::Builder::new()
        .name("hawser-dns".into())
        .spawn(move || {
            let _ = tx.send((name.as_str(), port).to_socket_addrs().map(Vec::from_iter));
        });
    if let Err(e) = spawned {
        return Input::Failed(e);
    }
    match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
        Ok(Ok(addrs)) => Input::Resolved(addrs),
        Ok(Err(e)) => Input::Failed(e),
        Err(_) => Input::Timeout,
    }
}
