//! Properties of proxy selection: no environment or NO_PROXY value panics,
//! and credentials never appear in Debug output.

use hawser_core::proxy::{NoProxy, Proxy, ProxyConfig, Route};
use proptest::prelude::*;
use url::Url;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_no_proxy_never_panics(value in "\\PC{0,60}", host in prop_oneof![
        Just("http://a.example/".to_owned()), Just("http://10.0.0.1:8080/".to_owned()),
        Just("http://[::1]/".to_owned()), "http://[a-z]{1,6}\\.[a-z]{2,3}:[0-9]{2,4}/",
    ]) {
        let url = Url::parse(&host).unwrap();
        let _ = NoProxy::parse(&value).matches(&url);
    }

    #[test]
    fn arbitrary_env_never_panics(vals in proptest::collection::vec(("(HTTP|HTTPS|ALL|NO|http|https|all|no)_(PROXY|proxy)", "\\PC{0,30}"), 0..6)) {
        if let Ok(cfg) = ProxyConfig::from_env(vals) {
            for t in ["http://a.example/", "https://a.example/"] {
                let _ = cfg.route(&Url::parse(t).unwrap());
            }
        }
    }

    #[test]
    fn credentials_never_in_debug(user in "[a-zA-Z0-9]{3,10}", pass in "[a-zA-Z0-9]{6,12}") {
        let p = Proxy::parse(&format!("http://{user}:{pass}@proxy.example:3128")).unwrap();
        let cfg = ProxyConfig::new().with_all(p.clone());
        let tunnel = cfg.route(&Url::parse("https://a.example/").unwrap()).unwrap();
        let is_tunnel = matches!(tunnel, Route::Tunnel { .. });
        prop_assert!(is_tunnel);
        for text in [format!("{p:?}"), format!("{cfg:?}"), format!("{tunnel:?}")] {
            prop_assert!(!text.contains(&pass), "{}", text);
        }
    }
}
