//! A supervisor of two teams records a new household on the phone: the intake asks which team
//! it belongs to (and will not finalize without), and only that team gets it. Someone in one
//! team is not asked.

use cris_core::api::Role;
use cris_e2e::phone::{self, PASSWORD, TEAM};
use cris_e2e::ui::{add_person, choose, click_testid, select, tap, type_into};
use cris_e2e::{Browser, Chromedriver, TestServer, built_app_dir};
use cris_server::store::NewUser;
use fantoccini::Locator;

const BUDAPEST: &str = "Budapest VIII";

/// The name of the team the household `name` belongs to, in the store.
async fn team_of(server: &TestServer, name: &str) -> Option<String> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", server.db_path().display()))
        .await
        .unwrap();
    let team = sqlx::query_scalar(
        "SELECT t.name FROM cases c JOIN teams t ON t.id = c.team_id
         JOIN case_names n ON n.case_id = c.id WHERE n.name LIKE '%' || $1 || '%'",
    )
    .bind(name)
    .fetch_optional(&pool)
    .await
    .unwrap();
    pool.close().await;
    team
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_in_two_teams_says_whose_the_new_household_is() {
    let server = TestServer::start(&built_app_dir()).await;
    server
        .store
        .add_user(
            &NewUser {
                login: "lea.s".into(),
                display_name: "Lea Teamleitung".into(),
                role: Role::Supervisor,
                password_hash: cris_server::auth::hash_password(PASSWORD),
                teams: vec![TEAM.into(), BUDAPEST.into()],
            },
            cris_server::auth::now_ms(),
        )
        .await
        .unwrap();
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 412, 915, "de").await;
    phone::first_login(&b, &server, "lea.s").await;

    // (A supervisor's phone starts an intake from the caseload.)
    tap(&b, "[data-testid='caseload-empty'] a[href='/intake/new']").await;
    b.wait_for_heading("Erstgespräch").await;
    b.wait_for_xpath("//*[@data-testid='intake-team']").await;
    type_into(&b, "household_name", None, "Familie Petrova").await;
    add_person(&b, "Emine Testova", "1984-02-29").await;
    choose(&b, "housing_situation", None, "sublet").await;
    // Not without a team: the question says so and nothing is finalized.
    click_testid(&b, "finalize").await;
    b.wait_for_xpath(
        "//*[@data-testid='intake-team-field'][contains(@class, 'invalid')]//p[@role='alert'][normalize-space()='Bitte das Team wählen, zu dem dieser Haushalt gehört.']",
    )
    .await;
    assert!(
        b.client
            .find(Locator::Css("[data-testid='saved']"))
            .await
            .is_err()
    );
    // The choice is kept with the draft: it survives a reload.
    select(&b, "intake-team", BUDAPEST).await;
    b.wait_for_xpath(
        "//*[@data-testid='save-state'][contains(normalize-space(), 'Entwurf gespeichert')]",
    )
    .await;
    phone::reload(&b).await;
    b.wait_for_xpath("//*[@data-testid='intake-team']").await;
    let chosen = b
        .eval("return document.querySelector(\"[data-testid='intake-team']\").value;")
        .await;
    assert_eq!(chosen, serde_json::json!(BUDAPEST));
    click_testid(&b, "finalize").await;
    b.wait_for_xpath("//*[@data-testid='saved']").await;
    phone::wait_for_sync_text(&b, "Alles synchronisiert").await;
    assert_eq!(
        team_of(&server, "petrova").await.as_deref(),
        Some(BUDAPEST),
        "the household joined the team chosen, not the first by name"
    );
    b.close().await;

    // Someone in one team is not asked.
    server
        .add_account("ayse.w", "Ayşe Testfrau", Role::Worker, TEAM, PASSWORD)
        .await;
    let b = Browser::open(&driver, 412, 915, "de").await;
    phone::first_login(&b, &server, "ayse.w").await;
    tap(&b, "nav a[href='/intake/new']").await;
    b.wait_for_heading("Erstgespräch").await;
    b.wait_for_xpath("//*[@data-field='household_name']").await;
    assert!(
        b.client
            .find(Locator::Css("[data-testid='intake-team']"))
            .await
            .is_err()
    );
    b.close().await;
    server.stop().await;
}
