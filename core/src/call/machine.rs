//! The transitions of [`Call`]: every state change lives in this file.

use super::*;

impl<T> Call<T> {
    fn wall(&self, now: Instant) -> SystemTime {
        self.wall0 + now.saturating_duration_since(self.start)
    }

    fn clock(&self, now: Instant) -> Clock {
        Clock {
            now,
            wall: self.wall(now),
            deadline: Some(self.tracker.deadline()),
        }
    }

    /// The retry policy's decision on `outcome`, paying from the session's
    /// retry budget when it has one (locked only for this pure call).
    fn decide(&mut self, outcome: Outcome, now: Instant) -> Decision {
        let clock = self.clock(now);
        let mut budget = self
            .agent
            .shared
            .budget
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        self.retry.decide(
            &mut self.retry_state,
            &outcome,
            &clock,
            &mut self.rng,
            budget.as_deref_mut(),
        )
    }

    fn body_replay(&self) -> BodyReplay {
        if self.body.is_replayable() {
            BodyReplay::Replayable
        } else if self.body_streamed == 0 {
            BodyReplay::NotStarted
        } else {
            BodyReplay::Consumed
        }
    }

    /// Reset per-attempt state; the next step asks the pool.
    pub(super) fn begin_attempt(&mut self) {
        self.state = State::Acquire;
        self.reused = false;
        self.sent_any = false;
        self.got_any = false;
        self.eof = false;
        self.attempt_close = false;
        self.out.clear();
        self.out_pos = 0;
        self.body_pos = 0;
        self.send_body_bytes = false;
        self.chunked = None;
        self.in_start = 0;
        self.in_end = 0;
        self.pending = Pending::None;
        self.decoder = None;
        self.tx_from_body = false;
        self.closed_early = false;
        self.drained = 0;
        self.keep_alive = None;
    }

    /// The call ends with `e`: give back what it holds and keep the error,
    /// so every later poll returns it again (errors are sticky).
    pub(super) fn fail_final(&mut self, e: Error) -> Error {
        if self.state == State::Failed {
            return e;
        }
        self.state = State::Failed;
        self.give_back();
        // The call ends here: what it holds is closed by dropping it.
        self.closing.clear();
        #[cfg(feature = "tracing")]
        tracing::debug!(url = %self.url, error = %e, "hawser: call failed");
        let e = if e.report().is_some() {
            e
        } else {
            e.with_report(self.report())
        };
        self.failed = Some(e.duplicate());
        e
    }

    /// The error the call ended with, again.
    pub(super) fn sticky_error(&self) -> Error {
        match &self.failed {
            Some(e) => e.duplicate(),
            None => usage("the call failed"),
        }
    }

    // ----- advancing -------------------------------------------------

    pub(super) fn advance(&mut self, now: Instant) -> Result<Step> {
        loop {
            match self.step(now) {
                Ok(Some(step)) => return Ok(step),
                Ok(None) => continue,
                Err(e) => self.attempt_error(e, now)?,
            }
        }
    }

    /// One transition. `Ok(None)`: state changed, loop again.
    fn step(&mut self, now: Instant) -> Result<Option<Step>> {
        let until = self.tracker.poll_timeout().at;
        match self.state {
            State::Failed => Err(self.final_error(self.sticky_error())),
            State::Done => Ok(Some(Step::Done)),
            State::Acquire => self.step_acquire(now),
            State::AwaitSlot => self.step_await_slot(now),
            State::Check => Ok(Some(Step::Check)),
            State::Resolve => self.step_resolve(now),
            State::Dial => self.step_dial(now),
            State::Sending(after) => {
                if self.out_pos < self.out.len() {
                    return Ok(Some(Step::Transmit));
                }
                self.out.clear();
                self.out_pos = 0;
                if self.send_body_bytes {
                    if let Some(step) = self.next_body_piece()? {
                        return Ok(Some(step));
                    }
                }
                self.state = match after {
                    AfterSend::ReadHead => {
                        self.tracker.begin(Phase::ResponseHead, now);
                        State::ReadHead
                    }
                    AfterSend::AwaitContinue => {
                        self.tracker.begin(Phase::ResponseHead, now);
                        State::AwaitContinue(now + self.agent.config().expect_continue_wait)
                    }
                    AfterSend::StreamBody => State::StreamBody,
                    AfterSend::TunnelRead => State::TunnelRead,
                    AfterSend::Handshake => State::Handshake,
                };
                Ok(None)
            }
            State::StreamBody => Ok(Some(Step::SendBody)),
            State::Handshake => self.step_handshake(now),
            State::TunnelRead => match self.feed()? {
                Fed::NeedInput => Ok(Some(Step::Receive(until))),
                Fed::Head(head) => {
                    self.tunnel_established(head, now)?;
                    Ok(None)
                }
                _ => Err(proxy_error(
                    "the proxy sent an unexpected answer to CONNECT",
                )),
            },
            State::AwaitContinue(wait_until) => match self.feed()? {
                Fed::NeedInput => Ok(Some(Step::Receive(wait_until.min(until)))),
                Fed::Continue => {
                    self.release_body(now);
                    Ok(None)
                }
                Fed::Head(head) => {
                    // A final status instead of 100: the body is not sent, so
                    // the connection cannot carry another request.
                    self.attempt_close = true;
                    self.on_head(head, now)?;
                    Ok(None)
                }
                _ => Err(protocol("body bytes before the response head")),
            },
            State::ReadHead => match self.feed()? {
                Fed::NeedInput => Ok(Some(Step::Receive(until))),
                Fed::Continue => Ok(None),
                Fed::Head(head) => {
                    self.on_head(head, now)?;
                    Ok(None)
                }
                _ => Err(protocol("body bytes before the response head")),
            },
            State::Drain(next) => match self.feed()? {
                Fed::NeedInput => Ok(Some(Step::Receive(until))),
                Fed::Body(r) => {
                    self.drained += r.len() as u64;
                    if self.drained > self.agent.config().max_drain {
                        self.release(false, next);
                    }
                    Ok(None)
                }
                Fed::Done => {
                    let reuse = self.reusable();
                    match next {
                        // The 407 to CONNECT is read: ask again on the same
                        // connection when it stays open. A proxy connection
                        // without a tunnel never goes to the pool (its key
                        // names the origin).
                        Next::Tunnel if reuse => self.send_connect()?,
                        Next::Tunnel => self.release(false, Next::Attempt(None)),
                        _ => self.release(reuse, next),
                    }
                    Ok(None)
                }
                Fed::Continue | Fed::Head(_) => Err(protocol("a second response head")),
            },
            State::ReadBody => self.step_body(now),
            State::Release(reuse, next) => {
                // First give the connection back to the pool (or close it),
                // then move on.
                let reuse = reuse && !matches!(next, Next::Fail | Next::Tunnel);
                if let (true, Some(conn)) = (reuse, self.conn.as_mut()) {
                    conn.keep_alive = self.keep_alive;
                }
                self.finish_connection(reuse, now);
                match next {
                    Next::Attempt(Some(at)) if at > now => self.state = State::Backoff(at),
                    Next::Attempt(_) | Next::Tunnel => self.begin_attempt(),
                    Next::Done => self.state = State::Done,
                    Next::Fail => {
                        // Already decided: no second retry decision.
                        self.final_pending = true;
                        return Err(self
                            .error
                            .take()
                            .unwrap_or_else(|| usage("failed without an error")));
                    }
                }
                Ok(None)
            }
            State::Backoff(at) => {
                if now >= at {
                    self.begin_attempt();
                    Ok(None)
                } else {
                    self.tracker.begin(Phase::Backoff, now);
                    self.tracker.check(now)?;
                    Ok(Some(Step::Sleep(at)))
                }
            }
        }
    }

    fn step_body(&mut self, now: Instant) -> Result<Option<Step>> {
        if self.staged_head.is_some() {
            return Ok(Some(Step::Head));
        }
        if self.pending != Pending::None {
            return Ok(Some(Step::Body));
        }
        let fed = match self.feed() {
            Ok(f) => f,
            Err(e) => return Err(self.body_error(e)),
        };
        match fed {
            Fed::NeedInput => Ok(Some(Step::Receive(self.tracker.poll_timeout().at))),
            Fed::Body(r) => {
                if let Some(d) = &mut self.decoder {
                    let room = self
                        .agent
                        .config()
                        .max_decompressed
                        .saturating_sub(self.decoded_total);
                    let input = self.inbuf.get(r).unwrap_or(&[]);
                    if let Err(e) = d.feed(input, room) {
                        return Err(self.final_error(e));
                    }
                    let n = d.buffer().len();
                    if n > 0 {
                        self.decoded_total += n as u64;
                        self.pending = Pending::Decoded;
                        return Ok(Some(Step::Body));
                    }
                    Ok(None)
                } else if r.is_empty() {
                    Ok(None)
                } else {
                    self.pending = Pending::In(r);
                    Ok(Some(Step::Body))
                }
            }
            Fed::Done => {
                if let Some(d) = &mut self.decoder {
                    if let Err(e) = d.finish() {
                        return Err(self.final_error(e));
                    }
                    let n = d.buffer().len();
                    if n > 0 {
                        self.decoded_total += n as u64;
                        self.pending = Pending::Decoded;
                        return Ok(Some(Step::Body));
                    }
                    self.decoder = None;
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

    /// Errors while streaming the body are final: the head was delivered.
    fn body_error(&mut self, e: Error) -> Error {
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

    /// Mark an error as final (no retry) and return it for `?`.
    pub(super) fn final_error(&mut self, e: Error) -> Error {
        self.final_pending = true;
        e
    }

    /// Waiting for the response head: the first response byte is news for
    /// the retry policy (a stale pooled connection sends none).
    fn expecting_head(&self) -> bool {
        matches!(self.state, State::ReadHead | State::AwaitContinue(_))
    }

    /// May the connection carry another request? Only when the h1 layer
    /// says so and nothing is left on it: bytes past the end of the
    /// response (a body after HEAD/204/304, a pipelined surprise) would be
    /// read as the next request's response.
    fn reusable(&mut self) -> bool {
        if !self.reader.reusable() || self.attempt_close || self.eof {
            return false;
        }
        if self.in_start < self.in_end {
            return false;
        }
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut()) {
            if self.raw_start < self.raw_end || tls.has_pending_plaintext() || tls.peer_has_closed()
            {
                return false;
            }
        }
        true
    }

    fn release(&mut self, reuse: bool, next: Next) {
        if let Some(c) = &mut self.conn {
            if reuse {
                c.served += 1;
            }
        }
        self.state = State::Release(reuse, next);
    }

    /// The next piece of an in-memory body: plain connections hand out a
    /// slice of the body itself (no copy); TLS encrypts it into `out`.
    fn next_body_piece(&mut self) -> Result<Option<Step>> {
        let Some(bytes) = self.body.as_bytes() else {
            self.send_body_bytes = false;
            return Ok(None);
        };
        let len = bytes.len();
        if self.body_pos >= len {
            self.send_body_bytes = false;
            return Ok(None);
        }
        let end = (self.body_pos + SEND_PIECE).min(len);
        #[cfg(feature = "rustls")]
        if let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut()) {
            let n = tls.write_plaintext(&bytes[self.body_pos..end])?;
            self.body_pos += n;
            tls.transmit(&mut self.out);
            self.out_pos = 0;
            return Ok(Some(Step::Transmit));
        }
        self.tx_from_body = true;
        Ok(Some(Step::TransmitBody(self.body_pos..end)))
    }

    fn release_body(&mut self, now: Instant) {
        self.tracker.begin(Phase::Send, now);
        self.send_body_bytes = self.body.as_bytes().is_some();
        self.state = State::Sending(if self.body.is_stream() {
            AfterSend::StreamBody
        } else {
            AfterSend::ReadHead
        });
    }

    fn step_handshake(&mut self, now: Instant) -> Result<Option<Step>> {
        #[cfg(feature = "rustls")]
        {
            let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut()) else {
                return Err(usage("handshake without a TLS session"));
            };
            if tls.wants_write() {
                self.out.clear();
                self.out_pos = 0;
                tls.transmit(&mut self.out);
                if !self.out.is_empty() {
                    self.state = State::Sending(AfterSend::Handshake);
                    return Ok(Some(Step::Transmit));
                }
            }
            if !tls.is_handshaking() {
                self.prepare_request(now)?;
                return Ok(None);
            }
            if self.eof {
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

    // ----- connection set-up -----------------------------------------

    pub(super) fn connected(&mut self, now: Instant) -> Result<()> {
        self.report.connections_opened += 1;
        self.conn = Some(self.new_connection());
        if matches!(self.route, Route::Tunnel { .. }) {
            return self.send_connect();
        }
        self.start_tls_or_send(now)
    }

    /// Encode the `CONNECT` head (authority form, with the proxy's
    /// credentials if it has any) into `out` and start sending it.
    fn send_connect(&mut self) -> Result<()> {
        let Route::Tunnel { authority, .. } = &self.route else {
            return Err(usage("CONNECT on a route without a tunnel"));
        };
        let mut headers = HeaderMap::new();
        if let Some(pa) = &mut self.proxy_auth {
            pa.authorize(
                &Method::CONNECT,
                &self.url,
                authority,
                &mut headers,
                &mut self.rng,
            )?;
        }
        let uri: Uri = authority.parse().map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("cannot write {authority:?} as a CONNECT target"),
            )
        })?;
        let mut head = std::mem::take(&mut self.out);
        head.clear();
        let info = h1::encode_request_head(
            &Method::CONNECT,
            &uri,
            &headers,
            TargetForm::Authority,
            RequestFraming::None,
            &mut head,
        )?;
        self.out = head;
        self.out_pos = 0;
        self.reader.reset(info);
        self.state = State::Sending(AfterSend::TunnelRead);
        Ok(())
    }

    fn tunnel_established(&mut self, head: h1::ResponseHead, now: Instant) -> Result<()> {
        let status = head.status;
        // The proxy sees every CONNECT answer (a 2xx may carry
        // `Proxy-Authentication-Info: nextnonce`); a 407 may be answered
        // once per hop.
        let decision = match &mut self.proxy_auth {
            Some(pa) => Some(pa.on_response(&self.url, status, &head.headers, &self.agent)),
            None => None,
        };
        if status.is_success() {
            self.in_start = 0;
            self.in_end = 0;
            return self.start_tls_or_send(now);
        }
        if status != StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            return Err(proxy_error(format!(
                "the proxy refused CONNECT with status {status}"
            )));
        }
        match decision {
            Some(AuthDecision::Resend { .. }) => {
                self.record(
                    AttemptOutcome::Status(status),
                    "answer proxy auth challenge (CONNECT)",
                    Duration::ZERO,
                );
                self.state = State::Drain(Next::Tunnel);
                Ok(())
            }
            None => Err(proxy_error(
                "the proxy requires authentication (407) for CONNECT",
            )),
            Some(d) => Err(proxy_error(format!(
                "the proxy requires authentication (407) for CONNECT: {}",
                proxy_auth::unanswered_reason(&d)
            ))),
        }
    }

    fn start_tls_or_send(&mut self, now: Instant) -> Result<()> {
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
        let mut headers = self.headers.clone();
        if cfg.cookie_store && !headers.contains_key(COOKIE) {
            if let Some(v) = self
                .agent
                .cookies()
                .cookie_header(&self.url, self.wall(now))
            {
                headers.insert(COOKIE, v);
            }
        }
        let (form, target) = match &self.route {
            Route::Forward { target, .. } => (TargetForm::Absolute, target.clone()),
            _ => (TargetForm::Origin, origin_uri(&self.url)),
        };
        match (&self.route, &mut self.proxy_auth) {
            (Route::Forward { .. }, Some(pa)) => {
                pa.authorize(
                    &self.method,
                    &self.url,
                    &target,
                    &mut headers,
                    &mut self.rng,
                )?;
            }
            // Proxy credentials belong on the CONNECT only: nothing
            // (not even a caller-set field) goes to the origin in the tunnel.
            (Route::Tunnel { .. }, _) => {
                headers.remove(http::header::PROXY_AUTHORIZATION);
            }
            _ => {}
        }
        if let Some(auth) = &self.auth {
            let mut method = self.method.clone();
            let mut url = self.url.clone();
            let path = request_target(&self.url);
            let mut req = OutgoingRequest::new(&mut method, &mut url, &mut headers);
            if form == TargetForm::Absolute {
                req = req.with_request_target(&target);
            } else {
                req = req.with_request_target(&path);
            }
            auth.authorize(&mut req, &mut self.auth_state, &mut self.rng)?;
        }
        let framing = match self.body.len() {
            Some(0) if !self.body.is_stream() => {
                if matches!(self.method, Method::POST | Method::PUT | Method::PATCH) {
                    RequestFraming::Length(0)
                } else {
                    RequestFraming::None
                }
            }
            Some(n) => RequestFraming::Length(n),
            None => RequestFraming::Chunked,
        };
        let expect = match (cfg.expect_continue_min, self.body.len()) {
            (Some(min), Some(n)) => n >= min && n > 0,
            (Some(_), None) => false,
            (None, _) => false,
        };
        if expect {
            headers.insert(EXPECT, HeaderValue::from_static("100-continue"));
        }
        let uri: Uri = target.parse().map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("cannot write {:?} as a request target", self.url.as_str()),
            )
        })?;
        let mut head = std::mem::take(&mut self.out);
        head.clear();
        let info = h1::encode_request_head(&self.method, &uri, &headers, form, framing, &mut head)?;
        // A caller-set `Expect: 100-continue` is honoured like our own.
        let expect = expect || (info.expect_continue && !self.body.is_empty());
        self.reader.reset(info);
        self.attempt_close = info.connection_close;
        self.out_pos = 0;
        self.chunked = (framing == RequestFraming::Chunked).then(h1::ChunkedEncoder::new);
        self.encrypt_into_out(head)?;
        self.send_body_bytes = !expect && self.body.as_bytes().is_some_and(|b| !b.is_empty());
        self.body_pos = 0;
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
    fn encrypt_into_out(&mut self, data: Vec<u8>) -> Result<()> {
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
            self.out = out;
            return Ok(());
        }
        self.out = data;
        Ok(())
    }

    // ----- reading -----------------------------------------------------

    pub(super) fn make_room(&mut self) {
        if self.pending == Pending::None && self.in_start > 0 {
            self.inbuf.copy_within(self.in_start..self.in_end, 0);
            self.in_end -= self.in_start;
            self.in_start = 0;
        }
        if self.inbuf.len() < self.in_end + READ_BUF / 2 {
            self.inbuf.resize(self.in_end + READ_BUF, 0);
        }
    }

    /// Run the response reader over buffered bytes.
    fn feed(&mut self) -> Result<Fed> {
        loop {
            let input = self.inbuf.get(self.in_start..self.in_end).unwrap_or(&[]);
            let base = input.as_ptr() as usize;
            let (n, ev) = self.reader.read(input)?;
            let fed = match ev {
                Event::NeedInput => Fed::NeedInput,
                Event::Continue => Fed::Continue,
                Event::Head(h) => Fed::Head(h),
                Event::Body(b) => {
                    let off = self.in_start + (b.as_ptr() as usize - base);
                    Fed::Body(off..off + b.len())
                }
                Event::Trailers(_) => {
                    self.in_start += n;
                    continue;
                }
                Event::Done => Fed::Done,
            };
            self.in_start += n;
            if let Fed::NeedInput = fed {
                if self.pull_tls()? {
                    continue;
                }
                if self.eof {
                    // Any failure here is the peer closing early: the retry
                    // policy classes it as EOF (stale connections included).
                    return match self.reader.eof() {
                        Ok(Event::Done) => Ok(Fed::Done),
                        Ok(_) => {
                            self.closed_early = true;
                            Err(protocol(
                                "the connection closed before the response was complete",
                            ))
                        }
                        Err(e) => {
                            self.closed_early = true;
                            Err(e.into())
                        }
                    };
                }
            }
            return Ok(fed);
        }
    }

    /// Move decrypted bytes that TLS holds into `inbuf`; true if any moved.
    fn pull_tls(&mut self) -> Result<bool> {
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
            let room = &mut self.inbuf[self.in_end..];
            match tls.read_plaintext(room)? {
                TlsRead::Data(n) if n > 0 => {
                    self.in_end += n;
                    if self.expecting_head() {
                        self.got_any = true;
                    }
                    Ok(true)
                }
                TlsRead::Closed => {
                    self.eof = true;
                    Ok(false)
                }
                _ => Ok(false),
            }
        }
        #[cfg(not(feature = "rustls"))]
        Ok(false)
    }

    // ----- the response head: every decision -----------------------------

    fn on_head(&mut self, head: h1::ResponseHead, now: Instant) -> Result<()> {
        self.keep_alive = head
            .headers
            .get("keep-alive")
            .and_then(|v| v.to_str().ok())
            .map(KeepAlive::parse);
        if head.version == Version::HTTP_10 && self.keep_alive.is_none() {
            self.keep_alive = None;
        }
        let status = head.status;
        if self.agent.config().cookie_store {
            let wall = self.wall(now);
            self.agent
                .cookies()
                .store(&self.url, head.headers.get_all(SET_COOKIE).iter(), wall);
        }

        // Through a forward proxy, the proxy's auth sees every head too; a
        // 407 is answered once per hop, like a 401.
        if let (Route::Forward { .. }, Some(pa)) = (&self.route, &mut self.proxy_auth) {
            let decision = pa.on_response(&self.url, status, &head.headers, &self.agent);
            if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED
                && matches!(decision, AuthDecision::Resend { .. })
                && self.body_replay().can_send()
            {
                self.record(
                    AttemptOutcome::Status(status),
                    "answer proxy auth challenge",
                    Duration::ZERO,
                );
                self.state = State::Drain(Next::Attempt(None));
                return Ok(());
            }
        }

        // Auth sees every head (a 2xx may carry `Authentication-Info:
        // nextnonce`); only 401/407 can ask for a re-send, at most once per
        // hop (the auth state counts).
        if let Some(auth) = &self.auth {
            let decision = auth.on_response(&self.url, status, &head.headers, &mut self.auth_state);
            if matches!(status.as_u16(), 401 | 407) {
                if let AuthDecision::Resend { .. } = decision {
                    if self.body_replay().can_send() {
                        self.record(
                            AttemptOutcome::Status(status),
                            "answer auth challenge",
                            Duration::ZERO,
                        );
                        self.state = State::Drain(Next::Attempt(None));
                        return Ok(());
                    }
                }
            }
        }

        let location = head.headers.get(LOCATION).map(|v| v.as_bytes().to_vec());
        let is_redirect = crate::redirect::is_redirect_status(status)
            && location.as_ref().is_some_and(|l| !l.is_empty());
        let permission = match self.redirect.max_redirects() {
            _ if !is_redirect => RedirectPermission::Follow,
            None => RedirectPermission::NotFollowing,
            Some(max) if self.redirects_followed >= max => RedirectPermission::LimitReached,
            Some(_) => RedirectPermission::Follow,
        };
        let mut outcome = ResponseOutcome::new(status.as_u16())
            .redirect(permission)
            .body(self.body_replay());
        if let Some(ra) = head.headers.get(RETRY_AFTER) {
            outcome = outcome.retry_after(String::from_utf8_lossy(ra.as_bytes()).into_owned());
        }
        if let Some(l) = &location {
            outcome = outcome.location(String::from_utf8_lossy(l).as_ref());
        }
        let decision = self.decide(Outcome::Response(outcome), now);
        match decision {
            Decision::Return => {
                self.record(AttemptOutcome::Status(status), "return", Duration::ZERO);
                self.deliver(head, now);
            }
            Decision::Retry { after, reason } => {
                let what = match reason {
                    RetryReason::RetryAfter => format!("retry after {after:?} (Retry-After)"),
                    _ => format!("retry after {after:?} (backoff)"),
                };
                self.record(AttemptOutcome::Status(status), what, after);
                self.state = State::Drain(Next::Attempt(Some(now + after)));
            }
            Decision::FollowRedirect => {
                let hop = self
                    .redirect
                    .next_hop(
                        self.redirects_followed,
                        &self.url,
                        &self.method,
                        status,
                        location.as_deref(),
                        self.body_replay().can_send(),
                    )
                    .map_err(|e| self.final_error(e.into()))?;
                let Some(hop) = hop else {
                    self.record(AttemptOutcome::Status(status), "return", Duration::ZERO);
                    self.deliver(head, now);
                    return Ok(());
                };
                self.record(
                    AttemptOutcome::Status(status),
                    format!("follow redirect to {}", hop.url()),
                    Duration::ZERO,
                );
                self.follow(hop, status)?;
                self.state = State::Drain(Next::Attempt(None));
            }
            Decision::Fail(fail) => {
                self.record(AttemptOutcome::Status(status), "fail", Duration::ZERO);
                let e = fail.into_error(None);
                let msg = format!("{} for url: {}", e.message(), self.url);
                // Keep the timeout phase: callers match on it (RETRY.md: the
                // deadline error names the deadline).
                let e = match e.timeout_phase() {
                    Some(phase) => Error::timeout(phase, msg),
                    None => Error::new(e.kind(), msg),
                }
                .with_source(e);
                self.error = Some(e);
                self.final_pending = true;
                self.attempt_close = true;
                self.release(false, Next::Fail);
            }
        }
        Ok(())
    }

    /// Apply a redirect hop: new URL, method, body and headers.
    fn follow(&mut self, hop: RedirectHop, status: StatusCode) -> Result<()> {
        self.history.push(HistoryItem {
            status,
            url: self.url.clone(),
            method: self.method.clone(),
        });
        self.report
            .redirects
            .push((status, hop.url().as_str().to_owned()));
        self.redirects_followed += 1;
        hop.apply_to_headers(&mut self.headers);
        if hop.drops_body() {
            self.body = Body::empty();
        }
        let (url, method) = hop.into_parts();
        self.url = url;
        self.method = method;
        self.retry_state
            .redirected(self.method.clone(), self.url.as_str());
        self.auth_state.next_hop();
        let (route, key) = route_for(&self.agent, &self.url).map_err(|e| self.final_error(e))?;
        self.proxy_auth = ProxyAuth::for_next_hop(self.proxy_auth.take(), &route, &self.agent)
            .map_err(|e| self.final_error(e))?;
        self.route = route;
        self.key = key;
        Ok(())
    }

    fn deliver(&mut self, head: h1::ResponseHead, now: Instant) {
        let mut headers = head.headers;
        self.decoder = None;
        if self.agent.config().decompress && self.method != Method::HEAD {
            if let Some(d) = headers
                .get(CONTENT_ENCODING)
                .and_then(|v| Decoder::for_encoding(v.as_bytes()))
            {
                self.decoder = Some(d);
                headers.remove(CONTENT_ENCODING);
                headers.remove(CONTENT_LENGTH);
            }
        }
        self.staged_head = Some(Head {
            status: head.status,
            version: head.version,
            headers,
            url: self.url.clone(),
            history: std::mem::take(&mut self.history),
        });
        self.tracker.begin(Phase::Body, now);
        self.state = State::ReadBody;
    }

    fn record(&mut self, outcome: AttemptOutcome, next: impl Into<String>, sleep: Duration) {
        let next = next.into();
        #[cfg(feature = "tracing")]
        tracing::debug!(method = %self.method, url = %self.url, reused = self.reused, outcome = ?outcome, next = %next, "hawser: attempt");
        self.report.attempts.push(AttemptReport {
            method: self.method.clone(),
            url: self.url.as_str().to_owned(),
            reused_connection: self.reused,
            outcome,
            next,
            sleep,
        });
    }

    // ----- failures ----------------------------------------------------

    /// An attempt failed with `e`: decide (retry or final) and set the state.
    /// Returns `Err` when the call ends here.
    fn attempt_error(&mut self, e: Error, now: Instant) -> Result<()> {
        if std::mem::take(&mut self.final_pending) || self.state == State::ReadBody {
            return Err(e);
        }
        let kind = match classify(&e, self.state, std::mem::take(&mut self.closed_early)) {
            Some(k) => k,
            None => {
                self.record(AttemptOutcome::Error(e.to_string()), "fail", Duration::ZERO);
                return Err(e);
            }
        };
        let outcome = ErrorOutcome::new(kind)
            .sent(self.sent_any)
            .response_started(self.got_any)
            .reused(self.reused)
            .body(self.body_replay());
        let decision = self.decide(Outcome::Error(outcome), now);
        match decision {
            Decision::Retry { after, reason } => {
                let what = match reason {
                    RetryReason::StaleConnection => {
                        "re-send on a fresh connection (stale pooled connection)".to_string()
                    }
                    _ => format!("retry after {after:?}"),
                };
                self.record(AttemptOutcome::Error(e.to_string()), what, after);
                self.release(false, Next::Attempt(Some(now + after)));
                Ok(())
            }
            Decision::Fail(fail) => {
                self.record(AttemptOutcome::Error(e.to_string()), "fail", Duration::ZERO);
                let e = fail.into_error(Some(e));
                if self.conn.is_some() {
                    self.error = Some(e);
                    self.release(false, Next::Fail);
                    Ok(())
                } else {
                    Err(e)
                }
            }
            Decision::Return | Decision::FollowRedirect => {
                self.record(AttemptOutcome::Error(e.to_string()), "fail", Duration::ZERO);
                Err(e)
            }
        }
    }

    // ----- inputs --------------------------------------------------------

    /// Report what the driver did for the last [`Output`].
    pub fn handle_input(&mut self, input: Input<'_, T>, now: Instant) -> Result<()> {
        self.now_hint = now;
        if self.state == State::Failed {
            return Err(self.sticky_error());
        }
        let r = self.handle(input, now);
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::Usage => Err(e),
            Err(e) => match self.attempt_error(e, now) {
                Ok(()) => Ok(()),
                Err(e) => {
                    // Keep the error for poll_output, which reports it (after
                    // giving the connection back) so drivers have one exit.
                    self.error = Some(e);
                    self.final_pending = false;
                    self.release(false, Next::Fail);
                    Ok(())
                }
            },
        }
    }

    fn handle(&mut self, input: Input<'_, T>, now: Instant) -> Result<()> {
        // The core maps I/O results once, for every driver: EINTR is no
        // progress, WouldBlock and TimedOut are a timer that fired.
        let input = match input {
            Input::Failed(e) if e.kind() == std::io::ErrorKind::Interrupted => Input::NoProgress,
            Input::Failed(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) && !matches!(self.state, State::Resolve | State::Dial) =>
            {
                Input::Timeout
            }
            other => other,
        };
        match (self.state, input) {
            (State::Check, input) => self.handle_check(input, now),
            (State::Resolve | State::Dial, input) => self.handle_dial(input, now),
            (State::Backoff(_) | State::Acquire | State::AwaitSlot, Input::Timeout) => Ok(()),
            (_, Input::NoProgress) => Ok(()),
            (State::Sending(_), Input::Written(n)) => {
                let offered = if self.tx_from_body {
                    let len = self.body.as_bytes().map_or(0, |b| b.len());
                    len.saturating_sub(self.body_pos).min(SEND_PIECE)
                } else {
                    self.out.len().saturating_sub(self.out_pos)
                };
                if n > offered {
                    return Err(usage(
                        "Input::Written reports more bytes than the last Output::Transmit held",
                    ));
                }
                if n > 0 {
                    self.tracker.progress(now);
                }
                if std::mem::take(&mut self.tx_from_body) {
                    self.body_pos += n;
                } else {
                    self.out_pos = (self.out_pos + n).min(self.out.len());
                }
                if n > 0
                    && !matches!(
                        self.state,
                        State::Sending(AfterSend::Handshake | AfterSend::TunnelRead)
                    )
                {
                    self.sent_any = true;
                }
                Ok(())
            }
            (
                State::Handshake
                | State::TunnelRead
                | State::AwaitContinue(_)
                | State::ReadHead
                | State::Drain(_)
                | State::ReadBody,
                Input::Read(n),
            ) => {
                if n == 0 {
                    // Zero bytes is no progress (EOF is `Input::Eof`).
                    return Ok(());
                }
                self.tracker.progress(now);
                self.received(n)
            }
            (
                State::Handshake
                | State::TunnelRead
                | State::AwaitContinue(_)
                | State::ReadHead
                | State::Drain(_)
                | State::ReadBody,
                Input::Eof,
            ) => {
                self.eof = true;
                #[cfg(feature = "rustls")]
                if let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut()) {
                    if let Err(e) = tls.received_eof() {
                        // A missing close_notify after a complete response is
                        // common and harmless; framing decides truncation.
                        let _ = e;
                    }
                }
                Ok(())
            }
            (State::StreamBody, Input::BodyData(data)) => {
                // A blocking body source cannot be interrupted: a piece that
                // arrives after the deadline fails the call, as in any driver.
                self.tracker.check(now)?;
                self.tracker.progress(now);
                self.body_streamed += data.len() as u64;
                if let Some(len) = self.body.len() {
                    if self.body_streamed > len {
                        return Err(self.final_error(Error::new(
                            ErrorKind::InvalidRequest,
                            format!("the streamed body is longer than its declared length {len}"),
                        )));
                    }
                }
                let mut buf = std::mem::take(&mut self.out);
                buf.clear();
                match &mut self.chunked {
                    Some(enc) => enc.chunk(data, &mut buf)?,
                    None => buf.extend_from_slice(data),
                }
                self.encrypt_into_out(buf)?;
                self.out_pos = 0;
                self.state = State::Sending(AfterSend::StreamBody);
                Ok(())
            }
            (State::StreamBody, Input::Failed(e)) => Err(self.final_error(
                Error::new(
                    ErrorKind::InvalidRequest,
                    format!("reading the request body failed: {e}"),
                )
                .with_source(e),
            )),
            (State::StreamBody, Input::BodyEnd) => {
                if let Some(len) = self.body.len() {
                    if self.body_streamed != len {
                        return Err(self.final_error(Error::new(
                            ErrorKind::InvalidRequest,
                            format!(
                                "the streamed body ended after {} of its declared {len} bytes",
                                self.body_streamed
                            ),
                        )));
                    }
                }
                let mut buf = std::mem::take(&mut self.out);
                buf.clear();
                if let Some(enc) = &mut self.chunked {
                    enc.finish(None, &mut buf)?;
                }
                self.encrypt_into_out(buf)?;
                self.out_pos = 0;
                self.state = State::Sending(AfterSend::ReadHead);
                Ok(())
            }
            (State::AwaitContinue(at), Input::Timeout)
                if now >= at && self.tracker.check(now).is_ok() =>
            {
                // No 100 in time: send the body anyway (RFC 9110 §10.1.1).
                self.release_body(now);
                Ok(())
            }
            (State::Backoff(_), _) => Err(usage("input during a backoff wait")),
            // A timer that fired early (or spuriously) is a no-op: only an
            // expired bound is a timeout.
            (_, Input::Timeout) => self.tracker.check(now),
            (_, Input::Failed(e)) => {
                let what = match self.state {
                    State::Sending(_) | State::StreamBody => "sending the request",
                    State::Handshake => "the TLS handshake",
                    _ => "reading the response",
                };
                Err(
                    Error::new(ErrorKind::Io, format!("I/O error while {what}: {e}"))
                        .with_source(e),
                )
            }
            (state, input) => Err(unexpected(&input, state)),
        }
    }

    /// `n` bytes were read into the lent buffer.
    fn received(&mut self, n: usize) -> Result<()> {
        #[cfg(feature = "rustls")]
        if self.conn.as_ref().is_some_and(Connection::is_tls) {
            if n > self.raw.len().saturating_sub(self.raw_end) {
                return Err(usage(
                    "Input::Read reports more bytes than the read buffer holds",
                ));
            }
            self.raw_end += n;
            return self.push_tls();
        }
        if n > self.inbuf.len().saturating_sub(self.in_end) {
            return Err(usage(
                "Input::Read reports more bytes than the read buffer holds",
            ));
        }
        if n > 0 && self.expecting_head() {
            self.got_any = true;
        }
        self.in_end += n;
        Ok(())
    }

    /// Feed buffered ciphertext to TLS. What it does not take yet (its
    /// plaintext buffer is full) stays in `raw` for the next round: never dropped.
    #[cfg(feature = "rustls")]
    fn push_tls(&mut self) -> Result<()> {
        if let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut()) {
            while self.raw_start < self.raw_end {
                let used = tls.received(&self.raw[self.raw_start..self.raw_end])?;
                if used == 0 {
                    break;
                }
                self.raw_start += used;
            }
        }
        Ok(())
    }
}

/// Map an attempt error to the retry module's failure kinds. `None`: final.
fn classify(e: &Error, state: State, closed_early: bool) -> Option<FailureKind> {
    Some(match e.kind() {
        ErrorKind::Certificate => FailureKind::Certificate,
        ErrorKind::InvalidRequest | ErrorKind::BodyNotReplayable => FailureKind::InvalidRequest,
        ErrorKind::TooManyRedirects => FailureKind::TooManyRedirects,
        ErrorKind::Connect => FailureKind::Refused,
        ErrorKind::Tls => {
            if state == State::Handshake || matches!(state, State::Sending(AfterSend::Handshake)) {
                FailureKind::TlsHandshake
            } else {
                FailureKind::Reset
            }
        }
        ErrorKind::Timeout => match e.timeout_phase() {
            Some(TimeoutPhase::Connect) => FailureKind::ConnectTimeout,
            Some(TimeoutPhase::TlsHandshake) => FailureKind::TlsHandshakeTimeout,
            Some(TimeoutPhase::Send) => FailureKind::SendTimeout,
            Some(TimeoutPhase::ResponseHead) | Some(TimeoutPhase::Body) => FailureKind::ReadTimeout,
            _ => return None,
        },
        // A close before the response was complete is EOF; a malformed
        // answer is read-class, like urllib3's ProtocolError.
        ErrorKind::Protocol | ErrorKind::Body if closed_early => FailureKind::Eof,
        ErrorKind::Protocol => FailureKind::Reset,
        ErrorKind::Io => {
            if matches!(state, State::Resolve | State::Dial) {
                FailureKind::Refused
            } else {
                FailureKind::Reset
            }
        }
        ErrorKind::Proxy => FailureKind::Other,
        _ => return None,
    })
}

fn protocol(msg: &'static str) -> Error {
    Error::new(ErrorKind::Protocol, msg)
}

fn proxy_error(msg: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::Proxy, msg)
}

/// A driver answered with an input the last output did not ask for.
pub(super) fn unexpected<T>(input: &Input<'_, T>, state: State) -> Error {
    Error::new(
        ErrorKind::Usage,
        format!("input {input:?} does not answer the last output (state {state:?})"),
    )
}

pub(super) fn describe_target(route: &Route) -> String {
    let (h, p) = connect_target(route);
    match route.proxy() {
        Some(_) => format!("the proxy {h}:{p}"),
        None => format!("{h}:{p}"),
    }
}

/// Where the TCP connection goes: the proxy, or the origin.
pub(super) fn connect_target(route: &Route) -> (&str, u16) {
    match route {
        Route::Direct { host, port } => (host.as_str(), *port),
        Route::Forward { proxy, .. } | Route::Tunnel { proxy, .. } => (proxy.host(), proxy.port()),
    }
}

/// The route and pool key for `url`.
pub(super) fn route_for<T>(agent: &Agent<T>, url: &Url) -> Result<(Route, PoolKey)> {
    let route = agent.config().proxies.route(url)?;
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let mut key = if url.scheme() == "https" {
        PoolKey::new(Scheme::Https, host, port)
    } else {
        PoolKey::new(Scheme::Http, host, port)
    };
    if let Some(p) = route.proxy() {
        key = key.with_proxy(hash_str(&format!("{}:{}", p.host(), p.port())));
    }
    #[cfg(feature = "rustls")]
    if url.scheme() == "https" {
        let id = agent.config().tls.id();
        key = key.with_tls_identity(hash_bytes(id.as_bytes()));
    }
    Ok((route, key))
}

fn hash_str(s: &str) -> u64 {
    hash_bytes(s.as_bytes())
}

/// FNV-1a: a stable, dependency-free identity for pool keys.
fn hash_bytes(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `scheme://host:port/path?query` without userinfo or fragment.
fn origin_uri(url: &Url) -> String {
    url[..url::Position::AfterQuery].to_owned()
}

/// `path?query`, the origin-form target.
fn request_target(url: &Url) -> String {
    url[url::Position::BeforePath..url::Position::AfterQuery].to_owned()
}
