//! `cris-server device`: the phones that logged in, and revoking a lost one.

use clap::Subcommand;
use cris_server::{CaseStore, auth};

use super::*;

#[derive(Debug, Subcommand)]
pub(crate) enum DeviceAction {
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

pub(crate) async fn device(action: DeviceAction, database_url: &str) -> Result<(), String> {
    let store = open_existing(database_url, false).await?;
    let result = device_action(&store, action).await;
    store.close().await;
    result
}

pub(crate) async fn device_action(store: &CaseStore, action: DeviceAction) -> Result<(), String> {
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
