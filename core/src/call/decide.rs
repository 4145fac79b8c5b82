//! Every decision: what a response head or an attempt's error means for
//! the call (return, retry after a backoff, follow a redirect, answer an
//! auth challenge, fail), through the retry policy.

use super::*;

impl<T> Call<T> {
    pub(super) fn wall(&self, now: Instant) -> SystemTime {
        self.wall0 + now.saturating_duration_since(self.start)
    }

    pub(super) fn clock(&self, now: Instant) -> Clock {
        Clock {
            now,
            wall: self.wall(now),
            deadline: Some(self.tracker.deadline()),
        }
    }

    /// The retry policy's decision on `outcome`, paying from the session's
    /// retry budget when it has one (locked only for this pure call).
    pub(super) fn decide(&mut self, outcome: Outcome, now: Instant) -> Decision {
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

    pub(super) fn body_replay(&self) -> BodyReplay {
        if self.body.is_replayable() {
            BodyReplay::Replayable
        } else if self.body_streamed == 0 {
            BodyReplay::NotStarted
        } else {
            BodyReplay::Consumed
        }
    }

    pub(super) fn on_head(&mut self, head: h1::ResponseHead, now: Instant) -> Result<()> {
        self.attempt.keep_alive = head
            .headers
            .get("keep-alive")
            .and_then(|v| v.to_str().ok())
            .map(KeepAlive::parse);
        if head.version == Version::HTTP_10 && self.attempt.keep_alive.is_none() {
            self.attempt.keep_alive = None;
        }
        let status = head.status;
        let cfg = self.agent.config();
        if !cfg.hooks.response.is_empty() {
            let view = hooks::HookResponse {
                method: &self.method,
                url: &self.url,
                attempt: self.attempt_number(),
                status,
                version: head.version,
                headers: &head.headers,
                reused_connection: self.attempt.reused,
            };
            for hook in &cfg.hooks.response {
                hook(&view);
            }
        }
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
        if let (Some(auth), Some(state)) = (&self.auth, &mut self.auth_state) {
            let decision = auth.on_response(&self.url, status, &head.headers, state);
            if matches!(status.as_u16(), 401 | 407)
                && let AuthDecision::Resend { .. } = decision
                && self.body_replay().can_send()
            {
                self.record(
                    AttemptOutcome::Status(status),
                    "answer auth challenge",
                    Duration::ZERO,
                );
                self.state = State::Drain(Next::Attempt(None));
                return Ok(());
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
                // Keep the timeout phase: callers match on it (docs/RETRY.md: the
                // deadline error names the deadline).
                let e = match e.timeout_phase() {
                    Some(phase) => Error::timeout(phase, msg),
                    None => Error::new(e.kind(), msg),
                }
                .with_source(e)
                .with_head(Head {
                    status,
                    version: head.version,
                    headers: head.headers.clone(),
                    url: self.url.clone(),
                    history: self.history.clone(),
                    reason_phrase: head.reason.clone(),
                });
                self.error = Some(e);
                self.final_pending = true;
                self.attempt.close = true;
                self.release(false, Next::Fail);
            }
        }
        Ok(())
    }

    /// Apply a redirect hop: new URL, method, body and headers.
    pub(super) fn follow(&mut self, hop: RedirectHop, status: StatusCode) -> Result<()> {
        self.history.push(HistoryItem {
            status,
            url: self.url.clone(),
            method: self.method.clone(),
        });
        self.report
            .redirects
            .push((status, hop.url().as_str().to_owned()));
        self.redirects_followed += 1;
        event!(status = status.as_u16(), to = %trace::redacted(hop.url()), "hawser: following a redirect");
        hop.apply_to_headers_with(
            self.headers.to_mut(),
            &self.agent.config().sensitive_headers,
        );
        if hop.drops_body() {
            self.body = Body::empty();
        }
        let (url, method) = hop.into_parts();
        self.url = url;
        self.method = method;
        self.retry_state
            .redirected(self.method.clone(), self.url.as_str());
        if let Some(state) = &mut self.auth_state {
            state.next_hop();
        }
        let (route, key) = route_for(&self.agent, &self.url).map_err(|e| self.final_error(e))?;
        self.proxy_auth = ProxyAuth::for_next_hop(self.proxy_auth.take(), &route, &self.agent)
            .map_err(|e| self.final_error(e))?;
        self.route = route;
        self.key = key;
        Ok(())
    }

    pub(super) fn record(
        &mut self,
        outcome: AttemptOutcome,
        next: impl Into<String>,
        sleep: Duration,
    ) {
        let next = next.into();
        self.trace.attempt_ended(self.attempt.reused, &outcome);
        event!(
            reused = self.attempt.reused,
            outcome = ?outcome,
            next = %next,
            sleep_ms = u64::try_from(sleep.as_millis()).unwrap_or(u64::MAX),
            "hawser: attempt ended"
        );
        self.report.attempts.push(AttemptReport {
            method: self.method.clone(),
            url: self.url.as_str().to_owned(),
            reused_connection: self.attempt.reused,
            outcome,
            next,
            sleep,
        });
    }

    /// An attempt failed with `e`: decide (retry or final) and set the state.
    /// Returns `Err` when the call ends here.
    pub(super) fn attempt_error(&mut self, e: Error, now: Instant) -> Result<()> {
        if std::mem::take(&mut self.final_pending) || self.state == State::ReadBody {
            return Err(e);
        }
        let kind = match classify(
            &e,
            self.state,
            std::mem::take(&mut self.attempt.closed_early),
        ) {
            Some(k) => k,
            None => {
                self.record(AttemptOutcome::Error(e.to_string()), "fail", Duration::ZERO);
                return Err(e);
            }
        };
        let outcome = ErrorOutcome::new(kind)
            .sent(self.attempt.sent_any)
            .response_started(self.attempt.got_any)
            .reused(self.attempt.reused)
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
}

/// Map an attempt error to the retry module's failure kinds. `None`: final.
pub(super) fn classify(e: &Error, state: State, closed_early: bool) -> Option<FailureKind> {
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
        // The proxy refused (a status to CONNECT, a 407 it would not take):
        // deterministic, like a certificate error, so final.
        ErrorKind::Proxy => return None,
        _ => return None,
    })
}
