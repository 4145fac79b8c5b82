//! Saving and loading the cookie jar (features `serde`/`json`): what goes
//! out comes back the same, and a saved file is checked like any input.
#![cfg(feature = "json")]

use std::time::{Duration, SystemTime};

use hawser_core::cookies::{CookieJar, SameSite};
use url::Url;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn a_saved_jar_loads_back_with_every_attribute() {
    let now = at(1_700_000_000);
    let url = Url::parse("https://www.a.example/docs/x").unwrap();
    let mut jar = CookieJar::new();
    jar.try_store(&url, "s=1; Secure; HttpOnly; SameSite=Strict", now)
        .unwrap();
    jar.try_store(&url, "d=2; Domain=a.example; Path=/docs; Max-Age=60", now)
        .unwrap();
    jar.try_store(&url, "gone=3; Max-Age=1", now).unwrap();
    let mut out = Vec::new();
    jar.save_json(&mut out, now + Duration::from_secs(5))
        .unwrap();
    let back = CookieJar::load_json(&out[..]).unwrap();
    assert_eq!(back.len(), 2, "the expired cookie is not saved");
    let s = back.iter().find(|c| c.name() == "s").unwrap();
    assert!(s.secure() && s.http_only() && s.host_only());
    assert_eq!(s.same_site(), Some(SameSite::Strict));
    assert_eq!(s.expires(), None, "a session cookie stays one");
    let d = back.iter().find(|c| c.name() == "d").unwrap();
    assert_eq!(
        (d.domain(), d.path(), d.host_only()),
        ("a.example", "/docs", false)
    );
    assert_eq!(d.expires(), Some(now + Duration::from_secs(60)));
    let header = back.cookie_header(&url, now).unwrap();
    // Both paths are /docs: the older (first stored) goes first, as before.
    assert_eq!(header.to_str().unwrap(), "s=1; d=2");
}

#[test]
fn a_hostile_or_unknown_file_is_refused() {
    let cookie = |name: &str, domain: &str, path: &str| {
        format!(
            r#"{{"version":1,"cookies":[{{"name":"{name}","value":"v","domain":"{domain}","host_only":true,"path":"{path}","secure":false,"http_only":false,"creation":0}}]}}"#
        )
    };
    assert!(CookieJar::load_json(cookie("ok", "h.test", "/").as_bytes()).is_ok());
    for bad in [
        cookie("", "h.test", "/"),
        cookie("a;b", "h.test", "/"),
        cookie("ok", "", "/"),
        cookie("ok", "h.test", "nopath"),
        cookie("ok", "h.test\\r\\nX: y", "/"),
        r#"{"version":2,"cookies":[]}"#.to_string(),
        "not json".to_string(),
    ] {
        let e = CookieJar::load_json(bad.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), hawser_core::ErrorKind::InvalidRequest, "{bad}");
    }
}
