//! The two tables of [`Call`]: what each state asks of the driver
//! (`step`), and what each answer does in each state (`handle`). The work
//! of each phase lives in its own file (`conn`, `tunnel`, `exchange`,
//! `wire`, `decide`); every state change starts here.

use super::*;

impl<T> Call<T> {
    /// Reset per-attempt state; the next step asks the pool.
    pub(super) fn begin_attempt(&mut self) {
        self.state = State::Acquire;
        self.attempt = Attempt::default();
        self.wire.reset();
        self.trace.attempt(self.attempt_number(), &self.url);
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
        self.trace.call_ended(None, Some(&e));
        event!(error = %e, "hawser: call failed");
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

    // ----- outputs: what each state asks of the driver ----------------------

    pub(super) fn advance(&mut self, now: Instant) -> Result<Step> {
        loop {
            // A step may begin the next attempt: enter its span afresh.
            #[cfg(feature = "tracing")]
            let span = self.trace.current();
            #[cfg(feature = "tracing")]
            let _entered = span.enter();
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
                if self.wire.out_pos < self.wire.out.len() {
                    let pair = self.pair_with_head();
                    self.attempt.tx_pair = pair.is_some();
                    return Ok(Some(pair.map_or(Step::Transmit, Step::TransmitPair)));
                }
                self.wire.out.clear();
                self.wire.out_pos = 0;
                if self.attempt.send_body_bytes
                    && let Some(step) = self.next_body_piece()?
                {
                    return Ok(Some(step));
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
                    self.attempt.close = true;
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
                    self.attempt.drained += r.len() as u64;
                    if self.attempt.drained > self.agent.config().max_drain {
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
                    conn.keep_alive = self.attempt.keep_alive;
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

    /// Mark an error as final (no retry) and return it for `?`.
    pub(super) fn final_error(&mut self, e: Error) -> Error {
        self.final_pending = true;
        e
    }

    pub(super) fn release(&mut self, reuse: bool, next: Next) {
        if let Some(c) = &mut self.conn
            && reuse
        {
            c.served += 1;
        }
        self.state = State::Release(reuse, next);
    }

    // ----- inputs: what each answer does in each state ---------------------

    /// Report what the driver did for the last [`Output`].
    ///
    /// ```
    /// # use std::time::{Instant, SystemTime};
    /// # use hawser_core::call::{Agent, CallOptions, Config, Input, Output};
    /// # let agent: Agent<u32> = Agent::new(Config::default())?;
    /// # let now = Instant::now();
    /// # let req = hawser_core::request::Request::get("http://example.test/").build()?;
    /// # let mut call = agent.start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)?;
    /// assert!(matches!(call.poll_output(now)?, Output::Resolve { .. }));
    /// call.handle_input(Input::Resolved(vec![([127, 0, 0, 1], 8080).into()]), now)?;
    /// let Output::Connect { addr, .. } = call.poll_output(now)? else { panic!() };
    /// assert_eq!(addr, ([127, 0, 0, 1], 8080).into());
    /// // An input that answers nothing asked is a usage error; the question stands.
    /// let req = hawser_core::request::Request::get("http://example.test/").build()?;
    /// let mut other = agent.start(req, CallOptions::default(), now, SystemTime::UNIX_EPOCH)?;
    /// assert!(matches!(other.poll_output(now)?, Output::Resolve { .. }));
    /// let err = other.handle_input(Input::Written(3), now).unwrap_err();
    /// assert_eq!(err.kind(), hawser_core::ErrorKind::Usage);
    /// assert!(matches!(other.poll_output(now)?, Output::Resolve { .. }));
    /// # Ok::<(), hawser_core::Error>(())
    /// ```
    pub fn handle_input(&mut self, input: Input<'_, T>, now: Instant) -> Result<()> {
        #[cfg(feature = "tracing")]
        let span = self.trace.current();
        #[cfg(feature = "tracing")]
        let _entered = span.enter();
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
        // A ReceiveBody is answered by this input (or asked again).
        let direct = self.attempt.direct.take();
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
                let body_left = || {
                    let len = self.body.as_bytes().map_or(0, |b| b.len());
                    len.saturating_sub(self.attempt.body_pos)
                };
                let head_left = self.wire.out.len().saturating_sub(self.wire.out_pos);
                let offered = if self.attempt.tx_pair {
                    head_left + body_left()
                } else if self.attempt.tx_from_body {
                    body_left()
                } else {
                    head_left
                };
                if n > offered {
                    return Err(usage(
                        "Input::Written reports more bytes than the last Output::Transmit held",
                    ));
                }
                if n > 0 {
                    self.tracker.progress(now);
                }
                if std::mem::take(&mut self.attempt.tx_pair) {
                    let of_head = n.min(head_left);
                    self.wire.out_pos += of_head;
                    self.attempt.body_pos += n - of_head;
                } else if std::mem::take(&mut self.attempt.tx_from_body) {
                    self.attempt.body_pos += n;
                } else {
                    self.wire.out_pos = (self.wire.out_pos + n).min(self.wire.out.len());
                }
                if n > 0
                    && !matches!(
                        self.state,
                        State::Sending(AfterSend::Handshake | AfterSend::TunnelRead)
                    )
                {
                    self.attempt.sent_any = true;
                }
                Ok(())
            }
            (State::ReadBody, Input::Read(n)) if direct.is_some() => {
                self.read_direct(n, direct.unwrap_or(0), now)
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
                self.attempt.eof = true;
                #[cfg(feature = "rustls")]
                if let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_deref_mut())
                    && let Err(e) = tls.received_eof()
                {
                    // A missing close_notify after a complete response is
                    // common and harmless; framing decides truncation.
                    let _ = e;
                }
                Ok(())
            }
            (State::StreamBody, Input::BodyData(data)) => {
                // A blocking body source cannot be interrupted: a piece that
                // arrives after the deadline fails the call, as in any driver.
                self.tracker.check(now)?;
                self.tracker.progress(now);
                self.body_streamed += data.len() as u64;
                if let Some(len) = self.body.len()
                    && self.body_streamed > len
                {
                    return Err(self.final_error(Error::new(
                        ErrorKind::InvalidRequest,
                        format!("the streamed body is longer than its declared length {len}"),
                    )));
                }
                let mut buf = std::mem::take(&mut self.wire.out);
                buf.clear();
                match &mut self.attempt.chunked {
                    Some(enc) => enc.chunk(data, &mut buf)?,
                    None => buf.extend_from_slice(data),
                }
                self.encrypt_into_out(buf)?;
                self.wire.out_pos = 0;
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
                if let Some(len) = self.body.len()
                    && self.body_streamed != len
                {
                    return Err(self.final_error(Error::new(
                        ErrorKind::InvalidRequest,
                        format!(
                            "the streamed body ended after {} of its declared {len} bytes",
                            self.body_streamed
                        ),
                    )));
                }
                let mut buf = std::mem::take(&mut self.wire.out);
                buf.clear();
                if let Some(enc) = &mut self.attempt.chunked {
                    enc.finish(None, &mut buf)?;
                }
                self.encrypt_into_out(buf)?;
                self.wire.out_pos = 0;
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
}

/// A driver answered with an input the last output did not ask for.
pub(super) fn unexpected<T>(input: &Input<'_, T>, state: State) -> Error {
    Error::new(
        ErrorKind::Usage,
        format!("input {input:?} does not answer the last output (state {state:?})"),
    )
}
