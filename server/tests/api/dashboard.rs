//! The supervisor's dashboard over real HTTP, on SQLite and on PostgreSQL: who may see it and
//! of which teams, what it counts (visits per worker and week, housing, overdue steps,
//! consents, devices) on a small invented caseload, that it follows what is pushed after it
//! was first asked for, and what it answers to a query it cannot take.
//!
//! The caseload lives in November 2026 and every dashboard is asked for a fixed day, so the
//! counts do not depend on the day the tests run.

use crate::support::{
    LAPTOP, PHONE_A, PHONE_B, TestServer, consent, consent_op, error, get, kind, new_uuid, on_both,
    submission_mut, submit_op, withdraw_op, withdrawal,
};
use cris_core::Date;
use cris_core::api::{Dashboard, ErrorCode, MAX_DASHBOARD_WEEKS, Role};
use cris_core::consent::Scope;
use cris_core::form::Answers;
use cris_core::record::Operation;
use cris_core::sync::{Outcome, PullResponse};
use reqwest::StatusCode;

const PHONE_S: &str = "0192b3c4-0000-7000-8000-00000000d00c";
const NORD: &str = "Offenbach Nord";
const SUED: &str = "Offenbach Süd";
const DAY_MS: u64 = 86_400_000;
const HOUR_MS: u64 = 3_600_000;

/// The last day the fixture's dashboards show: Wednesday, 18 November 2026.
const TO: &str = "2026-11-18";

/// Milliseconds at `hour` o'clock (UTC) on `day`.
fn at(day: &str, hour: u64) -> u64 {
    let date: Date = day.parse().unwrap();
    u64::try_from(date.days()).unwrap() * DAY_MS + hour * HOUR_MS
}

/// A plan goal of an intake, with its review date if it has one.
fn goal(what: &str, review: Option<&str>) -> Answers {
    let goal = Answers::new().with("goal", what);
    match review {
        Some(day) => goal.with("review_date", day),
        None => goal,
    }
}

/// An intake of a new household named `name`, with `goals`, finalized on 1 October 2026.
fn intake(
    case_id: &str,
    device: &str,
    name: &str,
    housing: Option<&str>,
    goals: Vec<Answers>,
) -> Operation {
    let mut changes = vec![("household_name", name)];
    changes.extend(housing.map(|h| ("housing_situation", h)));
    let mut op = submit_op(
        "intake",
        case_id,
        device,
        at("2026-10-01", 9),
        &changes,
        &[],
    );
    let submission = submission_mut(&mut op);
    submission.answers = without(&submission.answers, "housing_situation", housing.is_none())
        .with_repeat("plan_goals", goals);
    if housing.is_none() {
        // The intake's own properties follow from its answers.
        if let cris_core::record::Change::Submit { properties, .. } = &mut op.change {
            properties.remove("housing_situation");
        }
    }
    op
}

/// The answers without `field` (when `drop`).
fn without(answers: &Answers, field: &str, drop: bool) -> Answers {
    let mut value = serde_json::to_value(answers).unwrap();
    if drop {
        value.as_object_mut().unwrap().remove(field);
    }
    serde_json::from_value(value).unwrap()
}

/// A home visit on `day` at `hour`, reporting `done` steps done and agreeing no new ones;
/// its case properties replace those stamped `seen`.
fn visit(
    case_id: &str,
    device: &str,
    day: &str,
    hour: u64,
    housing: Option<&str>,
    done: &[&str],
    seen: &[cris_core::hlc::Hlc],
) -> Operation {
    let mut changes = vec![("visit_date", day)];
    changes.extend(housing.map(|h| ("housing_situation", h)));
    let mut op = submit_op("home_visit", case_id, device, at(day, hour), &changes, seen);
    let submission = submission_mut(&mut op);
    let progress = done
        .iter()
        .map(|step| Answers::new().with("step", step).with("progress", "done"))
        .collect();
    submission.answers = submission
        .answers
        .clone()
        .with_repeat("step_progress", progress)
        .with_repeat("new_steps", vec![]);
    op
}

/// `op` made into a correction of `submission_id`, an hour later on the same phone.
fn correcting(mut op: Operation, submission_id: &str) -> Operation {
    let submission = submission_mut(&mut op);
    submission.finalized_at_ms += HOUR_MS as f64;
    submission.id = new_uuid();
    submission.corrects = Some(cris_core::record::Correction {
        submission_id: submission_id.into(),
        reason: "Uhrzeit berichtigt".into(),
    });
    op.op_id = new_uuid();
    op.hlc.wall_ms += HOUR_MS;
    op.created_at_ms += HOUR_MS as f64;
    op
}

/// Pushes `ops`: each applied, or applied in conflict.
async fn push(server: &TestServer, token: &str, ops: &[Operation]) {
    for outcome in crate::support::push(server, token, ops).await {
        assert!(
            matches!(outcome, Outcome::Applied | Outcome::Conflict { .. }),
            "{outcome:?} on {}",
            kind(server)
        );
    }
}

/// The dashboard with this query string (`""` or `"?…"`).
async fn dashboard(server: &TestServer, token: &str, query: &str) -> Dashboard {
    let res = get(server, Some(token), &format!("/api/v1/dashboard{query}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{query} on {}", kind(server));
    res.json().await.unwrap()
}

/// A session of the account of `token` on the device `device_id`: its token.
async fn session_on_device(server: &TestServer, token: &str, device_id: &str) -> String {
    let now = cris_server::auth::now_ms();
    let user = server
        .store
        .session_user(&cris_server::auth::token_hash(token), now)
        .await
        .unwrap()
        .unwrap();
    let token = cris_server::auth::new_token();
    server
        .store
        .add_session(&cris_server::store::NewSession {
            token_hash: cris_server::auth::token_hash(&token),
            user_id: user.id,
            device_id: device_id.into(),
            created_ms: now,
            expires_ms: now + DAY_MS as i64,
        })
        .await
        .unwrap();
    token
}

/// The fixture's households: case ids by name.
struct Caseload {
    yilmaz: String,
    petrova: String,
    /// The intake of `petrova`, whose housing a later visit replaces.
    petrova_intake: Operation,
}

/// Two workers of Offenbach Nord (and a third who made no visit) and one of Offenbach Süd
/// record households, visits, steps and consents:
///
/// - Yılmaz (sublet): five goals: due 8 and 17 November (overdue on the 18th), due 10
///   November but reported done on the 17th, due 30 November, and one without a date.
///   Visited by Ayşe on 3 and 17 November (the second corrected the same day), consented.
/// - Petrova (shelter): a goal due on the 18th itself. Visited by Emre on 20 October and on
///   19 November (both outside the weeks shown); consented, then withdrawn.
/// - Kaya (shelter at intake): Ayşe and Emre, both offline on 10 November, write "own_flat"
///   and "homeless": a conflict, "homeless" (the later) current.
/// - Horváth: no housing recorded.
/// - Süd's household, visited by Zeynep on 10 November.
async fn caseload(server: &TestServer, ayse: &str, emre: &str, zeynep: &str) -> Caseload {
    let (yilmaz, petrova, kaya, horvath, sued) =
        (new_uuid(), new_uuid(), new_uuid(), new_uuid(), new_uuid());
    let yilmaz_intake = intake(
        &yilmaz,
        PHONE_A,
        "Familie Yılmaz",
        Some("sublet"),
        vec![
            goal("Anmeldung beim Bürgerbüro", Some("2026-11-08")),
            goal("Wohngeld beantragen", Some("2026-11-17")),
            goal("Kita-Platz beantragen", Some("2026-11-10")),
            goal("Termin Schuldnerberatung", Some("2026-11-30")),
            goal("Deutschkurs suchen", None),
        ],
    );
    let petrova_intake = intake(
        &petrova,
        PHONE_A,
        "Familie Petrova",
        Some("shelter"),
        vec![goal("Schulanmeldung für Ivan", Some(TO))],
    );
    let kaya_intake = intake(&kaya, PHONE_A, "Familie Kaya", Some("shelter"), vec![]);
    let horvath_intake = intake(&horvath, PHONE_A, "Familie Horváth", None, vec![]);
    let first = visit(&yilmaz, PHONE_A, "2026-11-03", 10, None, &[], &[]);
    let second = visit(
        &yilmaz,
        PHONE_A,
        "2026-11-17",
        10,
        None,
        &["kita-platz beantragen"],
        &[],
    );
    let corrected = correcting(second.clone(), &second.submission().unwrap().id);
    let kaya_seen = [kaya_intake.hlc.clone()];
    let kaya_a = visit(
        &kaya,
        PHONE_A,
        "2026-11-10",
        10,
        Some("own_flat"),
        &[],
        &kaya_seen,
    );
    let kaya_b = visit(
        &kaya,
        PHONE_B,
        "2026-11-10",
        11,
        Some("homeless"),
        &[],
        &kaya_seen,
    );
    let yilmaz_consent = consent(
        &server.consent,
        server.consent.agency().unwrap(),
        &yilmaz,
        PHONE_A,
        at("2026-10-01", 10),
    );
    let petrova_consent = consent(
        &server.consent,
        server.consent.agency().unwrap(),
        &petrova,
        PHONE_A,
        at("2026-10-01", 10),
    );
    let petrova_withdrawal = withdrawal(&petrova_consent, Scope::All, at("2026-11-12", 9));
    push(
        server,
        ayse,
        &[
            yilmaz_intake,
            petrova_intake.clone(),
            kaya_intake,
            horvath_intake,
            first,
            second,
            corrected,
            kaya_a,
            consent_op(&yilmaz_consent),
            consent_op(&petrova_consent),
            withdraw_op(&petrova_withdrawal),
        ],
    )
    .await;
    push(
        server,
        emre,
        &[
            kaya_b,
            visit(&petrova, PHONE_B, "2026-10-20", 10, None, &[], &[]),
            visit(&petrova, PHONE_B, "2026-11-19", 10, None, &[], &[]),
        ],
    )
    .await;
    let sued_intake = intake(
        &sued,
        PHONE_S,
        "Familie Süd",
        Some("overcrowded"),
        vec![goal("Miete klären", Some("2026-11-01"))],
    );
    let sued_visit = visit(&sued, PHONE_S, "2026-11-10", 10, None, &[], &[]);
    push(server, zeynep, &[sued_intake, sued_visit]).await;
    Caseload {
        yilmaz,
        petrova,
        petrova_intake,
    }
}

#[tokio::test]
async fn only_supervisors_and_admins_see_it_and_only_of_their_teams() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let emre = server.account("emre.w", Role::Worker, &[NORD]).await;
        let zeynep = server.account("zeynep.w", Role::Worker, &[SUED]).await;
        let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
        let aron = server.account("aron.a", Role::Admin, &[NORD]).await;
        let sven = server.account("sven.s", Role::Supervisor, &[SUED]).await;
        caseload(&server, &ayse, &emre, &zeynep).await;
        let query = format!("?to={TO}&weeks=3");

        // A worker is refused, whatever the query; without a session, nothing at all.
        for path in ["/api/v1/dashboard", "/api/v1/dashboard?weeks=0"] {
            let res = get(&server, Some(&ayse), path).await;
            let message = error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
            assert!(message.contains("supervisors and admins"), "{message}");
            let res = get(&server, None, path).await;
            error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
        }

        // An admin of the team sees what its supervisor sees.
        let nord = dashboard(&server, &sabine, &query).await;
        assert_eq!(dashboard(&server, &aron, &query).await, nord);
        assert_eq!(nord.teams, [NORD]);

        // Süd's supervisor sees Süd only: none of Nord's visits, households or devices.
        let sued = dashboard(&server, &sven, &query).await;
        assert_eq!(sued.teams, [SUED]);
        let logins: Vec<&str> = sued.visits.iter().map(|w| w.login.as_str()).collect();
        assert_eq!(logins, ["zeynep.w"]);
        assert_eq!(sued.visits[0].per_week, [0, 1, 0]);
        assert_eq!(sued.housing.households, 1);
        assert_eq!(
            sued.housing.by_value.keys().collect::<Vec<_>>(),
            ["overcrowded"]
        );
        assert_eq!(sued.overdue.steps, 1);
        assert_eq!(sued.consents.consents, 0);
        let devices: Vec<&str> = sued.devices.iter().map(|d| d.device_id.as_str()).collect();
        assert_eq!(devices, [PHONE_S]);
        assert!(nord.devices.iter().all(|d| d.device_id != PHONE_S));
        assert!(nord.visits.iter().all(|w| w.login != "zeynep.w"));

        // Another team by name answers like a team that does not exist: a dashboard of
        // nothing, as the review queue answers an empty page.
        let foreign = dashboard(&server, &sven, &format!("{query}&team={NORD}")).await;
        let unknown = dashboard(&server, &sven, &format!("{query}&team=Nirgendwo")).await;
        assert_eq!(foreign, unknown);
        assert!(foreign.teams.is_empty());
        assert!(foreign.visits.is_empty() && foreign.devices.is_empty());
        assert_eq!(foreign.housing.households, 0);
        assert_eq!(foreign.overdue.steps, 0);
        assert_eq!(foreign.weeks.len(), 3, "the weeks are shown all the same");
    })
    .await;
}

#[tokio::test]
async fn it_counts_what_a_supervisor_would_count_by_hand() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let emre = server.account("emre.w", Role::Worker, &[NORD]).await;
        let _ben = server.account("ben.w", Role::Worker, &[NORD]).await;
        let zeynep = server.account("zeynep.w", Role::Worker, &[SUED]).await;
        let lead = server
            .account("lea.s", Role::Supervisor, &[NORD, SUED])
            .await;
        let c = caseload(&server, &ayse, &emre, &zeynep).await;
        let d = dashboard(&server, &lead, &format!("?team={NORD}&to={TO}&weeks=3")).await;
        let k = kind(&server);

        assert_eq!(d.teams, [NORD]);
        assert_eq!(d.to.to_string(), TO);
        let weeks: Vec<String> = d.weeks.iter().map(Date::to_string).collect();
        assert_eq!(weeks, ["2026-11-02", "2026-11-09", "2026-11-16"], "{k}");

        // Visits: Ayşe on the 3rd, 10th and 17th (its correction not again); Emre on the
        // 10th (the 20 October and 19 November visits are outside); Ben none, listed all
        // the same. By name; no supervisor.
        let visits: Vec<(&str, &str, Vec<u32>, u32)> = d
            .visits
            .iter()
            .map(|w| {
                (
                    w.login.as_str(),
                    w.display_name.as_str(),
                    w.per_week.clone(),
                    w.total,
                )
            })
            .collect();
        assert_eq!(
            visits,
            [
                ("ayse.w", "ayse.w (test)", vec![1, 1, 1], 3),
                ("ben.w", "ben.w (test)", vec![0, 0, 0], 0),
                ("emre.w", "emre.w (test)", vec![0, 1, 0], 1),
            ],
            "{k}"
        );

        // Housing: Yılmaz sublet, Petrova shelter, Kaya homeless (in conflict with
        // own_flat), Horváth none.
        assert_eq!(d.housing.households, 4, "{k}");
        let by_value: Vec<(&str, u64)> = d
            .housing
            .by_value
            .iter()
            .map(|(v, n)| (v.as_str(), *n))
            .collect();
        assert_eq!(
            by_value,
            [("homeless", 1), ("shelter", 1), ("sublet", 1)],
            "{k}"
        );
        assert_eq!(d.housing.no_value, 1, "{k}");
        assert_eq!(d.housing.in_conflict, 1, "{k}");

        // Overdue on the 18th: Yılmaz's steps due on the 8th and 17th (the one due on the
        // 10th was reported done, the one due on the 30th is not due, the undated one never
        // is), Petrova's due on the 18th itself.
        assert_eq!((d.overdue.steps, d.overdue.households), (3, 2), "{k}");
        let most: Vec<(&str, &str, u32, String)> = d
            .overdue
            .most
            .iter()
            .map(|h| {
                (
                    h.case_id.as_str(),
                    h.household_name.as_str(),
                    h.overdue,
                    h.oldest_due.to_string(),
                )
            })
            .collect();
        assert_eq!(
            most,
            [
                (
                    c.yilmaz.as_str(),
                    "Familie Yılmaz",
                    2,
                    "2026-11-08".to_owned()
                ),
                (c.petrova.as_str(), "Familie Petrova", 1, TO.to_owned()),
            ],
            "{k}"
        );
        // A day earlier, Petrova's step is not due yet, nor Yılmaz's of the 17th.
        let before = dashboard(&server, &lead, &format!("?team={NORD}&to=2026-11-16")).await;
        assert_eq!(
            (before.overdue.steps, before.overdue.households),
            (1, 1),
            "{k}"
        );

        // Consents: Yılmaz's in force; Petrova's withdrawn.
        assert_eq!(d.consents.households_in_force, 1, "{k}");
        assert_eq!((d.consents.consents, d.consents.withdrawals), (2, 1), "{k}");

        // Both of Nord's phones pushed; neither pulled.
        let devices: Vec<(&str, &str, bool, bool)> = d
            .devices
            .iter()
            .map(|s| {
                (
                    s.device_id.as_str(),
                    s.login.as_str(),
                    s.last_push_ms.is_some(),
                    s.last_pull_ms.is_some(),
                )
            })
            .collect();
        assert_eq!(devices.len(), 2, "{k}");
        assert!(devices.contains(&(PHONE_A, "ayse.w", true, false)), "{k}");
        assert!(devices.contains(&(PHONE_B, "emre.w", true, false)), "{k}");
        // Emre pushed last: Ayşe's phone has been silent longer.
        assert_eq!(devices[0].0, PHONE_A, "{k}");

        // Both teams: Süd's household and visit on top.
        let both = dashboard(&server, &lead, &format!("?to={TO}&weeks=3")).await;
        assert_eq!(both.teams, [NORD, SUED]);
        assert_eq!(both.housing.households, 5);
        assert_eq!(both.overdue.steps, 4);
        assert_eq!(both.visits.len(), 4);
    })
    .await;
}

#[tokio::test]
async fn what_is_pushed_after_a_dashboard_shows_in_the_next() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let emre = server.account("emre.w", Role::Worker, &[NORD]).await;
        let zeynep = server.account("zeynep.w", Role::Worker, &[SUED]).await;
        let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
        let c = caseload(&server, &ayse, &emre, &zeynep).await;
        let query = format!("?to={TO}&weeks=3");
        let before = dashboard(&server, &sabine, &query).await;
        assert_eq!(before.housing.by_value.get("shelter"), Some(&1));
        assert_eq!(before.housing.by_value.get("own_flat"), None);

        // Petrova's family moved into a flat of their own; the visit reports the school
        // registration done.
        let moved = visit(
            &c.petrova,
            PHONE_A,
            "2026-11-18",
            9,
            Some("own_flat"),
            &["Schulanmeldung für Ivan"],
            std::slice::from_ref(&c.petrova_intake.hlc),
        );
        push(&server, &ayse, &[moved]).await;
        // Two supervisors at once: both refresh, both see the same.
        let (after, again) = tokio::join!(
            dashboard(&server, &sabine, &query),
            dashboard(&server, &sabine, &query)
        );
        assert_eq!(after, again, "{}", kind(&server));
        assert_eq!(
            after.housing.by_value.get("shelter"),
            None,
            "{}",
            kind(&server)
        );
        assert_eq!(after.housing.by_value.get("own_flat"), Some(&1));
        assert_eq!(after.housing.households, before.housing.households);
        assert_eq!((after.overdue.steps, after.overdue.households), (2, 1));
        let ayse_row = after.visits.iter().find(|w| w.login == "ayse.w").unwrap();
        assert_eq!(ayse_row.per_week, [1, 1, 2]);
        // Nothing new: the same answer.
        assert_eq!(dashboard(&server, &sabine, &query).await, after);
    })
    .await;
}

#[tokio::test]
async fn a_devices_last_push_and_pull_are_noted() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
        // Ayşe's phone: its session and its operations name the same device.
        let phone = session_on_device(&server, &ayse, PHONE_A).await;
        let before_push = cris_server::auth::now_ms();
        let case_id = new_uuid();
        push(
            &server,
            &phone,
            &[intake(
                &case_id,
                PHONE_A,
                "Familie Test",
                Some("sublet"),
                vec![],
            )],
        )
        .await;
        let d = dashboard(&server, &sabine, "").await;
        assert_eq!(d.devices.len(), 1, "{}", kind(&server));
        let noted = &d.devices[0];
        assert_eq!(noted.device_id, PHONE_A);
        assert_eq!(noted.login, "ayse.w");
        assert_eq!(noted.display_name, "ayse.w (test)");
        assert!(noted.last_push_ms.unwrap() >= before_push);
        assert_eq!(noted.last_pull_ms, None);

        let before_pull = cris_server::auth::now_ms();
        let res = get(&server, Some(&phone), "/api/v1/ops?since=0").await;
        assert_eq!(res.status(), StatusCode::OK);
        let page: PullResponse = res.json().await.unwrap();
        assert_eq!(page.ops.len(), 1);
        let d = dashboard(&server, &sabine, "").await;
        assert_eq!(d.devices.len(), 1, "the same phone, pushing and pulling");
        let pulled = d.devices[0].last_pull_ms.expect("a pull noted");
        assert!(pulled >= before_pull);
        assert_eq!(d.devices[0].last_push_ms, noted.last_push_ms);

        // Pulling again within the minute notes nothing new.
        let res = get(&server, Some(&phone), "/api/v1/ops?since=0").await;
        assert_eq!(res.status(), StatusCode::OK);
        let d = dashboard(&server, &sabine, "").await;
        assert_eq!(d.devices[0].last_pull_ms, Some(pulled));
    })
    .await;
}

#[tokio::test]
async fn a_query_it_cannot_take_is_answered_with_what_it_takes() {
    on_both(|server| async move {
        let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
        for query in [
            "weeks=0",
            "weeks=-1",
            "weeks=many",
            "to=2026-02-30",
            "to=18.11.2026",
            "from=2026-11-20&to=2026-11-01",
            "nonsense=1",
        ] {
            let res = get(
                &server,
                Some(&sabine),
                &format!("/api/v1/dashboard?{query}"),
            )
            .await;
            let message = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
            assert!(message.contains("weeks"), "{query}: {message}");
        }
        // More weeks than it shows are taken as as many as it shows.
        let d = dashboard(&server, &sabine, &format!("?weeks=99&to={TO}")).await;
        assert_eq!(d.weeks.len(), MAX_DASHBOARD_WEEKS as usize);
        assert_eq!(d.weeks.last().unwrap().to_string(), "2026-11-16");
        // Unless told: eight weeks up to today, and an empty team is no team.
        let today =
            Date::from_days(i32::try_from(cris_server::auth::now_ms() / DAY_MS as i64).unwrap());
        let d = dashboard(&server, &sabine, "?team=").await;
        assert_eq!(d.weeks.len(), 8);
        assert_eq!(d.to, today);
        assert_eq!(*d.weeks.last().unwrap(), today.monday());
        assert_eq!(d.teams, [NORD]);
    })
    .await;
}

/// A merge or its undoing on the household `case_id`, made on the laptop.
fn link(case_id: &str, change: cris_core::record::Change) -> Operation {
    crate::support::link_op(case_id, LAPTOP, change)
}

/// What a dashboard shows of households and visits, to compare before and after merges:
/// housing, overdue steps, consents, and visits per worker and week.
fn shown(d: &Dashboard) -> impl PartialEq + std::fmt::Debug {
    let visits: Vec<(String, Vec<u32>)> = d
        .visits
        .iter()
        .map(|w| (w.login.clone(), w.per_week.clone()))
        .collect();
    (
        d.housing.clone(),
        d.overdue.clone(),
        d.consents.clone(),
        visits,
    )
}

/// The households overdue, as listed: (case id, name, steps overdue, the oldest due).
fn overdue_listed(d: &Dashboard) -> Vec<(String, String, u32, String)> {
    d.overdue
        .most
        .iter()
        .map(|h| {
            let oldest = h.oldest_due.to_string();
            (
                h.case_id.clone(),
                h.household_name.clone(),
                h.overdue,
                oldest,
            )
        })
        .collect()
}

/// Visits per worker and week: (login, per week).
fn visits_of(d: &Dashboard) -> Vec<(&str, &[u32])> {
    d.visits
        .iter()
        .map(|w| (w.login.as_str(), w.per_week.as_slice()))
        .collect()
}

/// Housing by value, with the households without one and those in conflict.
fn housing_of(d: &Dashboard) -> (Vec<(&str, u64)>, u64, u64, u64) {
    let by_value = d
        .housing
        .by_value
        .iter()
        .map(|(v, n)| (v.as_str(), *n))
        .collect();
    let h = &d.housing;
    (by_value, h.households, h.no_value, h.in_conflict)
}

#[tokio::test]
async fn a_merged_household_is_counted_with_the_one_it_joined_until_the_merge_is_undone() {
    use cris_core::record::Change;
    on_both(|server| async move {
        let k = kind(&server);
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let emre = server.account("emre.w", Role::Worker, &[NORD]).await;
        let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
        let (a, b, c, d) = (new_uuid(), new_uuid(), new_uuid(), new_uuid());
        // Ayşe and Emre met the Demirs, each offline, and recorded two households a day apart:
        // A in a shelter, B homeless (Emre's, the later, under another name), each with steps
        // agreed and a consent. And the Horváths: C without housing, D subletting.
        let a_intake = intake(
            &a,
            PHONE_A,
            "Familie Demir",
            Some("shelter"),
            vec![goal("Anmeldung beim Bürgerbüro", Some("2026-11-08"))],
        );
        let mut b_intake = intake(
            &b,
            PHONE_B,
            "Familie Demir-Yıldız",
            Some("homeless"),
            vec![
                goal("Wohngeld beantragen", Some("2026-11-01")),
                goal("Kita-Platz beantragen", Some("2026-11-17")),
            ],
        );
        b_intake.hlc.wall_ms += DAY_MS;
        let c_intake = intake(&c, PHONE_A, "Familie Horváth", None, vec![]);
        let mut d_intake = intake(&d, PHONE_B, "Familie Horváth", Some("sublet"), vec![]);
        d_intake.hlc.wall_ms += DAY_MS;
        let agency = server.consent.agency().unwrap();
        let a_consent = consent(&server.consent, agency, &a, PHONE_A, at("2026-10-01", 10));
        let b_consent = consent(&server.consent, agency, &b, PHONE_B, at("2026-10-02", 10));
        push(
            &server,
            &ayse,
            &[
                a_intake,
                c_intake,
                consent_op(&a_consent),
                visit(&a, PHONE_A, "2026-11-03", 10, None, &[], &[]),
            ],
        )
        .await;
        push(
            &server,
            &emre,
            &[
                b_intake,
                d_intake,
                consent_op(&b_consent),
                visit(&b, PHONE_B, "2026-11-10", 10, None, &[], &[]),
                visit(&d, PHONE_B, "2026-11-17", 10, None, &[], &[]),
            ],
        )
        .await;
        let query = format!("?to={TO}&weeks=3");
        let before = dashboard(&server, &sabine, &query).await;
        assert_eq!(
            housing_of(&before),
            (
                vec![("homeless", 1), ("shelter", 1), ("sublet", 1)],
                4,
                1,
                0
            ),
            "{k}"
        );
        assert_eq!((before.overdue.steps, before.overdue.households), (3, 2));
        assert_eq!(
            overdue_listed(&before),
            [
                (
                    b.clone(),
                    "Familie Demir-Yıldız".into(),
                    2,
                    "2026-11-01".into()
                ),
                (a.clone(), "Familie Demir".into(), 1, "2026-11-08".into()),
            ],
            "{k}"
        );
        assert_eq!(before.consents.households_in_force, 2, "{k}");
        assert_eq!(
            (before.consents.consents, before.consents.withdrawals),
            (2, 0)
        );
        let visits = [("ayse.w", &[1, 0, 0][..]), ("emre.w", &[0, 1, 1][..])];
        assert_eq!(visits_of(&before), visits, "{k}");

        // Sabine merges B into A and D into C.
        let b_into_a = link(&b, Change::Merge { into: a.clone() });
        let d_into_c = link(&d, Change::Merge { into: c.clone() });
        push(&server, &sabine, &[b_into_a.clone(), d_into_c.clone()]).await;
        // Two supervisors at once: both refresh, both see the same.
        let (merged, again) = tokio::join!(
            dashboard(&server, &sabine, &query),
            dashboard(&server, &sabine, &query)
        );
        assert_eq!(shown(&merged), shown(&again), "{k}");
        // Two households: A with both housing values (B's, the later, shown; in conflict),
        // C with D's.
        assert_eq!(
            housing_of(&merged),
            (vec![("homeless", 1), ("sublet", 1)], 2, 0, 1),
            "{k}"
        );
        // B's steps are A's, under A's id and the name A shows now (B's, the later).
        assert_eq!((merged.overdue.steps, merged.overdue.households), (3, 1));
        assert_eq!(
            overdue_listed(&merged),
            [(
                a.clone(),
                "Familie Demir-Yıldız".into(),
                3,
                "2026-11-01".into()
            )],
            "{k}"
        );
        // Both consents, one household.
        assert_eq!(merged.consents.households_in_force, 1, "{k}");
        assert_eq!(
            (merged.consents.consents, merged.consents.withdrawals),
            (2, 0)
        );
        // A visit was made whichever household it is shown with.
        assert_eq!(visits_of(&merged), visits, "{k}");

        // Taken back: as before the merges.
        push(
            &server,
            &sabine,
            &[
                link(
                    &b,
                    Change::Unmerge {
                        merge: b_into_a.op_id.clone(),
                    },
                ),
                link(
                    &d,
                    Change::Unmerge {
                        merge: d_into_c.op_id.clone(),
                    },
                ),
            ],
        )
        .await;
        let undone = dashboard(&server, &sabine, &query).await;
        assert_eq!(shown(&undone), shown(&before), "{k}");

        // Merged again, and then Emre's phone, which had not heard of it, reports one of B's
        // steps done on B, and Ayşe another of them on A: both count for the household.
        let again = link(&b, Change::Merge { into: a.clone() });
        push(&server, &sabine, std::slice::from_ref(&again)).await;
        let on_b = visit(&b, PHONE_B, TO, 9, None, &["Wohngeld beantragen"], &[]);
        push(&server, &emre, &[on_b]).await;
        let on_a = visit(&a, PHONE_A, TO, 10, None, &["Kita-Platz beantragen"], &[]);
        push(&server, &ayse, &[on_a]).await;
        let merged = dashboard(&server, &sabine, &query).await;
        assert_eq!(
            housing_of(&merged),
            (vec![("homeless", 1), ("sublet", 1)], 3, 1, 1),
            "{k}"
        );
        assert_eq!(
            overdue_listed(&merged),
            [(
                a.clone(),
                "Familie Demir-Yıldız".into(),
                1,
                "2026-11-08".into()
            )],
            "{k}"
        );
        assert_eq!((merged.overdue.steps, merged.overdue.households), (1, 1));
        assert_eq!(merged.consents.households_in_force, 1, "{k}");
        let visits = [("ayse.w", &[1, 0, 1][..]), ("emre.w", &[0, 1, 2][..])];
        assert_eq!(visits_of(&merged), visits, "{k}");

        // Taken back again: the step reported done on A is open on B again.
        push(
            &server,
            &sabine,
            &[link(
                &b,
                Change::Unmerge {
                    merge: again.op_id.clone(),
                },
            )],
        )
        .await;
        let undone = dashboard(&server, &sabine, &query).await;
        assert_eq!(housing_of(&undone), housing_of(&before), "{k}");
        assert_eq!(
            overdue_listed(&undone),
            [
                (a.clone(), "Familie Demir".into(), 1, "2026-11-08".into()),
                (
                    b.clone(),
                    "Familie Demir-Yıldız".into(),
                    1,
                    "2026-11-17".into()
                ),
            ],
            "{k}"
        );
        assert_eq!((undone.overdue.steps, undone.overdue.households), (2, 2));
        assert_eq!(undone.consents, before.consents, "{k}");
        assert_eq!(visits_of(&undone), visits, "{k}");
    })
    .await;
}
