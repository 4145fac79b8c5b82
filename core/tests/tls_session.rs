//! Driving a TlsSession: plaintext round trips through the handshake,
//! arbitrary splits of the server's bytes, garbage, sticky errors, clean and
//! unclean closes, and back-pressure. The server is rustls in the same
//! process; bytes move through memory.
#![cfg(feature = "rustls")]

mod tls_support;

use std::io::Write;

use hawser_core::ErrorKind;
use hawser_core::tls::{TlsRead, TlsSession};
use proptest::prelude::*;
use tls_support::*;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

struct Pair {
    client: TlsSession,
    server: rustls::ServerConnection,
}

fn pair() -> Pair {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue(&["localhost", "127.0.0.1"]);
    Pair {
        client: TlsSession::new(&connector_trusting(&ca), "localhost").expect("session"),
        server: server_for(&leaf),
    }
}

fn connected_pair() -> Pair {
    let mut p = pair();
    let pumped = pump(&mut p.client, &mut p.server);
    assert!(pumped.client.is_ok() && pumped.server.is_ok());
    assert!(!p.client.is_handshaking());
    p
}

#[test]
fn request_and_response_round_trip_through_the_handshake() {
    let mut p = pair();
    // Written before the handshake: queued, and sent once keys exist.
    assert_eq!(p.client.write_plaintext(REQUEST).unwrap(), REQUEST.len());
    assert!(p.client.is_handshaking());
    assert!(pump(&mut p.client, &mut p.server).client.is_ok());
    assert_eq!(server_plaintext(&mut p.server), REQUEST);

    p.server.writer().write_all(RESPONSE).unwrap();
    assert!(pump(&mut p.client, &mut p.server).client.is_ok());
    let (got, next) = client_plaintext(&mut p.client);
    assert_eq!(got, RESPONSE);
    assert_eq!(next, TlsRead::NeedInput);
}

#[test]
fn byte_by_byte_delivery_of_every_server_flight_completes() {
    let mut p = pair();
    p.client.write_plaintext(REQUEST).unwrap();
    let pumped = pump_chunked(&mut p.client, &mut p.server, 1);
    assert!(pumped.client.is_ok(), "{:?}", pumped.client);
    assert!(!p.client.is_handshaking());
    assert_eq!(server_plaintext(&mut p.server), REQUEST);

    p.server.writer().write_all(RESPONSE).unwrap();
    assert!(pump_chunked(&mut p.client, &mut p.server, 1).client.is_ok());
    assert_eq!(client_plaintext(&mut p.client).0, RESPONSE);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Any chunk size for the server's bytes gives the same plaintext.
    #[test]
    fn any_chunking_of_server_bytes_gives_the_same_plaintext(chunk in 1usize..600) {
        let mut p = pair();
        p.client.write_plaintext(REQUEST).unwrap();
        prop_assert!(pump_chunked(&mut p.client, &mut p.server, chunk).client.is_ok());
        prop_assert!(!p.client.is_handshaking());
        p.server.writer().write_all(RESPONSE).unwrap();
        prop_assert!(pump_chunked(&mut p.client, &mut p.server, chunk).client.is_ok());
        prop_assert_eq!(client_plaintext(&mut p.client).0, RESPONSE.to_vec());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary server bytes never panic; they are consumed or refused with
    /// a TLS error, never a certificate error, and the failure is sticky.
    #[test]
    fn arbitrary_server_bytes_are_consumed_or_a_tls_error(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut p = pair();
        let mut hello = Vec::new();
        p.client.transmit(&mut hello);
        match p.client.received(&bytes) {
            Ok(n) => prop_assert_eq!(n, bytes.len()),
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::Tls);
                prop_assert!(p.client.is_failed());
                prop_assert_eq!(p.client.received(b"x").unwrap_err().kind(), ErrorKind::Tls);
            }
        }
    }
}

#[test]
fn garbage_from_the_server_is_a_tls_error() {
    let mut p = pair();
    let mut hello = Vec::new();
    assert!(p.client.transmit(&mut hello) > 0);
    let err = p
        .client
        .received(b"\x00\x00\x00\x00\x00not a TLS record at all")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert!(
        err.to_string().starts_with("TLS with localhost failed:"),
        "{err}"
    );
    // The client tells the server why, in an alert record (content type 21).
    let mut alert = Vec::new();
    assert!(p.client.transmit(&mut alert) > 0);
    assert_eq!(alert.first(), Some(&21));
}

#[test]
fn errors_are_sticky_across_every_data_call() {
    let mut p = pair();
    let mut hello = Vec::new();
    p.client.transmit(&mut hello);
    let first = p.client.received(b"\x17\x03\x03\x00\x01\x00").unwrap_err();
    assert_eq!(first.kind(), ErrorKind::Tls);
    assert!(p.client.is_failed());
    assert!(!p.client.wants_read());

    // Even bytes that would be valid now are refused.
    let valid_server_hello = server_output_after(&mut p.server, &hello);
    let again = p.client.received(&valid_server_hello).unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Tls);
    assert!(
        again.to_string().starts_with("TLS session already failed:"),
        "{again}"
    );
    let mut buf = [0u8; 16];
    assert_eq!(
        p.client.read_plaintext(&mut buf).unwrap_err().kind(),
        ErrorKind::Tls
    );
    assert_eq!(
        p.client.write_plaintext(b"GET").unwrap_err().kind(),
        ErrorKind::Tls
    );
    assert_eq!(p.client.received_eof().unwrap_err().kind(), ErrorKind::Tls);
}

fn server_output_after(server: &mut rustls::ServerConnection, client_hello: &[u8]) -> Vec<u8> {
    server_input(server, client_hello).expect("server accepts the ClientHello");
    server_output(server)
}

#[test]
fn certificate_errors_stay_certificate_errors_when_sticky() {
    let ca = Ca::new("hawser test CA");
    let leaf = ca.issue(&["127.0.0.1"]);
    let mut client = TlsSession::new(&connector_trusting(&ca), "localhost").unwrap();
    let mut server = server_for(&leaf);
    let first = pump(&mut client, &mut server).client.unwrap_err();
    assert_eq!(first.kind(), ErrorKind::Certificate);
    let mut buf = [0u8; 8];
    assert_eq!(
        client.read_plaintext(&mut buf).unwrap_err().kind(),
        ErrorKind::Certificate
    );
    assert_eq!(
        client.write_plaintext(b"x").unwrap_err().kind(),
        ErrorKind::Certificate
    );
}

#[test]
fn clean_close_notify_is_reported_as_closed_after_the_data() {
    let mut p = connected_pair();
    p.server.writer().write_all(RESPONSE).unwrap();
    p.server.send_close_notify();
    assert!(pump(&mut p.client, &mut p.server).client.is_ok());
    assert!(p.client.peer_has_closed());
    let (got, next) = client_plaintext(&mut p.client);
    assert_eq!(got, RESPONSE);
    assert_eq!(next, TlsRead::Closed);
    // A socket EOF after close_notify is the normal end.
    p.client.received_eof().unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(p.client.read_plaintext(&mut buf).unwrap(), TlsRead::Closed);
}

#[test]
fn bytes_after_close_notify_are_discarded() {
    let mut p = connected_pair();
    p.server.send_close_notify();
    let closing = server_output(&mut p.server);
    assert_eq!(p.client.received(&closing).unwrap(), closing.len());
    assert_eq!(p.client.received(b"trailing junk").unwrap(), 13);
    let mut buf = [0u8; 8];
    assert_eq!(p.client.read_plaintext(&mut buf).unwrap(), TlsRead::Closed);
}

#[test]
fn eof_without_close_notify_is_an_unexpected_eof_after_the_data() {
    let mut p = connected_pair();
    p.server.writer().write_all(RESPONSE).unwrap();
    assert!(pump(&mut p.client, &mut p.server).client.is_ok());
    p.client.received_eof().unwrap();
    let mut buf = [0u8; 256];
    assert_eq!(
        p.client.read_plaintext(&mut buf).unwrap(),
        TlsRead::Data(RESPONSE.len())
    );
    let err = p.client.read_plaintext(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert_eq!(
        err.to_string(),
        "connection to localhost ended without a TLS close_notify: the data may be truncated"
    );
    assert!(p.client.is_failed());
}

#[test]
fn eof_during_the_handshake_is_a_tls_error() {
    let mut p = pair();
    let mut hello = Vec::new();
    p.client.transmit(&mut hello);
    let err = p.client.received_eof().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert_eq!(
        err.to_string(),
        "connection to localhost closed during the TLS handshake"
    );
}

#[test]
fn ciphertext_after_reported_eof_is_a_usage_error() {
    let mut p = connected_pair();
    p.client.received_eof().unwrap();
    assert_eq!(
        p.client.received(b"late").unwrap_err().kind(),
        ErrorKind::Usage
    );
}

#[test]
fn client_close_notify_reaches_the_server_and_stops_writes() {
    let mut p = connected_pair();
    p.client.send_close_notify();
    p.client.send_close_notify(); // idempotent
    let mut out = Vec::new();
    assert!(p.client.transmit(&mut out) > 0);
    server_input(&mut p.server, &out).unwrap();
    let state = p.server.process_new_packets().unwrap();
    assert!(state.peer_has_closed());
    assert_eq!(
        p.client.write_plaintext(b"more").unwrap_err().kind(),
        ErrorKind::Usage
    );
}

#[test]
fn transmit_to_a_small_buffer_hands_out_everything_in_pieces() {
    let mut p = pair();
    let mut whole = Vec::new();
    let mut piece = [0u8; 7];
    loop {
        let n = p.client.transmit_to(&mut piece);
        if n == 0 {
            break;
        }
        whole.extend_from_slice(&piece[..n]);
    }
    assert!(!p.client.wants_write());
    // The pieces form a ClientHello the server accepts.
    server_input(&mut p.server, &whole).unwrap();
    assert!(p.server.wants_write());
}

#[test]
fn full_plaintext_buffer_pushes_back_instead_of_growing() {
    let mut p = connected_pair();
    let big = vec![b'x'; 256 * 1024];
    p.server.set_buffer_limit(None);
    p.server.writer().write_all(&big).unwrap();
    let ciphertext = server_output(&mut p.server);

    let mut fed = 0;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut refused = false;
    while fed < ciphertext.len() {
        let n = p.client.received(&ciphertext[fed..]).unwrap();
        if n < ciphertext.len() - fed {
            refused = true;
        }
        fed += n;
        while let TlsRead::Data(m) = p.client.read_plaintext(&mut buf).unwrap() {
            got.extend_from_slice(&buf[..m]);
        }
    }
    assert!(refused, "256 KiB of plaintext must not be buffered at once");
    assert_eq!(got.len(), big.len());
    assert!(got.iter().all(|&b| b == b'x'));
}

#[test]
fn empty_read_buffer_reads_nothing() {
    let mut p = connected_pair();
    assert_eq!(p.client.read_plaintext(&mut []).unwrap(), TlsRead::Data(0));
}

#[test]
fn invalid_server_names_are_invalid_requests() {
    let ca = Ca::new("hawser test CA");
    let connector = connector_trusting(&ca);
    for bad in ["", "bad host", "exa mple.com", "[::1", "a..b"] {
        let err = TlsSession::new(&connector, bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad:?}");
    }
}
