//! HTTPS with the generated certificate: HTTP/2 negotiated by ALPN, HTTP/1.1 as fallback.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// A TLS connection that trusts only the simulator's certificate, read back from PEM (as a
/// client given `--cert-out` would).
async fn connect(
    server: &llm_sim::RunningServer,
    host: &str,
    alpn: &[&[u8]],
) -> TlsStream<TcpStream> {
    let pem = server.cert_pem.as_ref().expect("TLS enabled");
    let mut roots = RootCertStore::empty();
    let der = pem_to_der(pem);
    roots.add(der.into()).expect("certificate parses");
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(server.https_addr.expect("https port"))
        .await
        .unwrap();
    let name = ServerName::try_from(host.to_string()).unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("handshake with a trusted certificate")
}

/// Minimal PEM decoding (one CERTIFICATE block) so the test needs no extra crate.
fn pem_to_der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for c in b64.bytes().filter(|c| *c != b'=') {
        let value = alphabet.iter().position(|a| *a == c).expect("base64") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_is_negotiated_and_streams_work() {
    let server = start(&["--tls-port", "0"]).await;
    for host in ["localhost", "127.0.0.1"] {
        let tls = connect(&server, host, &[b"h2", b"http/1.1"]).await;
        assert_eq!(
            tls.get_ref().1.alpn_protocol(),
            Some(&b"h2"[..]),
            "ALPN picked h2 for {host}"
        );
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                .await
                .unwrap();
        tokio::spawn(connection);

        // Several concurrent streams on the one connection.
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let request = Request::post(format!("https://{host}/v1/chat/completions"))
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(chat_body("over h2", true, Some(3)))))
                .unwrap();
            let future = sender.send_request(request);
            tasks.push(tokio::spawn(async move {
                let response = future.await.unwrap();
                assert_eq!(response.version(), Version::HTTP_2);
                assert!(response.headers().contains_key("x-request-id"));
                assert_eq!(response.headers()["access-control-allow-origin"], "*");
                response.into_body().collect().await.unwrap().to_bytes()
            }));
        }
        for task in tasks {
            let events = sse_events(&task.await.unwrap());
            assert_eq!(content_deltas(&events), [" The", " quick", " brown"]);
            assert_eq!(events.last().unwrap(), "[DONE]");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_over_tls_when_the_client_asks_for_it() {
    let server = start(&["--tls-port", "0"]).await;
    let tls = connect(&server, "localhost", &[b"http/1.1"]).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = Request::post("/v1/chat/completions")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(chat_body(
            "h1 over tls",
            false,
            Some(2),
        ))))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.version(), Version::HTTP_11);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["usage"]["completion_tokens"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_client_is_refused() {
    let server = start(&["--tls-port", "0"]).await;
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth();
    let tcp = TcpStream::connect(server.https_addr.unwrap())
        .await
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let result = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await;
    assert!(
        result.is_err(),
        "the certificate is self-signed: only clients that trust it connect"
    );
    // The DER the server exposes is the same certificate as the PEM.
    assert_eq!(
        pem_to_der(server.cert_pem.as_ref().unwrap()),
        server.cert_der.as_ref().unwrap().as_ref()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_over_h2_reset_only_their_stream() {
    let server = start(&["--tls-port", "0", "--itl-ms", "1"]).await;
    let tls = connect(&server, "localhost", &[b"h2"]).await;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = |fault: &str| {
        Request::post("https://localhost/v1/chat/completions")
            .header("content-type", "application/json")
            .header("x-sim-fault", fault)
            .header("x-sim-fault-after-tokens", "3")
            .body(Full::new(Bytes::from(chat_body("x", true, Some(8)))))
            .unwrap()
    };

    // disconnect: three tokens arrive, then the stream is reset (no [DONE]).
    let response = sender.send_request(request("disconnect")).await.unwrap();
    let broken = read_reply(response, std::time::Instant::now(), None)
        .await
        .unwrap_err();
    assert_eq!(
        content_deltas(&sse_events(&broken.received)),
        [" The", " quick", " brown"]
    );

    // reset: the stream fails before any header.
    assert!(sender.send_request(request("reset")).await.is_err());

    // The connection itself survives: the next stream completes.
    let response = sender.send_request(request("none")).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(content_deltas(&sse_events(&body)).len(), 8);
}
