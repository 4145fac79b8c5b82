//! Credentials for the proxy on a call's route: `Proxy-Authorization` on
//! absolute-form requests and on `CONNECT`, and answers to `407`.
//!
//! The proxy URL's userinfo is sent as Basic preemptively (as requests and
//! curl do). A `407` that offers Digest switches to Digest with the same
//! user and password and is answered once per hop; a `407` that offers
//! only Basic after Basic was sent means the credentials are wrong, and is
//! final. The state lives in [`crate::auth`]; this file only picks the
//! scheme and names the request target the proxy sees.

use std::sync::{Mutex, MutexGuard, PoisonError};

use http::header::PROXY_AUTHENTICATE;
use http::{HeaderMap, Method, StatusCode};
use url::Url;

use crate::auth::{Auth, AuthDecision, AuthState, Challenge, OutgoingRequest, Unanswered};
use crate::proxy::{Proxy, Route};

use super::Agent;
use crate::{Error, ErrorKind, Result};

/// The proxy's credentials and the auth state of the current hop.
pub(super) struct ProxyAuth {
    /// The proxy these credentials belong to.
    proxy: Proxy,
    auth: Auth,
    state: AuthState,
}

impl ProxyAuth {
    /// Auth for the proxy on `route`, when it has credentials: the Digest
    /// auth an earlier call on `agent` learnt for this proxy, else Basic.
    pub(super) fn for_route<T>(route: &Route, agent: &Agent<T>) -> Result<Option<Box<ProxyAuth>>> {
        let Some(proxy) = route.proxy() else {
            return Ok(None);
        };
        let Some((user, password)) = proxy.credentials() else {
            return Ok(None);
        };
        let scope = Url::parse(&format!("http://{}/", proxy.authority())).map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!(
                    "the proxy address {} is not a valid URL: {e}",
                    proxy.authority()
                ),
            )
        })?;
        let learned = lock(&agent.shared.proxy_digest)
            .iter()
            .find(|(p, _)| p == proxy)
            .map(|(_, auth)| auth.clone());
        Ok(Some(Box::new(ProxyAuth {
            proxy: proxy.clone(),
            auth: learned.unwrap_or_else(|| Auth::basic(user, password)),
            state: AuthState::for_proxy(&scope),
        })))
    }

    /// After a redirect: keep what was learnt when the new route uses the
    /// same proxy with the same credentials (a new hop, with its own re-send
    /// allowance); otherwise start again for the new route's proxy, if any.
    pub(super) fn for_next_hop<T>(
        previous: Option<Box<ProxyAuth>>,
        route: &Route,
        agent: &Agent<T>,
    ) -> Result<Option<Box<Self>>> {
        match (previous, route.proxy()) {
            (Some(mut pa), Some(p)) if pa.proxy == *p => {
                pa.state.next_hop();
                Ok(Some(pa))
            }
            _ => ProxyAuth::for_route(route, agent),
        }
    }

    /// Set `Proxy-Authorization` on a request to the proxy whose request
    /// line carries `target` (absolute form, or `host:port` for CONNECT).
    pub(super) fn authorize(
        &mut self,
        method: &Method,
        url: &Url,
        target: &str,
        headers: &mut HeaderMap,
        rng: &mut impl rand::Rng,
    ) -> Result<()> {
        let mut method = method.clone();
        let mut url = url.clone();
        let mut req =
            OutgoingRequest::new(&mut method, &mut url, headers).with_request_target(target);
        self.auth
            .authorize(&mut req, &mut self.state, rng)
            .map_err(|e| {
                Error::new(
                    ErrorKind::InvalidRequest,
                    format!("the proxy credentials cannot be sent: {e}"),
                )
                .with_source(e)
            })
    }

    /// Look at a response head from (or through) the proxy: `Resend` when a
    /// `407` should be answered with new credentials.
    pub(super) fn on_response<T>(
        &mut self,
        url: &Url,
        status: StatusCode,
        headers: &HeaderMap,
        agent: &Agent<T>,
    ) -> AuthDecision {
        if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED
            && let Auth::Basic { user, password } = &self.auth
        {
            // Basic went preemptively; a Digest offer is the only way
            // left to authenticate, so answer it with the same secret.
            let offers_digest = Challenge::from_headers(headers, &PROXY_AUTHENTICATE)
                .iter()
                .any(|c| c.scheme_is("digest"));
            if offers_digest {
                self.auth = Auth::digest(user.clone(), password.clone());
                // Clones of a Digest auth share what they learn: the
                // session's later calls see this challenge too.
                let mut learned = lock(&agent.shared.proxy_digest);
                learned.retain(|(p, _)| *p != self.proxy);
                learned.push((self.proxy.clone(), self.auth.clone()));
            }
        }
        self.auth.on_response(url, status, headers, &mut self.state)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a `407` is final, in words for the error message.
pub(super) fn unanswered_reason(decision: &AuthDecision) -> &'static str {
    match decision {
        AuthDecision::Deliver(Unanswered::CredentialsRejected) => {
            "the proxy rejected the credentials"
        }
        AuthDecision::Deliver(Unanswered::ResendSpent) => {
            "the challenge was already answered once on this hop"
        }
        AuthDecision::Deliver(Unanswered::NoUsableChallenge) => {
            "the proxy offered no Basic or Digest challenge"
        }
        AuthDecision::Deliver(Unanswered::Unanswerable(_)) => {
            "the proxy's Digest challenge cannot be answered"
        }
        _ => "the challenge was not answered",
    }
}
