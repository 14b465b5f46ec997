//! `cris-server`: the command line of the CRIS Field server.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use tracing_subscriber::EnvFilter;

mod cli;

use cli::*;

/// The server allocates many small strings per operation (answers, JSON); glibc's malloc made
/// a fifth of its time under load, mimalloc much less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Command::User {
            action,
            database_url,
            create,
        } => user(action, &database_url, create).await,
        Command::Device {
            action,
            database_url,
        } => device(action, &database_url).await,
        Command::Audit {
            household,
            user,
            since,
            database_url,
        } => {
            let filter = cris_server::store::audit::AuditFilter {
                case_id: household,
                login: user,
                since_ms: since.map(|d| i64::from(d.days()) * 86_400_000),
            };
            audit(&database_url, &filter).await
        }
        Command::Export(args) => export(args).await,
        Command::Forms { action } => forms(action),
        Command::Erase(args) => erase(args).await,
        Command::Retention(args) => retention(args).await,
        Command::Backup { to, database_url } => backup(&database_url, &to).await,
        Command::Restore { from, database_url } => restore(&database_url, &from).await,
        Command::Restored { database_url } => restored(&database_url).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}
