//! The run loop: performs the core's [`Output`]s with blocking std sockets
//! and answers with [`Input`]s. It decides nothing: the pool, reuse, every
//! timer and every retry are the core's; this file only does the I/O.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::OwnedFd;
use std::sync::{mpsc, Arc};
use std::task::{Context, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use hawser_core::call::{Call, ConnectId, Head, Input, Output};
use hawser_core::{Error, ErrorKind, Result};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::net::{AddressFamily, RecvFlags, SocketFlags, SocketType};

/// A pooled connection of a blocking session: a TCP socket with the
/// timeouts last set on it. The core keeps it in the session's pool.
#[derive(Debug)]
pub struct Connection {
    sock: TcpStream,
    /// The socket timeouts now set: (read, write).
    set: [Option<Duration>; 2],
}

/// What one run of the loop stopped at.
pub(crate) enum Pumped {
    Head(Box<Head>),
    Body(usize),
    Done,
}

/// Wakes this thread when the pool grants it a slot.
struct Unpark(Thread);
impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A call's driver: its streamed body and the connection attempts under way.
pub(crate) struct Driver {
    body: Option<Box<dyn Read + Send>>,
    scratch: Vec<u8>,
    racing: Vec<(ConnectId, OwnedFd)>,
}

impl Driver {
    pub(crate) fn new(body: Option<Box<dyn Read + Send>>) -> Driver {
        let (scratch, racing) = (Vec::new(), Vec::new());
        Driver {
            body,
            scratch,
            racing,
        }
    }

    /// Run `call` until a head, body bytes (copied into `out`), or the end.
    pub(crate) fn pump(
        &mut self,
        call: &mut Call<Connection>,
        mut out: Option<&mut [u8]>,
    ) -> Result<Pumped> {
        loop {
            let output = call.poll_output(Instant::now())?;
            if !matches!(output, Output::Connect { .. } | Output::AwaitConnect { .. }) {
                self.racing.clear(); // the race is over: the losers are closed
            }
            let input = match output {
                Output::Resolve { host, port, until } => resolve(host, port, until),
                Output::Connect { id, addr, .. } => {
                    match start_connect(addr) {
                        Ok(fd) => self.racing.push((id, fd)),
                        Err(error) => {
                            call.handle_input(Input::ConnectFailed { id, error }, Instant::now())?
                        }
                    }
                    continue;
                }
                Output::AwaitConnect { until } => match self.await_connect(until) {
                    Some(input) => input,
                    None => continue,
                },
                Output::Check { conn } => Input::from_peek(peek(&conn.sock)),
                Output::Transmit { conn, data, until } => {
                    Input::from_write(conn.bound(1, until).and_then(|()| conn.sock.write(data)))
                }
                Output::Receive { conn, buf, until } => {
                    Input::from_read(conn.bound(0, until).and_then(|()| conn.sock.read(buf)))
                }
                Output::SendBody { max, .. } => {
                    self.scratch.resize(max, 0);
                    match self
                        .body
                        .as_mut()
                        .map_or(Ok(0), |r| r.read(&mut self.scratch))
                    {
                        Ok(0) => Input::BodyEnd,
                        Ok(n) => Input::BodyData(&self.scratch[..n]),
                        Err(e) => Input::Failed(e),
                    }
                }
                Output::Sleep { until } => {
                    thread::sleep(until.saturating_duration_since(Instant::now()));
                    continue;
                }
                Output::AwaitSlot { until, slot } => {
                    let waker = Waker::from(Arc::new(Unpark(thread::current())));
                    if slot
                        .poll_ready(&mut Context::from_waker(&waker))
                        .is_pending()
                    {
                        thread::park_timeout(until.saturating_duration_since(Instant::now()));
                    }
                    continue;
                }
                Output::Close(_conn) => continue, // dropped here: closed
                Output::Head(head) => return Ok(Pumped::Head(Box::new(head))),
                Output::Body(bytes) => {
                    let Some(buf) = out.as_deref_mut() else {
                        return Ok(Pumped::Body(0));
                    };
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    call.consume(n);
                    return Ok(Pumped::Body(n));
                }
                Output::Done => return Ok(Pumped::Done),
                _ => return Err(Error::new(ErrorKind::Usage, "unknown output from the core")),
            };
            call.handle_input(input, Instant::now())?;
        }
    }

    /// Wait for the first attempt under way to end, at most until `until`.
    fn await_connect(&mut self, until: Instant) -> Option<Input<'static, Connection>> {
        let left = Timespec::try_from(until.saturating_duration_since(Instant::now())).ok()?;
        let mut fds: Vec<_> = self
            .racing
            .iter()
            .map(|(_, fd)| PollFd::new(fd, PollFlags::OUT))
            .collect();
        let ready = match poll(&mut fds, Some(&left)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => return None,
            Ok(_) => fds.iter().position(|p| !p.revents().is_empty())?,
            Err(e) => return Some(Input::Failed(e.into())),
        };
        drop(fds);
        let (id, fd) = self.racing.swap_remove(ready);
        Some(match connected(fd) {
            Ok(conn) => Input::Connected { id, conn },
            Err(error) => Input::ConnectFailed { id, error },
        })
    }
}

impl Connection {
    /// Make the socket's read (`which` 0) or write (1) timeout no longer
    /// than what is left until `until`. It is set lazily to 3/4 of what is
    /// left, so a keep-alive exchange rarely needs a `setsockopt`; a read
    /// that times out early is a no-op timeout the core asks again after.
    fn bound(&mut self, which: usize, until: Instant) -> io::Result<()> {
        let left = until.saturating_duration_since(Instant::now());
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
fn start_connect(addr: SocketAddr) -> io::Result<OwnedFd> {
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
fn connected(fd: OwnedFd) -> io::Result<Connection> {
    rustix::net::sockopt::socket_error(&fd)??;
    let sock = TcpStream::from(fd);
    sock.set_nonblocking(false)?;
    sock.set_nodelay(true)?;
    let set = [None; 2];
    Ok(Connection { sock, set })
}

/// Resolve `host` by `until`. The system resolver has no timeout of its
/// own, so the lookup runs on a short-lived thread that is abandoned if late.
fn resolve(host: &str, port: u16, until: Instant) -> Input<'static, Connection> {
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
