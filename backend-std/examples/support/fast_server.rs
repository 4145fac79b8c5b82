//! A minimal keep-alive HTTP/1.1 server on 127.0.0.1 for timing
//! comparisons, shared by the `demo` and `session_reuse` examples through
//! `#[path]` (a folder without `main.rs` is not an example of its own).
//!
//! Why not hawser-testkit here: its accept loop polls a non-blocking
//! listener every 2 ms, which is fine for tests but adds up to 2 ms to every
//! new connection and would exaggerate what connection reuse saves. This
//! server blocks in `accept`, so a new connection costs what the kernel and
//! a thread spawn cost, nothing more.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

/// Largest request head accepted; longer heads close the connection.
const MAX_HEAD: usize = 16 * 1024;

/// Answers every GET with `200 OK` and a small JSON body, keeping
/// connections alive; counts the connections it accepted.
pub struct FastServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl FastServer {
    /// Binds an ephemeral loopback port and starts accepting.
    pub fn start() -> io::Result<FastServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (acc, st) = (accepted.clone(), stop.clone());
        let acceptor = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(s) = conn {
                    acc.fetch_add(1, Ordering::SeqCst);
                    let _ = s.set_nodelay(true);
                    std::thread::spawn(move || serve(s));
                }
            }
        });
        Ok(FastServer {
            addr,
            accepted,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// TCP connections accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FastServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag and ends.
        let _ = TcpStream::connect(self.addr);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

/// Serves requests on one connection until the client closes it. Requests
/// are assumed bodiless (GET); the head ends at the first blank line.
fn serve(mut s: TcpStream) {
    const RESPONSE: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = find_head_end(&buf) {
            if s.write_all(RESPONSE).is_err() {
                return;
            }
            buf.drain(..end);
        }
        if buf.len() > MAX_HEAD {
            return;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}
