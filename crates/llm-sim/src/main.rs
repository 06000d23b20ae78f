//! `llm-sim` binary: parse flags, serve, print the listening line, exit 0 on SIGTERM/SIGINT.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use llm_sim::Config;

fn main() -> ExitCode {
    let config = Config::parse();
    if let Err(message) = config.validate() {
        eprintln!("llm-sim: {message}");
        return ExitCode::from(2);
    }
    // One multi-threaded runtime for everything.
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(workers) = config.workers {
        runtime.worker_threads(workers.max(1));
    }
    let runtime = match runtime.build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("llm-sim: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async {
        let server = match llm_sim::start(config).await {
            Ok(server) => server,
            Err(message) => {
                eprintln!("llm-sim: {message}");
                return ExitCode::FAILURE;
            }
        };
        // Exactly one line on stdout; tests and scripts read the ports from it.
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", server.listening_line());
        let _ = stdout.flush();
        drop(stdout);

        wait_for_stop_signal().await;
        server.shutdown().await;
        ExitCode::SUCCESS
    });
    // Streams still open after the grace period are cancelled with the runtime.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        // Without signal handlers the default action (terminate) still applies; just wait.
        _ => std::future::pending::<()>().await,
    }
}
