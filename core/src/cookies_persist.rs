//! Saving and loading a [`CookieJar`] (feature `serde`; JSON helpers with
//! `json`), like pickling a requests session's `cookies`.
//!
//! The saved form is a plain, versioned list (times as seconds since the
//! Unix epoch), so a file can be read back by a later hawser. Loading
//! re-checks every cookie, because a file is input like any other: a
//! name or value with a control character, `;` or a non-ASCII byte, an
//! empty domain or a path not starting with `/` is refused; the jar's
//! limits apply.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Cookie, CookieJar, SameSite};

#[derive(Serialize, Deserialize)]
struct Saved {
    version: u32,
    cookies: Vec<SavedCookie>,
}

#[derive(Serialize, Deserialize)]
struct SavedCookie {
    name: String,
    value: String,
    domain: String,
    host_only: bool,
    path: String,
    secure: bool,
    http_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    same_site: Option<String>,
    /// Seconds since the epoch; absent for a session cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires: Option<u64>,
    creation: u64,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn time(s: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_secs(s))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// A cookie name or value as a `Cookie` header may carry it.
fn header_safe(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_control() && b != b';')
}

impl Serialize for CookieJar {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cookies = self
            .cookies
            .iter()
            .map(|c| SavedCookie {
                name: c.name.clone(),
                value: c.value.clone(),
                domain: c.domain.clone(),
                host_only: c.host_only,
                path: c.path.clone(),
                secure: c.secure,
                http_only: c.http_only,
                same_site: c.same_site.map(|v| {
                    match v {
                        SameSite::Strict => "Strict",
                        SameSite::Lax => "Lax",
                        SameSite::None => "None",
                    }
                    .to_owned()
                }),
                expires: c.expires.map(secs),
                creation: secs(c.creation),
            })
            .collect();
        Saved {
            version: 1,
            cookies,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for CookieJar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<CookieJar, D::Error> {
        use serde::de::Error as _;
        let saved = Saved::deserialize(d)?;
        if saved.version != 1 {
            return Err(D::Error::custom(format!(
                "unknown cookie jar version {}",
                saved.version
            )));
        }
        let mut jar = CookieJar::new();
        for c in saved.cookies {
            let domain = c.domain.to_ascii_lowercase();
            if c.name.is_empty()
                || !header_safe(&c.name)
                || c.name.contains('=')
                || !header_safe(&c.value)
                || domain.is_empty()
                || !header_safe(&domain)
                || !c.path.starts_with('/')
                || !header_safe(&c.path)
            {
                return Err(D::Error::custom(format!(
                    "refusing a saved cookie that could not have been stored: {:?}",
                    c.name
                )));
            }
            let same_site = match c.same_site.as_deref() {
                None => None,
                Some(v) if v.eq_ignore_ascii_case("strict") => Some(SameSite::Strict),
                Some(v) if v.eq_ignore_ascii_case("lax") => Some(SameSite::Lax),
                Some(v) if v.eq_ignore_ascii_case("none") => Some(SameSite::None),
                Some(v) => return Err(D::Error::custom(format!("unknown SameSite {v:?}"))),
            };
            let seq = jar.next_seq;
            jar.next_seq += 1;
            jar.cookies.push(Cookie {
                name: c.name,
                value: c.value,
                domain: domain.clone(),
                host_only: c.host_only,
                path: c.path,
                secure: c.secure,
                http_only: c.http_only,
                same_site,
                expires: c.expires.map(time),
                creation: time(c.creation),
                seq,
            });
            // The jar's bounds hold for a loaded jar too (oldest go first).
            jar.enforce_limits(&domain, SystemTime::UNIX_EPOCH);
        }
        Ok(jar)
    }
}

#[cfg(feature = "json")]
impl CookieJar {
    /// Write the jar as JSON (every cookie, session cookies included, as
    /// pickling a requests session keeps them; expired ones are dropped
    /// first). Feature `json`.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use hawser_core::cookies::CookieJar;
    /// let url = url::Url::parse("https://a.example/")?;
    /// let now = SystemTime::now();
    /// let mut jar = CookieJar::new();
    /// jar.try_store(&url, "sid=abc; Max-Age=3600; Secure; HttpOnly", now)?;
    /// let mut file = Vec::new();
    /// jar.save_json(&mut file, now)?;
    ///
    /// let loaded = CookieJar::load_json(&file[..])?;
    /// assert_eq!(loaded.cookie_header(&url, now).unwrap(), "sid=abc");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save_json(&mut self, writer: impl std::io::Write, now: SystemTime) -> crate::Result<()> {
        self.remove_expired(now);
        serde_json::to_writer_pretty(writer, self).map_err(|e| {
            crate::Error::new(crate::ErrorKind::Io, format!("saving the cookie jar: {e}"))
        })
    }

    /// Read a jar written by [`save_json`](Self::save_json); a malformed
    /// file or an impossible cookie is an
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest)
    /// error. Feature `json`.
    ///
    /// ```
    /// let bad = br#"{"version":1,"cookies":[{"name":"a","value":"1\r\nX: y","domain":"h","host_only":true,"path":"/","secure":false,"http_only":false,"creation":0}]}"#;
    /// assert!(hawser_core::cookies::CookieJar::load_json(&bad[..]).is_err());
    /// ```
    pub fn load_json(reader: impl std::io::Read) -> crate::Result<CookieJar> {
        serde_json::from_reader(reader).map_err(|e| {
            crate::Error::new(
                crate::ErrorKind::InvalidRequest,
                format!("loading the cookie jar: {e}"),
            )
        })
    }
}
