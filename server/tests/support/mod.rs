//! Test support shared by the server's integration tests: a fresh PostgreSQL database per
//! test, on the server this machine runs (127.0.0.1:5432; `CRIS_TEST_POSTGRES` names another).

#![allow(dead_code)]

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The maintenance database used to create and drop test databases.
pub fn admin_url() -> String {
    std::env::var("CRIS_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database of its own, dropped (with its connections) when the test ends.
pub struct TestPg {
    pub url: String,
    name: String,
}

impl TestPg {
    pub async fn create() -> Self {
        let mut random = [0u8; 8];
        getrandom::getrandom(&mut random).unwrap();
        let name = format!(
            "cris_test_{}",
            random
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let admin = admin_url();
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} (make test needs it running): {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        conn.close().await.ok();
        let (base, _) = admin.rsplit_once('/').expect("a database URL");
        TestPg {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for TestPg {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async: a thread with a runtime of its own does the dropping.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}
