//! The exchange on an open connection: TLS handshake, encoding and
//! sending the request (head, in-memory or streamed body, `Expect:
//! 100-continue`), and the final response's body.

use super::*;
use std::borrow::Cow;

impl<T> Call<T> {
    pub(super) fn step_body(&mut self, now: Instant) -> Result<Option<Step>> {
        if self.staged_head.is_some() {
            return Ok(Some(Step::Head));
        }
        if self.attempt.pending != Pending::None {
            return Ok(Some(Step::Body));
        }
        let fed = match self.feed() {
            Ok(f) => f,
            Err(e) => return Err(self.body_error(e)),
        };
        match fed {
            Fed::NeedInput => Ok(Some(Step::Receive(self.tracker.poll_timeout().at))),
            Fed::Body(r) => {
                if let Some(d) = &mut self.attempt.decoder {
                    let room = self
                        .agent
                        .config()
                        .max_decompressed
                        .saturating_sub(self.decoded_total);
                    let input = self.wire.inbuf.get(r).unwrap_or(&[]);
                    if let Err(e) = d.feed(input, room) {
                        return Err(self.final_error(e));
                    }
                    let n = d.buffer().len();
                    if n > 0 {
                        self.decoded_total += n as u64;
                        self.stage_body(n)?;
                        self.attempt.pending = Pending::Decoded;
                        return Ok(Some(Step::Body));
                    }
                    Ok(None)
                } else if r.is_empty() {
                    Ok(None)
                } else {
                    self.stage_body(r.len())?;
                    self.attempt.pending = Pending::In(r);
                    Ok(Some(Step::Body))
                }
            }
            Fed::Done => {
                if let Some(d) = &mut self.attempt.decoder {
                    if let Err(e) = d.finish() {
                        return Err(self.final_error(e));
                    }
                    let n = d.buffer().len();
                    if n > 0 {
                        self.decoded_total += n as u64;
                        self.stage_body(n)?;
                        self.attempt.pending = Pending::Decoded;
                        return Ok(Some(Step::Body));
                    }
                    self.attempt.decoder = None;
                }
                self.tracker.end_phase(now);
                let reuse = self.reusable();
                self.release(reuse, Next::Done);
                Ok(None)
            }
            Fed::Continue | Fed::Head(_) => {
                Err(self.final_error(protocol("a second response head")))
            }
        }
    }

    /// The driver read `n` body bytes straight into its own buffer
    /// (`Output::ReceiveBody` with `max`): account for them as handed out.
    pub(super) fn read_direct(&mut self, n: usize, max: usize, now: Instant) -> Result<()> {
        if n > max {
            return Err(usage(
                "Input::Read reports more bytes than the Output::ReceiveBody allowed",
            ));
        }
        if n == 0 {
            return Ok(()); // no progress, as for Receive
        }
        self.tracker.progress(now);
        self.body_room = 0;
        if let Err(e) = self.reader.body_read(n as u64) {
            return Err(self.final_error(e.into()));
        }
        self.stage_body(n)
    }

    /// `n` more body bytes are handed out: within the in-memory cap, when
    /// the caller reads the body into memory?
    fn stage_body(&mut self, n: usize) -> Result<()> {
        self.body_staged += n as u64;
        match self.memory_limit {
            Some(limit) if self.body_staged > limit => Err(self.final_error(too_large(limit))),
            _ => Ok(()),
        }
    }

    /// The caller is about to read the whole body into memory (`bytes()`,
    /// `text()`, `json()`): from now on more than the in-memory cap
    /// ([`Config::max_body_in_memory`], or the request's) is an
    /// [`ErrorKind::BodyTooLarge`] error, and a declared `Content-Length`
    /// over it fails at once, before anything is read. Returns a capacity
    /// hint for the buffer (the declared length, within the cap). Streaming
    /// the body (not calling this) stays unbounded.
    ///
    /// ```
    /// # use std::time::{Instant, SystemTime};
    /// # use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
    /// # let agent: Agent<u32> = Agent::new(Config::default())?;
    /// # let now = Instant::now();
    /// # let req = hawser_core::request::Request::get("http://example.test/").build()?;
    /// # let mut call = agent.start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)?;
    /// # let (mut reply, mut attempt) = (&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"[..], None);
    /// # loop { // a scripted server, until the head arrives
    /// #     let input = match call.poll_output(now)? {
    /// #         Output::Resolve { .. } => Input::Resolved(vec![([127, 0, 0, 1], 80).into()]),
    /// #         Output::Connect { id, .. } => { attempt = Some(id); continue }
    /// #         Output::AwaitConnect { .. } => Input::Connected { id: attempt.take().unwrap(), conn: 1 },
    /// #         Output::Transmit { data, .. } => Input::from_write(Ok(data.len())),
    /// #         Output::Receive { buf, .. } => {
    /// #             let n = reply.len().min(buf.len());
    /// #             buf[..n].copy_from_slice(&reply[..n]);
    /// #             reply = &reply[n..];
    /// #             Input::from_read(Ok(n))
    /// #         }
    /// #         Output::Head(head) => { assert_eq!(head.status, 200); break }
    /// #         other => panic!("unexpected {other:?}"),
    /// #     };
    /// #     call.handle_input(input, now)?;
    /// # }
    /// // The head declared 5 bytes: a buffer of 5 will do.
    /// assert_eq!(call.read_into_memory()?, 5);
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn read_into_memory(&mut self) -> Result<usize> {
        if self.state == State::Failed {
            return Err(self.sticky_error());
        }
        let limit = self.in_memory_cap;
        if let Some(len) = self.declared_len.filter(|&n| n > limit) {
            let e = too_large(limit).with_source(Error::new(
                ErrorKind::BodyTooLarge,
                format!("the response declares {len} bytes (Content-Length)"),
            ));
            return Err(self.fail_final(e));
        }
        if self.body_staged > limit {
            return Err(self.fail_final(too_large(limit)));
        }
        self.memory_limit = Some(limit);
        let hint = self.declared_len.unwrap_or(0).min(limit);
        Ok(usize::try_from(hint).unwrap_or(usize::MAX))
    }

    /// The in-memory cap of this call, in bytes (for sizing buffers).
    ///
    /// ```
    /// # use std::time::{Instant, SystemTime};
    /// # use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
    /// # let agent: Agent<u32> = Agent::new(Config::default())?;
    /// # let now = Instant::now();
    /// # let req = hawser_core::request::Request::get("http://example.test/").build()?;
    /// # let mut call = agent.start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)?;
    /// assert_eq!(call.memory_cap() as u64, Config::default().max_body_in_memory);
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn memory_cap(&self) -> usize {
        usize::try_from(self.in_memory_cap).unwrap_or(usize::MAX)
    }

    /// Errors while streaming the body are final: the head was delivered.
    pub(super) fn body_error(&mut self, e: Error) -> Error {
        let e = if e.kind() == ErrorKind::Protocol {
            Error::new(
                ErrorKind::Body,
                format!("the response body could not be read: {}", e.message()),
            )
            .with_source(e)
        } else {
            e
        };
        self.final_error(e)
    }

    /// Waiting for the response head: the first response byte is news for
    /// the retry policy (a stale pooled connection sends none).
    pub(super) fn expecting_head(&self) -> bool {
        matches!(self.state, State::ReadHead | State::AwaitContinue(_))
    }

    /// May the connection carry another request? Only when the h1 layer
    /// says so and nothing is left on it: bytes past the end of the
    /// response (a body after HEAD/204/304, a pipelined surprise) would be
    /// read as the next request's response.
    pub(super) fn reusable(&mut self) -> bool {
        if !self.reader.reusable() || self.attempt.close || self.attempt.eof {
            return false;
        }
        if self.wire.in_start < self.wire.in_end {
            return false;
        }
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut())
            && (self.wire.raw_start < self.wire.raw_end
                || tls.has_pending_plaintext()
                || tls.peer_has_closed())
        {
            return false;
        }
        true
    }

    /// The next piece of an in-memory body: plain connections hand out a
    /// slice of the body itself (no copy); TLS encrypts it into `out`.
    pub(super) fn next_body_piece(&mut self) -> Result<Option<Step>> {
        let Some(bytes) = self.body.as_bytes() else {
            self.attempt.send_body_bytes = false;
            return Ok(None);
        };
        let len = bytes.len();
        if self.attempt.body_pos >= len {
            self.attempt.send_body_bytes = false;
            return Ok(None);
        }
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut()) {
            let end = (self.attempt.body_pos + SEND_PIECE).min(len);
            let n = tls.write_plaintext(&bytes[self.attempt.body_pos..end])?;
            self.attempt.body_pos += n;
            tls.transmit(&mut self.wire.out);
            self.wire.out_pos = 0;
            return Ok(Some(Step::Transmit));
        }
        // Plaintext: offer all that is left; the kernel takes what fits, so
        // a 1 MiB body goes in one or a few writes, not 16.
        self.attempt.tx_from_body = true;
        Ok(Some(Step::TransmitBody(self.attempt.body_pos..len)))
    }

    pub(super) fn release_body(&mut self, now: Instant) {
        self.tracker.begin(Phase::Send, now);
        self.attempt.send_body_bytes = self.body.as_bytes().is_some();
        self.state = State::Sending(if self.body.is_stream() {
            AfterSend::StreamBody
        } else {
            AfterSend::ReadHead
        });
    }

    pub(super) fn step_handshake(&mut self, now: Instant) -> Result<Option<Step>> {
        #[cfg(feature = "rustls")]
        {
            let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut()) else {
                return Err(usage("handshake without a TLS session"));
            };
            if tls.wants_write() {
                self.wire.out.clear();
                self.wire.out_pos = 0;
                tls.transmit(&mut self.wire.out);
                if !self.wire.out.is_empty() {
                    self.state = State::Sending(AfterSend::Handshake);
                    return Ok(Some(Step::Transmit));
                }
            }
            if !tls.is_handshaking() {
                self.prepare_request(now)?;
                return Ok(None);
            }
            if self.attempt.eof {
                return Err(Error::new(
                    ErrorKind::Tls,
                    "the server closed the connection during the TLS handshake",
                ));
            }
            Ok(Some(Step::Receive(self.tracker.poll_timeout().at)))
        }
        #[cfg(not(feature = "rustls"))]
        {
            let _ = now;
            Err(usage("TLS is not compiled in"))
        }
    }

    pub(super) fn connected(&mut self, now: Instant) -> Result<()> {
        self.report.connections_opened += 1;
        self.conn = Some(self.new_connection());
        if matches!(self.route, Route::Tunnel { .. }) {
            return self.send_connect();
        }
        self.start_tls_or_send(now)
    }

    pub(super) fn start_tls_or_send(&mut self, now: Instant) -> Result<()> {
        if self.url.scheme() == "https" {
            #[cfg(feature = "rustls")]
            {
                let host = self.url.host_str().unwrap_or_default();
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let tls = TlsSession::new(&self.agent.config().tls, host)?;
                if let Some(c) = &mut self.conn {
                    c.tls = Some(Box::new(tls));
                }
                self.tracker.begin(Phase::TlsHandshake, now);
                self.state = State::Handshake;
                return Ok(());
            }
            #[cfg(not(feature = "rustls"))]
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "https URLs need hawser-core's `rustls` feature",
            ));
        }
        self.prepare_request(now)
    }

    /// Encode the request for this attempt into `out` and start sending.
    pub(super) fn prepare_request(&mut self, now: Instant) -> Result<()> {
        self.tracker.begin(Phase::Send, now);
        let cfg = self.agent.config();
        // The request's own fields, copied only when this attempt adds to
        // them (cookies, credentials, hooks, Expect): most attempts add
        // nothing and write the head straight from the call's map.
        let mut headers = Cow::Borrowed(&*self.headers);
        if cfg.cookie_store
            && !headers.contains_key(COOKIE)
            && let Some(v) = self
                .agent
                .cookies()
                .cookie_header(&self.url, self.wall(now))
        {
            headers.to_mut().insert(COOKIE, v);
        }
        // Through a forward proxy the target is the absolute URL; otherwise
        // the head is written from the URL's parts (no string, no re-parse).
        let (form, target) = match &self.route {
            Route::Forward { target, .. } => (TargetForm::Absolute, Some(target.clone())),
            _ => (TargetForm::Origin, None),
        };
        match (&self.route, &mut self.proxy_auth) {
            (Route::Forward { .. }, Some(pa)) => {
                pa.authorize(
                    &self.method,
                    &self.url,
                    target.as_deref().unwrap_or_default(),
                    headers.to_mut(),
                    &mut self.rng,
                )?;
            }
            // Proxy credentials belong on the CONNECT only: nothing
            // (not even a caller-set field) goes to the origin in the tunnel.
            (Route::Tunnel { .. }, _)
                if headers.contains_key(http::header::PROXY_AUTHORIZATION) =>
            {
                headers.to_mut().remove(http::header::PROXY_AUTHORIZATION);
            }
            _ => {}
        }
        if let (Some(auth), Some(state)) = (&self.auth, &mut self.auth_state) {
            let mut method = self.method.clone();
            let mut url = self.url.clone();
            let path = request_target(&self.url);
            let mut req = OutgoingRequest::new(&mut method, &mut url, headers.to_mut());
            req = req.with_request_target(target.as_deref().unwrap_or(&path));
            auth.authorize(&mut req, state, &mut self.rng)?;
        }
        let framing = match self.body.len() {
            // requests' prepare_content_length: no body on GET and HEAD
            // says nothing; any other method says `Content-Length: 0`.
            Some(0) if !self.body.is_stream() => {
                if matches!(self.method, Method::GET | Method::HEAD) {
                    RequestFraming::None
                } else {
                    RequestFraming::Length(0)
                }
            }
            Some(n) => RequestFraming::Length(n),
            None => RequestFraming::Chunked,
        };
        if !cfg.hooks.request.is_empty() {
            let mut view = hooks::HookRequest {
                method: &self.method,
                url: &self.url,
                attempt: self.attempt_number(),
                headers: headers.to_mut(),
            };
            for hook in &cfg.hooks.request {
                hook(&mut view);
            }
        }
        let expect = match (cfg.expect_continue_min, self.body.len()) {
            (Some(min), Some(n)) => n >= min && n > 0,
            (Some(_), None) => false,
            (None, _) => false,
        };
        if expect {
            headers
                .to_mut()
                .insert(EXPECT, HeaderValue::from_static("100-continue"));
        }
        let mut head = std::mem::take(&mut self.wire.out);
        head.clear();
        let info = match &target {
            Some(target) => {
                let uri: Uri = target.parse().map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidRequest,
                        format!("cannot write {:?} as a request target", self.url.as_str()),
                    )
                })?;
                h1::encode_request_head(&self.method, &uri, &headers, form, framing, &mut head)?
            }
            None => {
                let target = h1::Target::of_url(&self.url);
                h1::encode_head(&self.method, &target, &headers, form, framing, &mut head)?
            }
        };
        drop(headers);
        // A caller-set `Expect: 100-continue` is honoured like our own.
        let expect = expect || (info.expect_continue && !self.body.is_empty());
        self.reader.reset(info);
        self.attempt.close = info.connection_close;
        self.wire.out_pos = 0;
        self.attempt.chunked = (framing == RequestFraming::Chunked).then(h1::ChunkedEncoder::new);
        self.encrypt_into_out(head)?;
        self.attempt.send_body_bytes =
            !expect && self.body.as_bytes().is_some_and(|b| !b.is_empty());
        self.attempt.body_pos = 0;
        self.state = State::Sending(if expect {
            AfterSend::AwaitContinue
        } else if self.body.is_stream() {
            AfterSend::StreamBody
        } else {
            AfterSend::ReadHead
        });
        Ok(())
    }

    /// Put plaintext `data` (taken by value to reuse its allocation) on the
    /// wire: as is, or through TLS.
    pub(super) fn encrypt_into_out(&mut self, data: Vec<u8>) -> Result<()> {
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut()) {
            let mut off = 0;
            while off < data.len() {
                let n = tls.write_plaintext(&data[off..])?;
                if n == 0 {
                    return Err(Error::new(ErrorKind::Tls, "TLS refused more plaintext"));
                }
                off += n;
            }
            let mut out = data;
            out.clear();
            tls.transmit(&mut out);
            self.wire.out = out;
            return Ok(());
        }
        self.wire.out = data;
        Ok(())
    }

    pub(super) fn deliver(&mut self, head: h1::ResponseHead, now: Instant) {
        let mut headers = head.headers;
        self.attempt.decoder = None;
        // A response without a body (204, 304, `Content-Length: 0`) has
        // nothing to decode whatever its Content-Encoding says: an empty
        // body, as requests gives.
        let bodiless = matches!(
            head.framing,
            h1::BodyFraming::None | h1::BodyFraming::Length(0)
        );
        if self.agent.config().decompress
            && self.method != Method::HEAD
            && !bodiless
            && let Some(d) = headers.get(CONTENT_ENCODING).and_then(|v| {
                Decoder::for_encoding(v.as_bytes(), self.agent.config().max_decompression_ratio)
            })
        {
            self.attempt.decoder = Some(d);
            headers.remove(CONTENT_ENCODING);
            headers.remove(CONTENT_LENGTH);
        }
        self.declared_len = match (head.framing, &self.attempt.decoder) {
            (h1::BodyFraming::Length(n), None) => Some(n),
            (h1::BodyFraming::None, _) => Some(0),
            _ => None,
        };
        self.trace.call_ended(Some(head.status.as_u16()), None);
        event!(status = head.status.as_u16(), "hawser: response head");
        self.staged_head = Some(Head {
            status: head.status,
            version: head.version,
            headers,
            url: self.url.clone(),
            history: std::mem::take(&mut self.history),
            reason_phrase: head.reason,
        });
        self.tracker.begin(Phase::Body, now);
        self.state = State::ReadBody;
    }
}

/// The in-memory cap was passed.
fn too_large(limit: u64) -> Error {
    Error::new(
        ErrorKind::BodyTooLarge,
        format!(
            "the response body is larger than {limit} bytes, the limit for reading a body into \
             memory; raise it with max_body_in_memory (on the session or the request), or stream \
             the body instead"
        ),
    )
}
