//! The connection lifecycle of a call: a slot from the agent's pool (or a
//! place in its wait queue), the liveness check of an idle connection,
//! name resolution, the Happy Eyeballs race, handing the connection back,
//! and giving back whatever the call holds when it fails or is dropped.
//!
//! Every pool operation happens here, under the agent's lock, inside a pure
//! core method; no driver sees a lease or a ticket.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use super::config::{Freed, Parked};
use super::route::{connect_target, describe_target};
use super::{Call, ConnectId, Connection, Input, State, Step};
use crate::deadline::Phase;
use crate::pool::Checkout;
use crate::{Error, ErrorKind, Result};

/// Resolution and connection attempts of one attempt's connect phase.
#[derive(Debug, Default)]
pub(super) struct Dial {
    /// Addresses not tried yet, in Happy Eyeballs order.
    addrs: VecDeque<SocketAddr>,
    /// Attempts started and not yet reported.
    in_flight: Vec<ConnectId>,
    /// The next attempt starts no earlier than this (unless none runs).
    next_at: Option<Instant>,
    /// Why the last attempt failed.
    last_error: Option<io::Error>,
    /// Attempt ids are unique within the call.
    next_id: u32,
}

impl Dial {
    /// RFC 8305 §4: interleave the address families, starting with the
    /// family of the resolver's first answer.
    fn set_addrs(&mut self, addrs: Vec<SocketAddr>) {
        let first_v6 = addrs.first().is_some_and(SocketAddr::is_ipv6);
        let (mut pref, mut other): (VecDeque<_>, VecDeque<_>) =
            addrs.into_iter().partition(|a| a.is_ipv6() == first_v6);
        self.addrs.clear();
        loop {
            match (pref.pop_front(), other.pop_front()) {
                (None, None) => break,
                (a, b) => self.addrs.extend(a.into_iter().chain(b)),
            }
        }
        self.in_flight.clear();
        self.next_at = None;
    }
}

impl<T> Call<T> {
    /// Ask the pool for a slot: an idle connection (checked before use), a
    /// slot to open one, or a place in the queue.
    pub(super) fn step_acquire(&mut self, now: Instant) -> Result<Option<Step>> {
        // Leave the failed attempt's phase first: its expired timer must
        // not count as a second failure (only the deadline may).
        self.tracker.begin(Phase::PoolWait, now);
        self.tracker.check(now)?;
        let (answer, evicted) = {
            let mut slots = self.agent.shared.slots();
            let answer = slots.pool.checkout(&self.key, now);
            (answer, slots.pool.evict(now))
        };
        match answer {
            Ok(Checkout::Reuse(lease, parked)) => {
                event!(key = %lease.key(), "hawser: checking a pooled connection");
                self.lease = Some(lease);
                self.adopt(parked);
            }
            Ok(Checkout::Open(lease)) => {
                event!(key = %lease.key(), extra = lease.is_extra(), "hawser: opening a connection");
                self.lease = Some(lease);
                self.begin_connect(now);
            }
            Ok(Checkout::Wait(ticket)) => {
                event!(key = %ticket.key(), "hawser: waiting for a pool slot");
                self.waiter = Some(ticket);
                self.state = State::AwaitSlot;
            }
            Err(e) => {
                self.closing
                    .extend(evicted.into_iter().map(|e| e.handle.transport));
                return Err(self.final_error(e.into()));
            }
        }
        self.closing
            .extend(evicted.into_iter().map(|e| e.handle.transport));
        Ok(None)
    }

    /// Queued for a slot: take it once granted, else wait on.
    pub(super) fn step_await_slot(&mut self, now: Instant) -> Result<Option<Step>> {
        if let Err(e) = self.tracker.check(now) {
            return Err(self.final_error(e));
        }
        let Some(ticket) = self.waiter.take() else {
            return Err(super::usage("waiting without a ticket"));
        };
        let id = ticket.id();
        let answer = {
            let mut slots = self.agent.shared.slots();
            let answer = slots.pool.claim(ticket, now);
            if !matches!(answer, Ok(Checkout::Wait(_))) {
                slots.wakers.remove(&id);
            }
            answer
        };
        match answer {
            Ok(Checkout::Wait(ticket)) => {
                self.waiter = Some(ticket);
                Ok(Some(Step::AwaitSlot(self.tracker.poll_timeout().at)))
            }
            Ok(Checkout::Reuse(lease, parked)) => {
                event!(key = %lease.key(), "hawser: got a pool slot: a pooled connection");
                self.lease = Some(lease);
                self.adopt(parked);
                Ok(None)
            }
            Ok(Checkout::Open(lease)) => {
                event!(key = %lease.key(), "hawser: got a pool slot: opening a connection");
                self.lease = Some(lease);
                self.begin_connect(now);
                Ok(None)
            }
            Err(e) => Err(self.final_error(e.into())),
        }
    }

    /// Take an idle connection from the pool; it is checked before use.
    fn adopt(&mut self, parked: Parked<T>) {
        self.conn = Some(parked.conn);
        self.transport = Some(parked.transport);
        self.state = State::Check;
    }

    /// The answer to `Output::Check`.
    pub(super) fn handle_check(&mut self, input: Input<'_, T>, now: Instant) -> Result<()> {
        match input {
            // A peek that did not finish in time found nothing to read.
            Input::Quiet | Input::Timeout => {
                event!("hawser: reusing a pooled connection");
                self.attempt.reused = true;
                self.report.connections_reused += 1;
                self.prepare_request(now)
            }
            Input::NoProgress => Ok(()),
            Input::Eof | Input::Read(_) | Input::Failed(_) => {
                // Closed by the server, or bytes nobody asked for: never
                // read them as a response. Try the next idle one, or open.
                event!("hawser: discarded a stale pooled connection (closed or data waiting)");
                self.conn = None;
                if let Some(t) = self.transport.take() {
                    self.closing.push(t);
                }
                let next = match &mut self.lease {
                    Some(lease) => self.agent.shared.slots().pool.replace_stale(lease, now),
                    None => None,
                };
                match next {
                    Some(parked) => self.adopt(parked),
                    None => self.begin_connect(now),
                }
                Ok(())
            }
            other => Err(super::machine::unexpected(&other, self.state)),
        }
    }

    /// Connection attempts are under way (the driver holds them).
    pub(super) fn racing(&self) -> bool {
        self.state == State::Dial && !self.dial.in_flight.is_empty()
    }

    /// Start the connect phase: resolve the target, or dial an IP literal.
    pub(super) fn begin_connect(&mut self, now: Instant) {
        self.tracker.begin(Phase::Connect, now);
        self.dial = Dial {
            next_id: self.dial.next_id,
            ..Dial::default()
        };
        let (host, port) = connect_target(&self.route);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match host.parse::<IpAddr>() {
            Ok(ip) => {
                self.dial.set_addrs(vec![SocketAddr::new(ip, port)]);
                self.state = State::Dial;
            }
            Err(_) => self.state = State::Resolve,
        }
    }

    pub(super) fn step_resolve(&mut self, now: Instant) -> Result<Option<Step>> {
        self.tracker.check(now)?;
        Ok(Some(Step::Resolve))
    }

    /// The Happy Eyeballs race: start the next attempt when none runs or
    /// the stagger passed, else wait for one to end.
    pub(super) fn step_dial(&mut self, now: Instant) -> Result<Option<Step>> {
        self.tracker.check(now)?;
        let until = self.tracker.poll_timeout().at;
        let d = &mut self.dial;
        let due = d.in_flight.is_empty() || d.next_at.is_none_or(|at| now >= at);
        if due && let Some(addr) = d.addrs.pop_front() {
            let id = ConnectId(d.next_id);
            d.next_id = d.next_id.wrapping_add(1);
            d.in_flight.push(id);
            d.next_at = Some(now + self.agent.config().happy_eyeballs_delay);
            return Ok(Some(Step::Connect(id, addr)));
        }
        if !d.in_flight.is_empty() {
            let at = match d.next_at {
                Some(next) if !d.addrs.is_empty() => next.min(until),
                _ => until,
            };
            return Ok(Some(Step::AwaitConnect(at)));
        }
        let e = d.last_error.take().unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "no addresses to connect to")
        });
        Err(self.connect_error(e))
    }

    fn connect_error(&self, e: io::Error) -> Error {
        Error::new(
            ErrorKind::Connect,
            format!("could not connect to {}: {e}", describe_target(&self.route)),
        )
        .with_source(e)
    }

    /// Answers to `Resolve`, `Connect` and `AwaitConnect`.
    pub(super) fn handle_dial(&mut self, input: Input<'_, T>, now: Instant) -> Result<()> {
        match (self.state, input) {
            (State::Resolve, Input::Resolved(addrs)) => {
                if addrs.is_empty() {
                    let (host, _) = connect_target(&self.route);
                    return Err(self.connect_error(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{host} has no addresses"),
                    )));
                }
                self.dial.set_addrs(addrs);
                self.state = State::Dial;
                Ok(())
            }
            (State::Resolve, Input::Failed(e)) => {
                let (host, _) = connect_target(&self.route);
                let msg = format!("could not resolve {host}: {e}");
                Err(Error::new(ErrorKind::Connect, msg).with_source(e))
            }
            (State::Dial, Input::Connected { id, conn }) => {
                if !self.dial.in_flight.contains(&id) {
                    // A loser (or a stray): not ours to keep.
                    self.closing.push(conn);
                    return Ok(());
                }
                self.dial.in_flight.clear();
                self.dial.addrs.clear();
                self.transport = Some(conn);
                self.connected(now)
            }
            (State::Dial, Input::ConnectFailed { id, error }) => {
                if let Some(i) = self.dial.in_flight.iter().position(|x| *x == id) {
                    self.dial.in_flight.swap_remove(i);
                    self.dial.last_error = Some(error);
                    // RFC 8305 §5: a failed attempt starts the next at once.
                    self.dial.next_at = None;
                }
                Ok(())
            }
            (State::Resolve | State::Dial, Input::Timeout | Input::NoProgress) => {
                self.tracker.check(now)
            }
            (_, other) => Err(super::machine::unexpected(&other, self.state)),
        }
    }

    /// The exchange is over: the connection goes back to the pool when
    /// `reuse`, else it is closed; either way the slot is freed.
    pub(super) fn finish_connection(&mut self, reuse: bool, now: Instant) {
        let conn = self.conn.take();
        let transport = self.transport.take();
        self.wire.reset();
        let lease = self.lease.take();
        let mut freed = Freed::new();
        {
            let mut slots = self.agent.shared.slots();
            match (lease, conn, transport) {
                (Some(lease), Some(conn), Some(transport)) if reuse => {
                    let keep_alive = conn.keep_alive;
                    let parked = Parked { transport, conn };
                    if let Ok(c) = slots.pool.checkin(lease, parked, true, keep_alive, now) {
                        freed.take(&mut slots, c);
                    }
                }
                (lease, _, transport) => {
                    freed.close.extend(transport);
                    if let Some(lease) = lease
                        && let Ok(c) = slots.pool.release(lease)
                    {
                        freed.take(&mut slots, c);
                    }
                }
            }
        }
        self.closing.append(&mut freed.close);
        freed.wake();
    }

    /// Give back everything the call holds: its slot, its place in the
    /// wait queue (waking whoever gets what it frees) and its connection
    /// (closed). Runs when the call fails and when it is dropped.
    pub(super) fn give_back(&mut self) {
        let lease = self.lease.take();
        let waiter = self.waiter.take();
        self.conn = None;
        self.closing.extend(self.transport.take());
        self.wire.reset();
        if lease.is_none() && waiter.is_none() {
            return;
        }
        let mut freed = Freed::new();
        {
            let mut slots = self.agent.shared.slots();
            if let Some(lease) = lease
                && let Ok(c) = slots.pool.release(lease)
            {
                freed.take(&mut slots, c);
            }
            if let Some(ticket) = waiter {
                slots.wakers.remove(&ticket.id());
                if let Ok(c) = slots.pool.cancel(ticket, self.now_hint) {
                    freed.take(&mut slots, c);
                }
            }
        }
        self.closing.append(&mut freed.close);
        freed.wake();
    }

    /// A new connection: its core state beside the transport.
    pub(super) fn new_connection(&self) -> Connection {
        Connection {
            key: self.key.clone(),
            #[cfg(feature = "rustls")]
            tls: None,
            keep_alive: None,
            served: 0,
        }
    }
}

/// RAII: a call dropped at any point (waiting for a slot, connecting,
/// mid-head, mid-body, mid-backoff) frees its slot and its place in the
/// queue, so no driver can leak one.
impl<T> Drop for Call<T> {
    fn drop(&mut self) {
        self.give_back();
        let mut wire = std::mem::take(&mut self.wire);
        wire.names = self.reader.take_names();
        self.agent.shared.put_wire(wire);
    }
}
