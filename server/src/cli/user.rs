//! `cris-server user`: accounts, their passwords and teams.

use clap::Subcommand;
use cris_server::store::{NewUser, Role};
use cris_server::{CaseStore, auth};

use super::*;

#[derive(Debug, Subcommand)]
pub(crate) enum UserAction {
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

pub(crate) async fn user(
    action: UserAction,
    database_url: &str,
    create: bool,
) -> Result<(), String> {
    let store = open_existing(database_url, create).await?;
    let result = user_action(&store, action).await;
    store.close().await;
    result
}

pub(crate) async fn user_action(store: &CaseStore, action: UserAction) -> Result<(), String> {
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
pub(crate) fn password(from_stdin: bool, login: &str) -> Result<(String, bool), String> {
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
