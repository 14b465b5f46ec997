//! `cris-server`: the command line of the CRIS Field server.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use cris_server::store::DEFAULT_DATABASE_URL;
use cris_server::{AppState, Assets, CaseStore, FormCatalog, Store};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "cris-server", version, about = "The CRIS Field server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the app and the API.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CRIS_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// The case store, e.g. sqlite://data/cris.db (created if missing).
    #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    database_url: String,
    /// Serve the app from this folder instead of the files built into the binary.
    #[arg(long, env = "CRIS_APP_DIR")]
    app_dir: Option<PathBuf>,
    /// Hand out the form definitions of this folder (*.json) instead of the built-in ones.
    #[arg(long, env = "CRIS_FORMS_DIR")]
    forms_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();

    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let assets = match &args.app_dir {
        Some(dir) => Assets::from_dir(dir)
            .map_err(|err| format!("cannot read the app from {}: {err}", dir.display()))?,
        None => Assets::embedded(),
    };
    if assets.is_empty() {
        tracing::warn!("the app is not built: only the API is served (run `make run`)");
    }
    let forms = match &args.forms_dir {
        Some(dir) => FormCatalog::from_dir(dir),
        None => FormCatalog::embedded(),
    }
    .map_err(|err| err.to_string())?;
    let store = CaseStore::open(&args.database_url)
        .await
        .map_err(|err| err.to_string())?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", args.addr))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    tracing::info!(
        files = assets.len(),
        forms = forms.len(),
        "CRIS Field is running at http://{addr}"
    );

    let state = AppState {
        store: store.clone(),
        assets: Arc::new(assets),
        forms: Arc::new(forms),
    };
    cris_server::serve(listener, state, shutdown_signal())
        .await
        .map_err(|err| format!("server error: {err}"))?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {err}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!("cannot listen for SIGTERM: {err}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
