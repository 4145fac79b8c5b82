//! One connection's TLS state: [`TlsSession`].

use std::fmt;
use std::io::{self, Read, Write};

use rustls::ClientConnection;
use rustls_pki_types::ServerName;

use super::config::TlsConnector;
use super::errors::from_rustls;
use crate::{Error, ErrorKind};

/// What [`TlsSession::read_plaintext`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsRead {
    /// This many decrypted bytes were written to the front of the buffer.
    Data(usize),
    /// No decrypted bytes are available yet: feed more ciphertext with
    /// [`TlsSession::received`] (after sending what
    /// [`TlsSession::transmit`] hands out).
    NeedInput,
    /// The server ended the TLS session cleanly with a `close_notify` alert
    /// and every byte before it has been read. No more data will come.
    Closed,
}

/// The TLS state of one client connection, driven without I/O.
///
/// It wraps rustls' `ClientConnection`. The driver moves ciphertext; the
/// HTTP layer moves plaintext:
///
/// 1. [`transmit`](TlsSession::transmit) (or
///    [`transmit_to`](TlsSession::transmit_to)) whenever
///    [`wants_write`](TlsSession::wants_write) is true, and send the bytes;
///    the ClientHello is ready right after [`new`](TlsSession::new).
/// 2. [`received`](TlsSession::received) with every ciphertext byte read
///    from the socket; partial records are fine. On a clean EOF from the
///    socket call [`received_eof`](TlsSession::received_eof).
/// 3. [`write_plaintext`](TlsSession::write_plaintext) the request bytes
///    (they may be queued before the handshake finishes) and
///    [`read_plaintext`](TlsSession::read_plaintext) the response bytes.
///
/// Errors are sticky: after a fatal error, `received`, `received_eof`,
/// `read_plaintext` and `write_plaintext` all return an error of the same
/// kind. `transmit` keeps handing out what rustls queued (such as the
/// alert telling the server why the session failed), which a driver may
/// send before closing the socket.
///
/// ```
/// use hawser_core::tls::{TlsConfig, TlsSession};
/// use hawser_core::ErrorKind;
///
/// let connector = TlsConfig::new().build()?;
/// let mut session = TlsSession::new(&connector, "example.com")?;
/// let mut hello = Vec::new();
/// session.transmit(&mut hello);
/// assert_eq!(hello.first(), Some(&0x16)); // a TLS handshake record
///
/// // An HTTP response where a TLS record should be is a TLS error...
/// let err = session.received(b"HTTP/1.1 400 Bad Request\r\n\r\n").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Tls);
/// // ...and the session stays failed.
/// assert_eq!(session.received(b"more").unwrap_err().kind(), ErrorKind::Tls);
/// # Ok::<(), hawser_core::Error>(())
/// ```
pub struct TlsSession {
    conn: ClientConnection,
    server: String,
    failed: Option<(ErrorKind, String)>,
    eof: bool,
    close_sent: bool,
    peer_closed: bool,
}

impl TlsSession {
    /// Start a session with `host`: a DNS name (`example.com`) or an IP
    /// address (`127.0.0.1`, `::1` or `[::1]`). The certificate must be
    /// valid for exactly this name. Fails with
    /// [`ErrorKind::InvalidRequest`] if `host` is neither.
    ///
    /// ```
    /// use hawser_core::{tls::{TlsConfig, TlsSession}, ErrorKind};
    /// let connector = TlsConfig::new().build()?;
    /// assert!(TlsSession::new(&connector, "[::1]").is_ok());
    /// let err = TlsSession::new(&connector, "bad host!").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn new(connector: &TlsConnector, host: &str) -> Result<Self, Error> {
        // URL hosts write IPv6 addresses in brackets; certificates do not.
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let name = ServerName::try_from(bare.to_owned()).map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("invalid TLS server name {host:?}: not a DNS name or IP address"),
            )
            .with_source(e)
        })?;
        Self::with_server_name(connector, name)
    }

    /// Start a session with an already parsed server name.
    pub fn with_server_name(
        connector: &TlsConnector,
        name: ServerName<'static>,
    ) -> Result<Self, Error> {
        let server = name.to_str().into_owned();
        let conn = ClientConnection::new(connector.client_config().clone(), name)
            .map_err(|e| from_rustls(e, &server))?;
        Ok(TlsSession {
            conn,
            server,
            failed: None,
            eof: false,
            close_sent: false,
            peer_closed: false,
        })
    }

    /// Feed ciphertext read from the socket; returns how many bytes were
    /// consumed, after processing every complete TLS record among them.
    ///
    /// Incomplete records are kept for the next call, so any split of the
    /// server's bytes works (one byte at a time included). A return value
    /// smaller than `data.len()` means the buffer of decrypted plaintext is
    /// full: call [`read_plaintext`](TlsSession::read_plaintext), then feed
    /// the rest. Bytes after the server's `close_notify` are discarded
    /// (counted as consumed). After this call, check
    /// [`wants_write`](TlsSession::wants_write): the handshake may have
    /// produced bytes to send.
    ///
    /// Errors: certificate problems are [`ErrorKind::Certificate`]; bad
    /// records, alerts and handshake failures are [`ErrorKind::Tls`].
    pub fn received(&mut self, data: &[u8]) -> Result<usize, Error> {
        self.check_failed()?;
        if self.eof {
            return Err(Error::new(
                ErrorKind::Usage,
                "TLS ciphertext fed after the end of the stream was reported",
            ));
        }
        let mut rest = data;
        while !rest.is_empty() {
            match self.conn.read_tls(&mut rest) {
                // rustls reads nothing more once the peer sent close_notify
                // (then the rest is discarded), or when its record buffer is
                // full of a record it cannot use (then processing fails).
                Ok(0) => {
                    self.process()?;
                    if self.peer_closed {
                        return Ok(data.len());
                    }
                    let msg = format!(
                        "TLS with {} failed: a record from the server could not be buffered",
                        self.server
                    );
                    return Err(self.fail(Error::new(ErrorKind::Tls, msg)));
                }
                Ok(_) => {}
                Err(e) => {
                    // rustls refuses input while the decrypted-plaintext
                    // buffer is full: that is back-pressure, not failure.
                    if self.process()? > 0 {
                        break;
                    }
                    return Err(self.fail(
                        Error::new(
                            ErrorKind::Tls,
                            format!("TLS with {} failed: {e}", self.server),
                        )
                        .with_source(e),
                    ));
                }
            }
            self.process()?;
        }
        Ok(data.len() - rest.len())
    }

    /// Let rustls process buffered records; returns the number of decrypted
    /// bytes waiting to be read.
    fn process(&mut self) -> Result<usize, Error> {
        match self.conn.process_new_packets() {
            Ok(state) => {
                self.peer_closed |= state.peer_has_closed();
                Ok(state.plaintext_bytes_to_read())
            }
            Err(e) => {
                let err = from_rustls(e, &self.server);
                Err(self.fail(err))
            }
        }
    }

    /// Report that the socket reached end of stream.
    ///
    /// During the handshake this is a [`ErrorKind::Tls`] error. Afterwards,
    /// [`read_plaintext`](TlsSession::read_plaintext) hands out what is
    /// buffered and then answers [`TlsRead::Closed`] if the server sent
    /// `close_notify`, or a [`ErrorKind::Tls`] error if it did not (the data
    /// may have been truncated by an attacker or a crash).
    pub fn received_eof(&mut self) -> Result<(), Error> {
        self.check_failed()?;
        if !self.eof {
            self.eof = true;
            // An empty read is how rustls learns of EOF.
            let _ = self.conn.read_tls(&mut io::empty());
        }
        if self.conn.is_handshaking() {
            let msg = format!(
                "connection to {} closed during the TLS handshake",
                self.server
            );
            return Err(self.fail(Error::new(ErrorKind::Tls, msg)));
        }
        Ok(())
    }

    /// Move ciphertext that should be sent to the server into `out`
    /// (appended); returns the number of bytes added (0 if nothing waits).
    pub fn transmit(&mut self, out: &mut Vec<u8>) -> usize {
        let mut total = 0;
        while self.conn.wants_write() {
            match self.conn.write_tls(out) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
        total
    }

    /// Move as much pending ciphertext as fits into `buf`; returns the
    /// number of bytes written. The rest stays queued for the next call.
    pub fn transmit_to(&mut self, buf: &mut [u8]) -> usize {
        let mut written = 0;
        while self.conn.wants_write() {
            let Some(free) = buf.get_mut(written..) else {
                break;
            };
            if free.is_empty() {
                break;
            }
            let mut cursor: &mut [u8] = free;
            match self.conn.write_tls(&mut cursor) {
                Ok(0) | Err(_) => break,
                Ok(n) => written += n,
            }
        }
        written
    }

    /// Queue plaintext (request bytes) for encryption; returns how many
    /// bytes were accepted. Before the handshake completes, bytes are
    /// buffered and sent once it does. A return smaller than `data.len()`
    /// means rustls' send buffer is full: [`transmit`](TlsSession::transmit)
    /// first, then write the rest.
    ///
    /// Writing after [`send_close_notify`](TlsSession::send_close_notify) is
    /// an [`ErrorKind::Usage`] error.
    pub fn write_plaintext(&mut self, data: &[u8]) -> Result<usize, Error> {
        self.check_failed()?;
        if self.close_sent {
            return Err(Error::new(
                ErrorKind::Usage,
                "plaintext written after the TLS session was closed",
            ));
        }
        match self.conn.writer().write(data) {
            Ok(n) => Ok(n),
            Err(e) => {
                let msg = format!("TLS with {} failed while encrypting: {e}", self.server);
                Err(self.fail(Error::new(ErrorKind::Tls, msg).with_source(e)))
            }
        }
    }

    /// Read decrypted bytes (response bytes) into `buf`.
    ///
    /// An empty `buf` gives `TlsRead::Data(0)`. See [`TlsRead`] for the
    /// other answers, and [`received_eof`](TlsSession::received_eof) for how
    /// an unexpected end of stream is reported.
    pub fn read_plaintext(&mut self, buf: &mut [u8]) -> Result<TlsRead, Error> {
        self.check_failed()?;
        if buf.is_empty() {
            return Ok(TlsRead::Data(0));
        }
        match self.conn.reader().read(buf) {
            Ok(0) => Ok(TlsRead::Closed),
            Ok(n) => Ok(TlsRead::Data(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(TlsRead::NeedInput),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                let msg = format!(
                    "connection to {} ended without a TLS close_notify: the data may be truncated",
                    self.server
                );
                Err(self.fail(Error::new(ErrorKind::Tls, msg).with_source(e)))
            }
            Err(e) => {
                let msg = format!("TLS with {} failed: {e}", self.server);
                Err(self.fail(Error::new(ErrorKind::Tls, msg).with_source(e)))
            }
        }
    }

    /// Queue a `close_notify` alert, telling the server no more data will
    /// be sent; [`transmit`](TlsSession::transmit) it. Calling it twice
    /// queues nothing more.
    pub fn send_close_notify(&mut self) {
        if !self.close_sent {
            self.close_sent = true;
            self.conn.send_close_notify();
        }
    }

    /// True while the handshake is in progress.
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// True when ciphertext waits to be sent.
    pub fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// True when the session can make progress with more ciphertext from
    /// the server (false once it failed or the server closed).
    pub fn wants_read(&self) -> bool {
        self.failed.is_none() && !self.eof && self.conn.wants_read()
    }

    /// True when decrypted bytes wait to be read: the server sent more
    /// than has been read so far (after a complete response, that means
    /// the connection must not be reused).
    pub fn has_pending_plaintext(&mut self) -> bool {
        matches!(self.process(), Ok(n) if n > 0)
    }

    /// True once the server's `close_notify` has been processed.
    pub fn peer_has_closed(&self) -> bool {
        self.peer_closed
    }

    /// True after a fatal error; every further data call fails.
    pub fn is_failed(&self) -> bool {
        self.failed.is_some()
    }

    /// The ALPN protocol the server chose (`Some(b"http/1.1")`), if any.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// The server name the certificate was checked against.
    pub fn server_name(&self) -> &str {
        &self.server
    }

    /// Remember a fatal error so every later call reports it too.
    fn fail(&mut self, err: Error) -> Error {
        if self.failed.is_none() {
            self.failed = Some((err.kind(), err.message().to_owned()));
        }
        err
    }

    fn check_failed(&self) -> Result<(), Error> {
        match &self.failed {
            Some((kind, msg)) => Err(Error::new(
                *kind,
                format!("TLS session already failed: {msg}"),
            )),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSession")
            .field("server", &self.server)
            .field("handshaking", &self.conn.is_handshaking())
            .field("failed", &self.failed.as_ref().map(|(k, _)| k))
            .field("eof", &self.eof)
            .field("close_sent", &self.close_sent)
            .field("peer_closed", &self.peer_closed)
            .finish()
    }
}
