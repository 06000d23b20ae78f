//! Listeners, per-connection serving (HTTP/1.1 and HTTP/2 via hyper-util's auto builder,
//! plain or TLS) and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::TlsAcceptor;

use crate::config::Config;
use crate::router;
use crate::state::AppState;
use crate::tls;

/// A TLS handshake that has not finished by then is dropped (it holds a task and a socket).
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A started server. Dropping it without `shutdown` also stops accepting and closes
/// connections gracefully, but does not wait for them.
pub struct RunningServer {
    pub http_addr: SocketAddr,
    pub https_addr: Option<SocketAddr>,
    /// PEM and DER of the self-signed certificate when TLS is enabled.
    pub cert_pem: Option<String>,
    pub cert_der: Option<CertificateDer<'static>>,
    pub state: Arc<AppState>,
    stop: watch::Sender<bool>,
    /// Closes when every accept loop and connection task has ended (they hold senders).
    all_done: mpsc::Receiver<()>,
}

impl RunningServer {
    /// The single JSON line printed on start: `{"event":"listening","http":P,"https":P|null}`.
    pub fn listening_line(&self) -> String {
        serde_json::json!({
            "event": "listening",
            "http": self.http_addr.port(),
            "https": self.https_addr.map(|a| a.port()),
        })
        .to_string()
    }

    /// Stop accepting, let open responses finish for up to `--shutdown-grace-ms`, then return.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let grace = Duration::from_millis(self.state.config.shutdown_grace_ms);
        // Connection tasks give up at the grace deadline themselves; the margin covers scheduling.
        let _ =
            tokio::time::timeout(grace + Duration::from_millis(200), self.all_done.recv()).await;
    }
}

/// Bind the listeners and start serving. Must run inside a multi-threaded tokio runtime.
pub async fn start(config: Config) -> Result<RunningServer, String> {
    config.validate()?;
    let http_listener = TcpListener::bind((config.host, config.port))
        .await
        .map_err(|e| format!("binding {}:{}: {e}", config.host, config.port))?;
    let http_addr = http_listener.local_addr().map_err(|e| e.to_string())?;

    let mut https = None;
    let (mut cert_pem, mut cert_der) = (None, None);
    if let Some(tls_port) = config.tls_port {
        let tls = tls::self_signed(config.host)?;
        if let Some(path) = &config.cert_out {
            std::fs::write(path, &tls.cert_pem)
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        let listener = TcpListener::bind((config.host, tls_port))
            .await
            .map_err(|e| format!("binding {}:{tls_port}: {e}", config.host))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        https = Some((listener, addr, tls.acceptor));
        cert_pem = Some(tls.cert_pem);
        cert_der = Some(tls.cert_der);
    }

    let state = Arc::new(AppState::new(config));
    let (stop, stop_rx) = watch::channel(false);
    let (alive, all_done) = mpsc::channel::<()>(1);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Browsers open ~100 streams per h2 connection; allow a generous margin.
    builder.http2().max_concurrent_streams(1000);
    let builder = Arc::new(builder);

    tokio::spawn(accept_loop(
        http_listener,
        None,
        state.clone(),
        builder.clone(),
        stop_rx.clone(),
        alive.clone(),
    ));
    let https_addr = https.as_ref().map(|(_, addr, _)| *addr);
    if let Some((listener, _, acceptor)) = https {
        tokio::spawn(accept_loop(
            listener,
            Some(acceptor),
            state.clone(),
            builder,
            stop_rx,
            alive,
        ));
    }
    Ok(RunningServer {
        http_addr,
        https_addr,
        cert_pem,
        cert_der,
        state,
        stop,
        all_done,
    })
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    state: Arc<AppState>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    mut stop: watch::Receiver<bool>,
    alive: mpsc::Sender<()>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(_) => {
                // Usually out of file descriptors: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // Tokens are small writes; Nagle's algorithm would hold them back for an ACK.
        let _ = stream.set_nodelay(true);
        let (state, builder, stop, alive) =
            (state.clone(), builder.clone(), stop.clone(), alive.clone());
        match &tls {
            None => {
                tokio::spawn(serve_connection(stream, state, builder, stop, alive));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(Ok(tls_stream)) =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        serve_connection(tls_stream, state, builder, stop, alive).await;
                    }
                });
            }
        }
    }
}

async fn serve_connection<IO>(
    io: IO,
    state: Arc<AppState>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    mut stop: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let grace = Duration::from_millis(state.config.shutdown_grace_ms);
    let service = service_fn(move |request| router::route(state.clone(), request));
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        // Errors here are client disconnects or injected faults: nothing to report.
        _ = connection.as_mut() => return,
        _ = stop.wait_for(|stop| *stop) => {}
    }
    // Idle keep-alive connections close at once; open responses get the grace period.
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(grace, connection).await;
}
