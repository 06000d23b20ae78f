//! What the engine reads off a browser, decided from plain strings so it is tested natively:
//! which engine a user agent names (for `info.runtime`), and whether a fetch error is one of the
//! opaque network failures every engine reports for a refused, reset or CORS-blocked request.

/// The browser engine and its version from a user agent, with the brand token it came from:
/// `Blink 156.0.0.0 (HeadlessChrome/156.0.0.0)`, `Gecko 153.0 (Firefox/153.0)`. WebKit's user
/// agent carries no engine version (`AppleWebKit/605.1.15` is frozen, `Version/` is the browser
/// release), so it says so, and names WebKitGTK/WPE on Linux (not Safari's network stack):
/// `WebKit (WebKitGTK/WPE on Linux; Version/60.5 Safari/605.1.15; engine version not exposed)`.
/// Chrome and Firefox on iOS are WebKit too. `None` when no known engine is named.
pub fn browser_runtime_name(user_agent: &str) -> Option<String> {
    let tokens: Vec<&str> = user_agent.split_whitespace().collect();
    let token = |prefix: &str| tokens.iter().copied().find(|t| t.starts_with(prefix));
    let version = |t: &str| t.split_once('/').map(|(_, v)| v.to_string());
    // iOS browsers brand themselves (CriOS, FxiOS, EdgiOS) but all run WebKit.
    let ios_brand = ["CriOS/", "FxiOS/", "EdgiOS/"].into_iter().find_map(token);
    if ios_brand.is_none() {
        if let Some(chrome) = token("HeadlessChrome/").or_else(|| token("Chrome/")) {
            // Edge and Opera are Blink with their own brand after Chrome's.
            let brand = token("Edg/").or_else(|| token("OPR/")).unwrap_or(chrome);
            return Some(format!("Blink {} ({brand})", version(chrome)?));
        }
        if let Some(firefox) = token("Firefox/") {
            // Gecko's version is Firefox's (`rv:` in the platform part says the same).
            return Some(format!("Gecko {} ({firefox})", version(firefox)?));
        }
    }
    if token("AppleWebKit/").is_some() {
        let mut known: Vec<String> = Vec::new();
        // On Linux it is WebKitGTK or WPE (libsoup's network stack), not Safari's.
        if ios_brand.is_none() && user_agent.contains("Linux") {
            known.push(LINUX_WEBKIT.into());
        }
        let tokens: Vec<&str> = [ios_brand, token("Version/"), token("Safari/")]
            .into_iter()
            .flatten()
            .collect();
        if !tokens.is_empty() {
            known.push(tokens.join(" "));
        }
        known.push("engine version not exposed".into());
        return Some(format!("WebKit ({})", known.join("; ")));
    }
    None
}

/// How [`browser_runtime_name`] marks WebKit on Linux.
const LINUX_WEBKIT: &str = "WebKitGTK/WPE on Linux";

/// WebKitGTK runs at most this many requests to one host at once even over HTTP/2: 32 clients
/// over h2 reached llm-sim in waves of 6, each after the previous wave finished (WebKitGTK
/// 2.50; Chromium and Firefox multiplex all 32 on one connection).
pub const WEBKITGTK_REQUESTS_PER_HOST: u32 = 6;

/// The warning for more clients than WebKitGTK runs at once over HTTP/2 or HTTP/3 (HTTP/1.1 is
/// covered by the browsers' 6-connection warning); `runtime` is [`browser_runtime_name`]'s text.
pub fn webkitgtk_h2_warning(runtime: &str, clients: u32, protocol: Option<&str>) -> Option<String> {
    let proto = protocol.unwrap_or_default();
    let multiplexed = proto.starts_with("h2") || proto.starts_with("h3");
    (runtime.starts_with("WebKit (")
        && runtime.contains(LINUX_WEBKIT)
        && multiplexed
        && clients > WEBKITGTK_REQUESTS_PER_HOST)
        .then(|| format!(
            "{clients} clients over {proto} in WebKitGTK: it runs at most {WEBKITGTK_REQUESTS_PER_HOST} requests to one host at once even over HTTP/2, so requests beyond that queued inside the browser and their TTFT includes the wait. Use at most {WEBKITGTK_REQUESTS_PER_HOST} clients per host in this browser (Chromium and Firefox multiplex HTTP/2)."
        ))
}

/// Whether a fetch rejection is the opaque network failure browsers and runtimes report for a
/// refused or reset connection or a CORS-blocked response — they never say which:
/// Chromium `TypeError: Failed to fetch`, Firefox `TypeError: NetworkError when attempting to
/// fetch resource.`, WebKit `TypeError: Load failed`, Node/undici `TypeError: fetch failed`.
pub fn is_opaque_network_failure(name: &str, message: &str) -> bool {
    name == "TypeError"
        && [
            "Failed to fetch",
            "fetch failed",
            "NetworkError",
            "Load failed",
        ]
        .iter()
        .any(|m| message.contains(m))
}

/// What an opaque network failure usually means, appended to its text when it has no cause.
pub const NETWORK_FAILURE_HINT: &str = "connection refused, reset, or blocked by CORS";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_name_the_engine_and_its_version() {
        // As measured in the three engines on Debian (Chromium 156, Firefox ESR 153, WebKitGTK 2.50).
        assert_eq!(
            browser_runtime_name("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36").as_deref(),
            Some("Blink 156.0.0.0 (HeadlessChrome/156.0.0.0)")
        );
        assert_eq!(
            browser_runtime_name("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 Edg/156.0.0.0").as_deref(),
            Some("Blink 156.0.0.0 (Edg/156.0.0.0)")
        );
        assert_eq!(
            browser_runtime_name(
                "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0"
            )
            .as_deref(),
            Some("Gecko 153.0 (Firefox/153.0)")
        );
        assert_eq!(
            browser_runtime_name("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/60.5 Safari/605.1.15").as_deref(),
            Some("WebKit (WebKitGTK/WPE on Linux; Version/60.5 Safari/605.1.15; engine version not exposed)")
        );
        assert_eq!(
            browser_runtime_name("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1").as_deref(),
            Some("WebKit (CriOS/120.0.6099.119 Safari/604.1; engine version not exposed)")
        );
        assert_eq!(
            browser_runtime_name("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15").as_deref(),
            Some("WebKit (Version/17.4 Safari/605.1.15; engine version not exposed)")
        );
        assert_eq!(browser_runtime_name("Cloudflare-Workers"), None);
        assert_eq!(browser_runtime_name(""), None);
    }

    #[test]
    fn webkitgtk_warns_over_six_clients_on_http2_only() {
        let gtk = browser_runtime_name("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/60.5 Safari/605.1.15").unwrap();
        let w = webkitgtk_h2_warning(&gtk, 32, Some("h2")).expect("32 clients over h2 warn");
        assert!(
            w.starts_with("32 clients over h2 in WebKitGTK: it runs at most 6 requests"),
            "{w}"
        );
        assert!(webkitgtk_h2_warning(&format!("{gtk} (worker)"), 7, Some("h2")).is_some());
        assert!(webkitgtk_h2_warning(&gtk, 6, Some("h2")).is_none());
        // HTTP/1.1 has the browsers' own connection warning.
        assert!(webkitgtk_h2_warning(&gtk, 32, Some("http/1.1")).is_none());
        // Safari, Chromium and Firefox are not WebKitGTK.
        let safari = browser_runtime_name("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15").unwrap();
        assert!(webkitgtk_h2_warning(&safari, 32, Some("h2")).is_none());
        assert!(
            webkitgtk_h2_warning("Blink 156.0.0.0 (HeadlessChrome/156.0.0.0)", 32, Some("h2"))
                .is_none()
        );
        assert!(webkitgtk_h2_warning("Gecko 153.0 (Firefox/153.0)", 32, Some("h2")).is_none());
    }

    #[test]
    fn every_engines_network_failure_is_recognised() {
        for (name, msg) in [
            ("TypeError", "Failed to fetch"),
            (
                "TypeError",
                "NetworkError when attempting to fetch resource.",
            ),
            ("TypeError", "Load failed"),
            ("TypeError", "fetch failed"),
        ] {
            assert!(is_opaque_network_failure(name, msg), "{name}: {msg}");
        }
        assert!(!is_opaque_network_failure(
            "AbortError",
            "The operation was aborted."
        ));
        assert!(!is_opaque_network_failure(
            "TypeError",
            "Failed to parse URL from x"
        ));
    }
}
