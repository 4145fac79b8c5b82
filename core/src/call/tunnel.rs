//! The proxy tunnel: `CONNECT`, and its answer (a 407 is answered once).

use super::*;

impl<T> Call<T> {
    /// Encode the `CONNECT` head (authority form, with the proxy's
    /// credentials if it has any) into `out` and start sending it.
    pub(super) fn send_connect(&mut self) -> Result<()> {
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
        let mut head = std::mem::take(&mut self.wire.out);
        head.clear();
        let info = h1::encode_request_head(
            &Method::CONNECT,
            &uri,
            &headers,
            TargetForm::Authority,
            RequestFraming::None,
            &mut head,
        )?;
        self.wire.out = head;
        self.wire.out_pos = 0;
        self.reader.reset(info);
        self.state = State::Sending(AfterSend::TunnelRead);
        Ok(())
    }

    /// The `host:port` a tunnel goes to.
    fn route_authority(&self) -> &str {
        match &self.route {
            Route::Tunnel { authority, .. } => authority,
            _ => "",
        }
    }

    pub(super) fn tunnel_established(
        &mut self,
        head: h1::ResponseHead,
        now: Instant,
    ) -> Result<()> {
        let status = head.status;
        // The proxy sees every CONNECT answer (a 2xx may carry
        // `Proxy-Authentication-Info: nextnonce`); a 407 may be answered
        // once per hop.
        let decision = match &mut self.proxy_auth {
            Some(pa) => Some(pa.on_response(&self.url, status, &head.headers, &self.agent)),
            None => None,
        };
        if status.is_success() {
            self.wire.in_start = 0;
            self.wire.in_end = 0;
            return self.start_tls_or_send(now);
        }
        // A refusal is final (requests' ProxyError): asking again cannot
        // change the proxy's mind, and it names the proxy and its answer.
        let proxy = describe_target(&self.route);
        if status != StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            return Err(proxy_error(format!(
                "{proxy} refused CONNECT to {} with status {status}",
                self.route_authority()
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
            None => Err(proxy_error(format!(
                "{proxy} requires authentication ({status}) for CONNECT, and the proxy URL has no credentials"
            ))),
            Some(d) => Err(proxy_error(format!(
                "{proxy} requires authentication ({status}) for CONNECT: {}",
                proxy_auth::unanswered_reason(&d)
            ))),
        }
    }
}
