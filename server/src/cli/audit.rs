//! `cris-server audit`: who read or exported what.

use super::*;

pub(crate) async fn audit(
    database_url: &str,
    filter: &cris_server::store::audit::AuditFilter,
) -> Result<(), String> {
    let store = open_existing(database_url, false).await?;
    let entries = store.audit_entries(filter).await.map_err(|e| e.to_string());
    store.close().await;
    let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    println!(
        "{:<23} {:<16} {:<20} {:<36} {:<15} {:<36} endpoint",
        "when (UTC)", "action", "login", "device", "address", "household, export or form"
    );
    for e in entries? {
        let what = e.case_id.clone().or(e.export_id.clone()).or(e.form.clone());
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
pub(crate) fn utc(ms: i64) -> String {
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
