//! `cris-server serve`: the server itself.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use cris_server::store::DEFAULT_DATABASE_URL;
use cris_server::store::{NewUser, Role};
use cris_server::{AppState, Assets, CaseStore, ConsentConfig, FormCatalog, auth, consent};

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
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

pub(crate) async fn serve(args: ServeArgs) -> Result<(), String> {
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
    let (agency, retention_months) = match &args.agency {
        Some(path) => {
            let (agency, months) =
                consent::read_agency_file(path).map_err(|err| err.to_string())?;
            (Some(agency), months)
        }
        None if args.demo => (
            Some(consent::demo_agency()),
            Some(consent::DEMO_RETENTION_MONTHS),
        ),
        None => (None, None),
    };
    if retention_months.is_none() {
        tracing::warn!(
            "no retention period (\"retention_months\" in the agency file): closed households are kept until erased by hand"
        );
    }
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
    let store = super::open_store(&args.database_url).await?;
    super::reapply_erasures(&store).await?;
    tracing::info!(
        store = %cris_server::store::describe_url(&args.database_url),
        "case store opened"
    );
    let forms = forms
        .remember_in(&store, auth::now_ms())
        .await
        .map_err(|err| err.to_string())?;
    for text in consent.texts().currents() {
        let unknown = cris_server::letter::unknown_fields(text, &forms.all());
        if !unknown.is_empty() {
            tracing::warn!(
                text = %text.id,
                fields = %unknown.join(", "),
                "kinds of record name fields no form has: referral letters leave them out"
            );
        }
    }
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
    // The agency's retention period, enforced by the server itself, daily.
    let retention = retention_months.map(|months| {
        tracing::info!(
            months,
            "households are erased {months} months after their case closed"
        );
        tokio::spawn(store.clone().retain_daily(months))
    });
    let result = cris_server::serve_over(listener, tls, state, shutdown_signal()).await;
    if let Some(job) = retention {
        job.abort();
    }
    let _ = stop.send(());
    result.map_err(|err| format!("server error: {err}"))?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The demo team's accounts, with fresh passwords printed for the person trying the app.
pub(crate) async fn demo_accounts(store: &CaseStore) -> Result<(), String> {
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

/// Ctrl-C, or SIGTERM from a service manager.
pub(crate) async fn shutdown_signal() {
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
