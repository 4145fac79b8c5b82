//! A listener that never accepts, so a connect to it hangs until the
//! client's connect timeout fires.
//!
//! How: a listener with a backlog of 0 on 127.0.0.1 whose accept queue is
//! filled by our own connections. When the queue is full, Linux drops
//! further SYNs (it does not answer with RST), so the next client's
//! `connect` waits for SYN retransmissions: it times out. `BlackHole::start`
//! checks this itself and fails if the kernel does not behave that way.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// A loopback address whose connects time out.
///
/// ```no_run
/// use std::time::Duration;
/// let hole = hawser_testkit::BlackHole::start().unwrap();
/// let err = std::net::TcpStream::connect_timeout(&hole.addr(), Duration::from_millis(100)).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// ```
pub struct BlackHole {
    _listener: Socket,
    _fillers: Vec<Socket>,
    addr: SocketAddr,
}

impl std::fmt::Debug for BlackHole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlackHole")
            .field("addr", &self.addr)
            .finish()
    }
}

impl BlackHole {
    /// Binds, fills the accept queue, and verifies that a further connect
    /// times out (within 150 ms).
    pub fn start() -> io::Result<BlackHole> {
        let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        listener.bind(&SockAddr::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)))?;
        listener.listen(0)?;
        let addr = listener
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("no socket address"))?;
        let mut fillers = Vec::new();
        // Each filler completes a handshake into the queue until it is full;
        // the first one that does not complete proves SYNs are dropped.
        for _ in 0..64 {
            let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
            match s.connect_timeout(&SockAddr::from(addr), Duration::from_millis(150)) {
                Ok(()) => fillers.push(s),
                Err(e)
                    if e.kind() == io::ErrorKind::TimedOut
                        || e.kind() == io::ErrorKind::WouldBlock =>
                {
                    return Ok(BlackHole {
                        _listener: listener,
                        _fillers: fillers,
                        addr,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other(
            "accept queue never filled: this kernel does not drop SYNs on a full backlog",
        ))
    }

    /// The address whose connects hang.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Tries one connect with `timeout`; true if it timed out (a check for
    /// self-tests).
    pub fn connect_times_out(&self, timeout: Duration) -> bool {
        matches!(
            TcpStream::connect_timeout(&self.addr, timeout),
            Err(e) if e.kind() == io::ErrorKind::TimedOut
        )
    }
}
