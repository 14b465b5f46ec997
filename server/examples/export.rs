//! Export benchmark: how long a supervisor waits for 50,000 home visits (each with its repeat
//! groups: about 250,000 rows in all) as CSV, as a workbook of the home visits, and as a
//! workbook of every form, on SQLite (a file in a temporary folder) and on PostgreSQL (a fresh
//! database on the local server, `CRIS_TEST_POSTGRES` to name another). The visits are
//! written with SQL (pushing them would take minutes); the export runs over real HTTP.
//!
//! ```text
//! cargo run --release -p cris-server --example export -- [N]
//! ```
//!
//! Client and server share this machine's cores: the figures are a floor.

#[path = "../tests/api/support/mod.rs"]
mod support;

#[tokio::main]
async fn main() {
    let n: i64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("N is a number of home visits"))
        .unwrap_or(50_000);
    let case_id = support::new_uuid();
    let visit = support::submit_op(
        "home_visit",
        &case_id,
        &support::new_uuid(),
        1_000,
        &[],
        &[],
    );
    let body = serde_json::to_string(&visit).expect("an operation serializes");
    for postgres in [false, true] {
        let store = if postgres { "postgres" } else { "sqlite" };
        let filled = support::filled(postgres, n, &body, "Offenbach Nord", &case_id).await;
        for (what, query) in [
            ("csv, home visits", "?format=csv&form=home_visit"),
            ("xlsx, home visits", "?form=home_visit"),
            ("xlsx, every form", ""),
        ] {
            let started = std::time::Instant::now();
            let res = filled.get(query).await;
            assert!(res.status().is_success(), "{what}: {}", res.status());
            let bytes = res.bytes().await.expect("the file").len();
            println!(
                "{store:8} {what:18} {n} visits: {bytes:>10} bytes in {:.2?}",
                started.elapsed()
            );
        }
    }
}
