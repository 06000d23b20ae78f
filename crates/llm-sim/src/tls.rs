//! TLS with a self-signed certificate generated at start (rcgen), ALPN h2 + http/1.1,
//! rustls on the `ring` provider (no C++/cmake build as with aws-lc).

use std::net::IpAddr;
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

pub struct SelfSignedTls {
    pub acceptor: TlsAcceptor,
    /// The certificate in PEM, for `--cert-out` and for clients that must trust it.
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
}

/// Subject names: `localhost`, `127.0.0.1`, `::1`, and the bind address if it is another one.
pub fn subject_names(bind: IpAddr) -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let bind = bind.to_string();
    if !bind.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified()) && !names.contains(&bind) {
        names.push(bind);
    }
    names
}

pub fn self_signed(bind: IpAddr) -> Result<SelfSignedTls, String> {
    let certified = rcgen::generate_simple_self_signed(subject_names(bind))
        .map_err(|e| format!("generating the certificate: {e}"))?;
    let cert_der = certified.cert.der().clone();
    let cert_pem = certified.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key)
        .map_err(|e| format!("TLS certificate: {e}"))?;
    // Prefer h2 (many streams per connection, what browsers want for concurrency) and keep
    // HTTP/1.1 for clients that only speak it.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(SelfSignedTls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        cert_pem,
        cert_der,
    })
}
