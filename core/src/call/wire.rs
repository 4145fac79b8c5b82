//! Reading: bytes the driver read go through TLS (when the connection has
//! it) into the plaintext buffer the h1 reader parses.

use super::*;

impl<T> Call<T> {
    pub(super) fn make_room(&mut self) {
        if self.attempt.pending == Pending::None && self.wire.in_start > 0 {
            self.wire
                .inbuf
                .copy_within(self.wire.in_start..self.wire.in_end, 0);
            self.wire.in_end -= self.wire.in_start;
            self.wire.in_start = 0;
        }
        if self.wire.inbuf.len() < self.wire.in_end + READ_BUF / 2 {
            self.wire.inbuf.resize(self.wire.in_end + READ_BUF, 0);
        }
    }

    /// Run the response reader over buffered bytes.
    pub(super) fn feed(&mut self) -> Result<Fed> {
        loop {
            let input = self
                .wire
                .inbuf
                .get(self.wire.in_start..self.wire.in_end)
                .unwrap_or(&[]);
            let base = input.as_ptr() as usize;
            let (n, ev) = self.reader.read(input)?;
            let fed = match ev {
                Event::NeedInput => Fed::NeedInput,
                Event::Continue => Fed::Continue,
                Event::Head(h) => Fed::Head(h),
                Event::Body(b) => {
                    let off = self.wire.in_start + (b.as_ptr() as usize - base);
                    Fed::Body(off..off + b.len())
                }
                Event::Trailers(_) => {
                    self.wire.in_start += n;
                    continue;
                }
                Event::Done => Fed::Done,
            };
            self.wire.in_start += n;
            if let Fed::NeedInput = fed {
                if self.pull_tls()? {
                    continue;
                }
                if self.attempt.eof {
                    // Any failure here is the peer closing early: the retry
                    // policy classes it as EOF (stale connections included).
                    return match self.reader.eof() {
                        Ok(Event::Done) => Ok(Fed::Done),
                        Ok(_) => {
                            self.attempt.closed_early = true;
                            Err(protocol(
                                "the connection closed before the response was complete",
                            ))
                        }
                        Err(e) => {
                            self.attempt.closed_early = true;
                            Err(e.into())
                        }
                    };
                }
            }
            return Ok(fed);
        }
    }

    /// Move decrypted bytes that TLS holds into `inbuf`; true if any moved.
    pub(super) fn pull_tls(&mut self) -> Result<bool> {
        #[cfg(feature = "rustls")]
        {
            if !self.conn.as_ref().is_some_and(Connection::is_tls) {
                return Ok(false);
            }
            self.push_tls()?;
            self.make_room();
            let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut()) else {
                return Ok(false);
            };
            let room = &mut self.wire.inbuf[self.wire.in_end..];
            match tls.read_plaintext(room)? {
                TlsRead::Data(n) if n > 0 => {
                    self.wire.in_end += n;
                    if self.expecting_head() {
                        self.attempt.got_any = true;
                    }
                    Ok(true)
                }
                TlsRead::Closed => {
                    self.attempt.eof = true;
                    Ok(false)
                }
                _ => Ok(false),
            }
        }
        #[cfg(not(feature = "rustls"))]
        Ok(false)
    }

    /// `n` bytes were read into the lent buffer.
    pub(super) fn received(&mut self, n: usize) -> Result<()> {
        #[cfg(feature = "rustls")]
        if self.conn.as_ref().is_some_and(Connection::is_tls) {
            if n > self.wire.raw.len().saturating_sub(self.wire.raw_end) {
                return Err(usage(
                    "Input::Read reports more bytes than the read buffer holds",
                ));
            }
            self.wire.raw_end += n;
            return self.push_tls();
        }
        if n > self.wire.inbuf.len().saturating_sub(self.wire.in_end) {
            return Err(usage(
                "Input::Read reports more bytes than the read buffer holds",
            ));
        }
        if n > 0 && self.expecting_head() {
            self.attempt.got_any = true;
        }
        self.wire.in_end += n;
        Ok(())
    }

    /// Feed buffered ciphertext to TLS. What it does not take yet (its
    /// plaintext buffer is full) stays in `raw` for the next round: never dropped.
    #[cfg(feature = "rustls")]
    pub(super) fn push_tls(&mut self) -> Result<()> {
        if let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut()) {
            while self.wire.raw_start < self.wire.raw_end {
                let used = tls.received(&self.wire.raw[self.wire.raw_start..self.wire.raw_end])?;
                if used == 0 {
                    break;
                }
                self.wire.raw_start += used;
            }
        }
        Ok(())
    }
}
