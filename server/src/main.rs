//! `cris-server`: the command line of the CRIS Field server.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use cris_server::store::DEFAULT_DATABASE_URL;
use cris_server::store::{NewUser, Role};
use cris_server::{AppState, Assets, CaseStore, ConsentConfig, FormCatalog, auth, consent};

use tracing_subscriber::EnvFilter;

/// The server allocates many small strings per operation (answers, JSON); glibc's malloc made
/// a fifth of its time under load, mimalloc much less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Manage accounts: add, list, disable, enable, reset a password.
    User {
        #[command(subcommand)]
        action: UserAction,
        /// The case store, e.g. sqlite://data/cris.db or postgres://user@host/cris (the same
        /// CRIS_DATABASE_URL as `serve`).
        #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, global = true)]
        database_url: String,
        /// Create the SQLite store if there is none yet (else a missing file is an error).
        #[arg(long, global = true)]
        create: bool,
    },
    /// Reads the audit trail: who read which household, exported, logged in or out, and when.
    Audit {
        /// Only the entries of this household (its id).
        #[arg(long)]
        household: Option<String>,
        /// Only the entries of this account.
        #[arg(long)]
        user: Option<String>,
        /// Only entries from this day on (YYYY-MM-DD, UTC).
        #[arg(long)]
        since: Option<cris_core::Date>,
        /// The case store, e.g. sqlite://data/cris.db or postgres://user@host/cris.
        #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
    },
    /// Copies a SQLite case store to a new file, consistently, while the server runs.
    Backup {
        /// The backup file to make (it must not exist yet).
        #[arg(long)]
        to: PathBuf,
        /// The case store, e.g. sqlite://data/cris.db.
        #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
    },
    /// Puts a backup in place of a SQLite case store (no server may be running on it); the
    /// replaced store is kept beside it.
    Restore {
        /// The backup file, made by `backup`.
        #[arg(long)]
        from: PathBuf,
        /// The case store, e.g. sqlite://data/cris.db.
        #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
    },
    /// After `pg_restore` put a PostgreSQL store back: gives it a new store id, so that phones
    /// send again what it lacks (no server may run on it meanwhile).
    Restored {
        /// The case store, e.g. postgres://user@host/cris.
        #[arg(long, env = "CRIS_DATABASE_URL", hide_env_values = true)]
        database_url: String,
    },
    /// Exports submissions to a file, as the overview's export does: made as a supervisor or
    /// admin (the rows of their teams' cases) and recorded under that account.
    Export(ExportArgs),
    /// Manage the devices accounts logged in from: list, revoke (a lost or stolen phone).
    Device {
        #[command(subcommand)]
        action: DeviceAction,
        /// The case store, e.g. sqlite://data/cris.db or postgres://user@host/cris (the same
        /// CRIS_DATABASE_URL as `serve`).
        #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, global = true)]
        database_url: String,
    },
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// The supervisor or admin the export is made as: the rows are of their teams' cases, and
    /// the export is recorded under their account.
    #[arg(long = "as", value_name = "LOGIN")]
    login: String,
    /// csv (one table of one form) or xlsx (a workbook with a sheet for every table).
    #[arg(long, value_enum)]
    format: ExportFormatArg,
    /// A form's id, e.g. home_visit (every form unless told; a CSV file needs one).
    #[arg(long)]
    form: Option<String>,
    /// For csv: a repeat group of the form, e.g. new_steps (the form's own table unless told).
    #[arg(long)]
    table: Option<String>,
    /// Only the submissions of this team's cases.
    #[arg(long)]
    team: Option<String>,
    /// Only the submissions of this worker (a login).
    #[arg(long)]
    worker: Option<String>,
    /// Received on or after this day (YYYY-MM-DD, on the agency's clocks).
    #[arg(long)]
    from: Option<cris_core::Date>,
    /// Received on or before this day (YYYY-MM-DD, on the agency's clocks).
    #[arg(long)]
    to: Option<cris_core::Date>,
    /// Headings, choices and sheet names in de, tr, bg, en, hu or sk (de unless told).
    #[arg(long)]
    lang: Option<cris_core::Lang>,
    /// For csv: comma or semicolon (as the spreadsheets of the language read it unless told).
    #[arg(long, value_enum)]
    delimiter: Option<DelimiterArg>,
    /// The file to write, readable by its owner only; one already there is replaced only
    /// with --force.
    #[arg(long)]
    out: PathBuf,
    /// Replace the file --out names if it exists.
    #[arg(long)]
    force: bool,
    /// The agency's time zone, as `serve` has it (the times shown and the days of --from and
    /// --to are on its clocks).
    #[arg(long, env = "CRIS_TIME_ZONE", default_value_t = cris_server::TimeZone::BERLIN)]
    time_zone: cris_server::TimeZone,
    /// The forms the server hands out, as `serve` has them (the built-in ones unless told);
    /// their earlier versions are read from the store.
    #[arg(long, env = "CRIS_FORMS_DIR")]
    forms_dir: Option<PathBuf>,
    /// The case store, e.g. sqlite://data/cris.db or postgres://user@host/cris.
    #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    database_url: String,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ExportFormatArg {
    Csv,
    Xlsx,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum DelimiterArg {
    Comma,
    Semicolon,
}

#[derive(Debug, Subcommand)]
enum DeviceAction {
    /// Lists every device with its account, last push and pull (UTC) and state.
    List {
        /// Only the devices of this account.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revokes a device: its sessions end, its requests are refused as `device_revoked` and
    /// it cannot log in again under this id.
    Revoke { device_id: String },
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Creates an account; prints a generated password unless one is given on standard input.
    Add {
        /// Letters, digits, '.', '-' and '_' (e.g. ayse.kaya).
        #[arg(long)]
        login: String,
        /// The name shown in the app.
        #[arg(long)]
        name: String,
        /// worker, supervisor or admin.
        #[arg(long)]
        role: Role,
        /// A team the account belongs to (repeat for several; created if new).
        #[arg(long = "team")]
        teams: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lists every account.
    List,
    /// Disables an account and revokes every device it logged in from (each wipes itself at
    /// its next request).
    Disable { login: String },
    /// Enables a disabled account again (it logs in anew).
    Enable { login: String },
    /// Sets a new password (generated, or from standard input) and ends every session.
    ResetPassword {
        login: String,
        #[arg(long)]
        password_stdin: bool,
    },
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
    /// Hand out the form definitions of this folder (*.json) instead of the built-in ones;
    /// consent texts in its `consent` folder are added to the built-in ones.
    #[arg(long, env = "CRIS_FORMS_DIR")]
    forms_dir: Option<PathBuf>,
    /// The agency's details that fill the consent texts: a JSON object giving a text for
    /// each of agency_name, agency_address, dpo_contact, statutory_basis, retention,
    /// supervisory_authority and partner_name. Without it no consent can be taken.
    #[arg(long, env = "CRIS_AGENCY")]
    agency: Option<PathBuf>,
    /// For trying the app: make sure a demo team with a worker and a supervisor exists, give
    /// them fresh passwords and print them, and (without --agency) fill the consent texts
    /// with an invented agency's details. Never in production.
    #[arg(long)]
    demo: bool,
    /// Phones lock after this many minutes without a touch or in the background.
    #[arg(long, env = "CRIS_LOCK_AFTER_MINUTES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=60))]
    lock_after_minutes: u32,
    /// A phone that has not reached the server for this many days needs an online login
    /// before it unlocks again.
    #[arg(long, env = "CRIS_OFFLINE_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=90))]
    offline_days: u32,
    /// Serve HTTPS with this certificate chain (PEM); read again when the file changes.
    #[arg(long, env = "CRIS_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "CRIS_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Also listen for plain HTTP here, and send every request to HTTPS (with --tls-cert).
    #[arg(long, env = "CRIS_REDIRECT_HTTP", requires = "tls_cert")]
    redirect_http: Option<SocketAddr>,
    /// A reverse proxy (address or network, repeatable) whose X-Forwarded-For and
    /// X-Forwarded-Proto are believed: the client's address for throttling and the audit.
    #[arg(
        long = "trusted-proxy",
        env = "CRIS_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<cris_server::Cidr>,
    /// Connections served at once; more are answered 503.
    #[arg(long, env = "CRIS_MAX_CONNECTIONS", default_value_t = cris_server::Limits::default().max_connections)]
    max_connections: usize,
    /// The agency's time zone, whose clocks exports show times on: Europe/Berlin,
    /// Europe/Budapest, Europe/Bratislava, Europe/Vienna, Europe/Prague, Europe/Sofia or UTC.
    #[arg(long, env = "CRIS_TIME_ZONE", default_value_t = cris_server::TimeZone::BERLIN)]
    time_zone: cris_server::TimeZone,
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
        Command::Backup { to, database_url } => backup(&database_url, &to).await,
        Command::Restore { from, database_url } => restore(&database_url, &from).await,
        Command::Restored { database_url } => cris_server::backup::renew_store_id(
            &database_url,
            auth::now_ms(),
        )
        .await
        .map(|id| {
            println!(
                "the store's new id is {id}: phones send again what it lacks at their next sync"
            );
        }),
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
    let agency = match &args.agency {
        Some(path) => Some(consent::read_agency(path).map_err(|err| err.to_string())?),
        None if args.demo => Some(consent::demo_agency()),
        None => None,
    };
    let consent =
        ConsentConfig::load(args.forms_dir.as_deref(), agency).map_err(|err| err.to_string())?;
    if consent.agency().is_none() {
        tracing::warn!("no agency details (--agency FILE): consents cannot be taken");
    }
    // A server on a SQLite store holds it against a restore for as long as it runs.
    let _lock = match cris_server::backup::sqlite_file(&args.database_url) {
        Ok(db) => Some(
            cris_server::backup::ServeLock::take(&db).map_err(|e| match e {
                cris_server::backup::LockError::Held => {
                    format!("another server (or a restore) is using {}", db.display())
                }
                cris_server::backup::LockError::Io(e) => {
                    format!("cannot lock {}: {e}", db.display())
                }
            })?,
        ),
        Err(_) => None,
    };
    let store = CaseStore::open(&args.database_url)
        .await
        .map_err(|err| err.to_string())?;
    tracing::info!(
        store = %cris_server::store::describe_url(&args.database_url),
        "case store opened"
    );
    let forms = forms
        .remember_in(&store, auth::now_ms())
        .await
        .map_err(|err| err.to_string())?;
    if args.demo {
        demo_accounts(&store).await?;
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(Arc::new(cris_server::Tls::load(cert, key)?)),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", args.addr))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        files = assets.len(),
        forms = forms.len(),
        consent_texts = consent.len(),
        time_zone = %args.time_zone,
        "CRIS Field is running at {scheme}://{addr}"
    );
    if tls.is_none() && !addr.ip().is_loopback() && args.trusted_proxies.is_empty() {
        tracing::warn!(
            "plain HTTP on a network address: phones install the app and keep data only over \
             HTTPS (--tls-cert, or a reverse proxy with --trusted-proxy)"
        );
    }

    let mut state = AppState::new(
        store.clone(),
        assets,
        forms,
        consent,
        cris_core::api::PhonePolicy {
            lock_after_s: args.lock_after_minutes * 60,
            offline_days: args.offline_days,
        },
    );
    state.trusted_proxies = args.trusted_proxies.into();
    state.limits.max_connections = args.max_connections;
    state.time_zone = args.time_zone;
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    if let Some(redirect) = args.redirect_http {
        let listener = tokio::net::TcpListener::bind(redirect)
            .await
            .map_err(|err| format!("cannot listen on {redirect}: {err}"))?;
        let mut stopped = stop.subscribe();
        tracing::info!("sending plain HTTP on {redirect} to HTTPS");
        tokio::spawn(cris_server::redirect_to_https(
            listener,
            addr.port(),
            async move {
                let _ = stopped.recv().await;
            },
        ));
    }
    let result = cris_server::serve_over(listener, tls, state, shutdown_signal()).await;
    let _ = stop.send(());
    result.map_err(|err| format!("server error: {err}"))?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The demo team's accounts, with fresh passwords printed for the person trying the app.
async fn demo_accounts(store: &CaseStore) -> Result<(), String> {
    let team = "Demo-Team Offenbach";
    let accounts = [
        ("demo-worker", "Demo Fallmanagerin", Role::Worker),
        ("demo-supervisor", "Demo Teamleitung", Role::Supervisor),
    ];
    println!("Demo accounts (for trying the app; not for real families' data):");
    for (login, name, role) in accounts {
        let password = auth::generate_password();
        let hash = auth::hash_password(&password);
        let now = auth::now_ms();
        let existed = store
            .set_password_hash(login, &hash, now)
            .await
            .map_err(|e| e.to_string())?;
        if !existed {
            store
                .add_user(
                    &NewUser {
                        login: login.to_owned(),
                        display_name: name.to_owned(),
                        role,
                        password_hash: hash,
                        teams: vec![team.to_owned()],
                    },
                    now,
                )
                .await
                .map_err(|e| e.to_string())?;
        }
        println!("  {:<11} {login:<16} password {password}", role.as_str());
    }
    Ok(())
}

async fn audit(
    database_url: &str,
    filter: &cris_server::store::audit::AuditFilter,
) -> Result<(), String> {
    let store = open_existing(database_url, false).await?;
    let entries = store.audit_entries(filter).await.map_err(|e| e.to_string());
    store.close().await;
    let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    println!(
        "{:<23} {:<16} {:<20} {:<36} {:<15} {:<36} endpoint",
        "when (UTC)", "action", "login", "device", "address", "household or export"
    );
    for e in entries? {
        let what = e.case_id.clone().or(e.export_id.clone());
        println!(
            "{:<23} {:<16} {:<20} {:<36} {:<15} {:<36} {}",
            utc(e.at_ms),
            e.action,
            or(&e.login),
            or(&e.device_id),
            or(&e.address),
            or(&what),
            e.endpoint
        );
    }
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS.mmm` of a time in milliseconds, UTC.
fn utc(ms: i64) -> String {
    let day = cris_core::Date::from_days(i32::try_from(ms.div_euclid(86_400_000)).unwrap_or(0));
    let in_day = ms.rem_euclid(86_400_000);
    format!(
        "{day} {:02}:{:02}:{:02}.{:03}",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

async fn export(args: ExportArgs) -> Result<(), String> {
    use cris_core::api::{CsvDelimiter, ExportFormat, ExportQuery};
    use cris_server::export::{self, ExportError, Exporter, OutFile, Plan};

    let forms = match &args.forms_dir {
        Some(dir) => FormCatalog::from_dir(dir),
        None => FormCatalog::embedded(),
    }
    .map_err(|err| err.to_string())?;
    let query = ExportQuery {
        format: Some(match args.format {
            ExportFormatArg::Csv => ExportFormat::Csv,
            ExportFormatArg::Xlsx => ExportFormat::Xlsx,
        }),
        form: args.form,
        table: args.table,
        team: args.team,
        worker: args.worker,
        from: args.from,
        to: args.to,
        lang: args.lang,
        delimiter: args.delimiter.map(|d| match d {
            DelimiterArg::Comma => CsvDelimiter::Comma,
            DelimiterArg::Semicolon => CsvDelimiter::Semicolon,
        }),
    };
    let login = args.login;
    let refused = |e: ExportError| match e {
        ExportError::NotAllowed => format!("{login} is a worker: {e}"),
        ExportError::Disabled => format!("{login} is disabled: {e}"),
        e => e.to_string(),
    };
    let store = open_existing(&args.database_url, false).await?;
    let exported = async {
        let forms = forms.held_in(&store).await.map_err(|e| e.to_string())?;
        let users = store.users().await.map_err(|e| e.to_string())?;
        let user = users
            .iter()
            .find(|u| u.login == login)
            .ok_or_else(|| format!("no account {login:?}"))?;
        // As over HTTP: a worker is refused before the query is read.
        export::may_export(user).map_err(refused)?;
        let plan = Plan::of(query, &forms, args.time_zone).map_err(refused)?;
        // Started before the export is made: a file that cannot be written records nothing.
        let out = OutFile::create(&args.out, args.force).map_err(|e| match e {
            export::FileError::Exists(_) => {
                format!("{e}: give another --out, or --force to replace it")
            }
            e => e.to_string(),
        })?;
        let by = Exporter {
            user,
            device_id: None,
            address: None,
            endpoint: "cris-server export",
        };
        let exported = export::run(&store, &forms, args.time_zone, &by, plan)
            .await
            .map_err(refused)?;
        out.finish(&exported.bytes).map_err(|e| e.to_string())?;
        Ok::<_, String>(exported)
    }
    .await;
    store.close().await;
    let exported = exported?;
    let plural = |n: i64, one: &str, more: &str| format!("{n} {}", if n == 1 { one } else { more });
    println!(
        "wrote {} of {} to {} (export {})",
        plural(exported.rows, "row", "rows"),
        plural(exported.cases, "household", "households"),
        args.out.display(),
        exported.id
    );
    Ok(())
}

async fn backup(database_url: &str, to: &std::path::Path) -> Result<(), String> {
    let db = cris_server::backup::sqlite_file(database_url)?;
    let summary = cris_server::backup::backup(&db, to).await?;
    println!(
        "backed up store {} ({} operations, up to {}) to {} ({} bytes)",
        summary.store_id,
        summary.operations,
        summary.last_seq,
        to.display(),
        summary.bytes
    );
    Ok(())
}

async fn restore(database_url: &str, from: &std::path::Path) -> Result<(), String> {
    let db = cris_server::backup::sqlite_file(database_url)?;
    let (summary, aside) = cris_server::backup::restore(&db, from, auth::now_ms()).await?;
    println!(
        "restored {} ({} operations, up to {}) into {}; its new store id is {}: phones send \
         again what it lacks at their next sync",
        from.display(),
        summary.operations,
        summary.last_seq,
        db.display(),
        summary.store_id
    );
    if let Some(aside) = aside {
        println!("the replaced store was kept as {}", aside.display());
    }
    Ok(())
}

async fn device(action: DeviceAction, database_url: &str) -> Result<(), String> {
    let store = open_existing(database_url, false).await?;
    let result = device_action(&store, action).await;
    store.close().await;
    result
}

async fn device_action(store: &CaseStore, action: DeviceAction) -> Result<(), String> {
    let when = |ms: Option<i64>| {
        ms.map_or_else(
            || "-".to_owned(),
            |ms| {
                let day = cris_core::Date::from_days((ms.div_euclid(86_400_000)) as i32);
                let minutes = ms.rem_euclid(86_400_000) / 60_000;
                format!("{day} {:02}:{:02}", minutes / 60, minutes % 60)
            },
        )
    };
    match action {
        DeviceAction::List { user } => {
            let devices = store
                .devices(user.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "{:<38} {:<20} {:<17} {:<17} state",
                "device", "login", "last push", "last pull"
            );
            for d in devices {
                let state = match (d.revoked_ms, &d.revoked_by) {
                    (Some(ms), Some(by)) => format!("revoked {} by {by}", when(Some(ms))),
                    (Some(ms), None) => format!("revoked {}", when(Some(ms))),
                    (None, _) => "active".to_owned(),
                };
                println!(
                    "{:<38} {:<20} {:<17} {:<17} {state}",
                    d.device_id,
                    d.login,
                    when(d.last_push_ms),
                    when(d.last_pull_ms)
                );
            }
        }
        DeviceAction::Revoke { device_id } => {
            if !store
                .revoke_device(&device_id, auth::now_ms(), None)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no device {device_id:?} ever logged in"));
            }
            println!("revoked {device_id}: its sessions have ended and it cannot log in again");
        }
    }
    Ok(())
}

/// Opens the store at `database_url` for a command other than `serve`: a SQLite file that is
/// not there is an error unless `create` (a mistyped path, or a PostgreSQL installation
/// without CRIS_DATABASE_URL, would otherwise get a new empty store and show nobody).
async fn open_existing(database_url: &str, create: bool) -> Result<CaseStore, String> {
    if let Ok(db) = cris_server::backup::sqlite_file(database_url)
        && !db.exists()
        && !create
    {
        return Err(format!(
            "no case store at {}: give the store the server uses (--database-url or \
             CRIS_DATABASE_URL, as for `serve`), or --create to start a new one",
            db.display()
        ));
    }
    let store = CaseStore::open(database_url)
        .await
        .map_err(|err| err.to_string())?;
    tracing::debug!(store = %cris_server::store::describe_url(database_url), "case store opened");
    Ok(store)
}

async fn user(action: UserAction, database_url: &str, create: bool) -> Result<(), String> {
    let store = open_existing(database_url, create).await?;
    let result = user_action(&store, action).await;
    store.close().await;
    result
}

async fn user_action(store: &CaseStore, action: UserAction) -> Result<(), String> {
    let now = auth::now_ms();
    match action {
        UserAction::Add {
            login,
            name,
            role,
            teams,
            password_stdin,
        } => {
            auth::check_login(&login)?;
            if name.trim().is_empty() {
                return Err("--name must not be empty".to_owned());
            }
            if role != Role::Admin && teams.is_empty() {
                return Err(format!("a {} needs at least one --team", role.as_str()));
            }
            let (password, generated) = password(password_stdin, &login)?;
            let user = store
                .add_user(
                    &NewUser {
                        login,
                        display_name: name.trim().to_owned(),
                        role,
                        password_hash: auth::hash_password(&password),
                        teams,
                    },
                    now,
                )
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "added {} {} (teams: {})",
                user.role.as_str(),
                user.login,
                user.teams.join(", ")
            );
            if generated {
                println!("password: {password}");
            }
        }
        UserAction::List => {
            let users = store.users().await.map_err(|e| e.to_string())?;
            println!(
                "{:<20} {:<11} {:<9} {:<28} name",
                "login", "role", "state", "teams"
            );
            for u in users {
                let state = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:<20} {:<11} {:<9} {:<28} {}",
                    u.login,
                    u.role.as_str(),
                    state,
                    u.teams.join(", "),
                    u.display_name
                );
            }
        }
        UserAction::Disable { login } => {
            if !store
                .set_disabled(&login, true, now)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no account {login:?}"));
            }
            println!("disabled {login}; its sessions have ended");
        }
        UserAction::Enable { login } => {
            if !store
                .set_disabled(&login, false, now)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no account {login:?}"));
            }
            println!("enabled {login}");
        }
        UserAction::ResetPassword {
            login,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin, &login)?;
            let hash = auth::hash_password(&password);
            if !store
                .set_password_hash(&login, &hash, now)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no account {login:?}"));
            }
            println!("new password for {login}; its sessions have ended");
            if generated {
                println!("password: {password}");
            }
        }
    }
    Ok(())
}

/// A password from standard input, or a generated one (then `true`).
fn password(from_stdin: bool, login: &str) -> Result<(String, bool), String> {
    if !from_stdin {
        return Ok((auth::generate_password(), true));
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    auth::check_password(&password, login)?;
    Ok((password, false))
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
