//! Review over real HTTP, on SQLite and on PostgreSQL: supervisors go through their teams'
//! submissions (filtered, in pages), approve them or send them back with a comment; the
//! worker's inbox lists what was sent back until a correction arrives; every decision is in
//! the case's history. And the migration fills in submissions stored before it.

use crate::support::{
    LAPTOP, PHONE_A, PHONE_B, TestServer, error, get, intake, kind, new_uuid, now, on_both,
    push_applied as push, submit_op,
};
use cris_core::api::{
    ErrorCode, Inbox, ReviewDecision, ReviewDetail, ReviewItem, ReviewOutcome, ReviewPage,
    ReviewStatus, Role,
};
use cris_core::record::{Change, Operation};
use cris_core::sync::CaseHistory;
use reqwest::StatusCode;
use serde_json::{Value, json};

const NORD: &str = "Offenbach Nord";
const SUED: &str = "Offenbach Süd";
const BUDAPEST: &str = "Budapest VIII";
const DAY_MS: i64 = 86_400_000;

fn visit(case_id: &str, device: &str) -> Operation {
    submit_op("home_visit", case_id, device, now(), &[], &[])
}

fn id_of(op: &Operation) -> String {
    op.submission().unwrap().id.clone()
}

/// `op` made into a correction of `submission_id`.
fn correcting(mut op: Operation, submission_id: &str) -> Operation {
    crate::support::submission_mut(&mut op).corrects = Some(cris_core::record::Correction {
        submission_id: submission_id.into(),
        reason: "Kinder vergessen".into(),
    });
    op
}

async fn post(
    server: &TestServer,
    token: Option<&str>,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    let mut req = server.client.post(server.url(path)).json(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

/// The queue with this query string (`""` or `"?…"`).
async fn queue(server: &TestServer, token: &str, query: &str) -> ReviewPage {
    let res = get(server, Some(token), &format!("/api/v1/review{query}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{query} on {}", kind(server));
    res.json().await.unwrap()
}

/// The submission ids of a (single-page) queue.
async fn ids(server: &TestServer, token: &str, query: &str) -> Vec<String> {
    let page = queue(server, token, query).await;
    assert_eq!(page.next, None, "{query}: one page");
    page.items.into_iter().map(|i| i.submission_id).collect()
}

async fn item(server: &TestServer, token: &str, submission_id: &str) -> ReviewItem {
    detail(server, token, submission_id).await.item
}

async fn detail(server: &TestServer, token: &str, submission_id: &str) -> ReviewDetail {
    let res = get(
        server,
        Some(token),
        &format!("/api/v1/review/{submission_id}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "{}", kind(server));
    res.json().await.unwrap()
}

async fn decide(
    server: &TestServer,
    token: &str,
    submission_id: &str,
    body: Value,
) -> ReviewOutcome {
    let res = post(
        server,
        Some(token),
        &format!("/api/v1/review/{submission_id}"),
        &body,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", kind(server));
    res.json().await.unwrap()
}

async fn inbox(server: &TestServer, token: &str) -> Inbox {
    let res = get(server, Some(token), "/api/v1/inbox").await;
    assert_eq!(res.status(), StatusCode::OK, "{}", kind(server));
    res.json().await.unwrap()
}

fn status_of(page: &ReviewPage, submission_id: &str) -> ReviewStatus {
    page.items
        .iter()
        .find(|i| i.submission_id == submission_id)
        .unwrap_or_else(|| panic!("{submission_id} is in the queue"))
        .status
}

#[tokio::test]
async fn only_supervisors_and_admins_of_the_team_review() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
        let aron = server.account("aron.a", Role::Admin, &[NORD]).await;
        let zsofia = server
            .account("zsofia.s", Role::Supervisor, &[BUDAPEST])
            .await;
        let case_id = new_uuid();
        let first = intake(&case_id, PHONE_A);
        let id = id_of(&first);
        push(&server, &ayse, &[first]).await;
        let one = format!("/api/v1/review/{id}");
        let approve = json!({ "decision": "approved" });

        // A worker is refused every supervisor endpoint, whatever the query.
        for path in ["/api/v1/review", "/api/v1/review?nonsense=1", &one] {
            let res = get(&server, Some(&ayse), path).await;
            error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
        }
        let res = post(&server, Some(&ayse), &one, &approve).await;
        error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
        // Without a session, nothing at all.
        for path in ["/api/v1/review", &one, "/api/v1/inbox"] {
            let res = get(&server, None, path).await;
            error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
        }
        let res = post(&server, None, &one, &approve).await;
        error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
        assert_eq!(item(&server, &sabine, &id).await.status, ReviewStatus::New);

        // Another team's supervisor sees none of it: not in the queue, and by id answered
        // exactly like a submission that does not exist.
        assert!(queue(&server, &zsofia, "").await.items.is_empty());
        let case_query = format!("?case={case_id}");
        assert!(queue(&server, &zsofia, &case_query).await.items.is_empty());
        let theirs = get(&server, Some(&zsofia), &one).await;
        let nobodys = get(
            &server,
            Some(&zsofia),
            &format!("/api/v1/review/{}", new_uuid()),
        )
        .await;
        assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
        assert_eq!(nobodys.status(), StatusCode::NOT_FOUND);
        assert_eq!(theirs.text().await.unwrap(), nobodys.text().await.unwrap());
        let res = post(&server, Some(&zsofia), &one, &approve).await;
        error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        let res = get(&server, Some(&sabine), "/api/v1/review/not-a-uuid").await;
        error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        // Her refused attempt left nothing behind.
        assert_eq!(item(&server, &sabine, &id).await.status, ReviewStatus::New);

        // The team's admin reviews as its supervisor does.
        let outcome = decide(&server, &aron, &id, approve).await;
        assert_eq!(outcome.status, ReviewStatus::Approved);
        assert_eq!(outcome.event.reviewer_login, "aron.a");
        assert_eq!(
            item(&server, &sabine, &id).await.status,
            ReviewStatus::Approved
        );
    })
    .await;
}

#[tokio::test]
async fn the_queue_filters_and_pages_over_the_teams_submissions() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let jan = server.account("jan.w", Role::Worker, &[NORD]).await;
        let mehmet = server.account("mehmet.w", Role::Worker, &[SUED]).await;
        let lajos = server.account("lajos.w", Role::Worker, &[BUDAPEST]).await;
        let sabine = server
            .account("sabine.s", Role::Supervisor, &[NORD, SUED])
            .await;

        // Each push on its own: they arrive one after the other.
        let (c1, c2, c3, c4) = (new_uuid(), new_uuid(), new_uuid(), new_uuid());
        let pushes: Vec<(&str, Operation)> = vec![
            (&ayse, intake(&c1, PHONE_A)),
            (&jan, intake(&c2, PHONE_B)),
            (&ayse, visit(&c1, PHONE_A)),
            (&mehmet, intake(&c3, PHONE_B)),
            (&jan, visit(&c2, PHONE_B)),
            (&lajos, intake(&c4, PHONE_A)),
            (&mehmet, visit(&c3, PHONE_B)),
            (&ayse, visit(&c1, PHONE_A)),
        ];
        for (token, op) in &pushes {
            push(&server, token, std::slice::from_ref(op)).await;
        }
        let ours: Vec<&Operation> = pushes
            .iter()
            .filter(|(_, op)| op.case_id != c4)
            .map(|(_, op)| op)
            .collect();

        // Everything of her teams, newest received first, and nothing of Budapest.
        let all = queue(&server, &sabine, "?limit=200").await;
        assert_eq!(all.next, None);
        assert_eq!(all.items.len(), 7, "{}", kind(&server));
        let order: Vec<(i64, &str)> = all
            .items
            .iter()
            .map(|i| (i.received_at_ms, i.submission_id.as_str()))
            .collect();
        let mut sorted = order.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(order, sorted, "newest received first");
        let mut expected: Vec<String> = ours.iter().map(|op| id_of(op)).collect();
        expected.reverse();
        assert_eq!(
            all.items
                .iter()
                .map(|i| i.submission_id.clone())
                .collect::<Vec<_>>(),
            expected,
            "in the order they arrived, newest first"
        );
        // What an item says.
        let last = &all.items[0];
        let op = ours[6];
        assert_eq!(last.submission_id, id_of(op));
        assert_eq!(last.case_id, c1);
        assert_eq!(last.form_id, "home_visit");
        assert_eq!(last.form_version, op.submission().unwrap().form_version);
        assert_eq!(
            (last.worker_login.as_str(), last.worker_name.as_str()),
            ("ayse.w", "ayse.w (test)")
        );
        assert_eq!(last.team, NORD);
        assert!(last.received_at_ms.abs_diff(now() as i64) < 60_000);
        assert_eq!(
            last.finalized_at_ms as f64,
            op.submission().unwrap().finalized_at_ms
        );
        assert_eq!(
            (last.status, &last.corrects, &last.comment),
            (ReviewStatus::New, &None, &None)
        );

        // Pages of two cover every submission once, in the same order.
        let mut paged = Vec::new();
        let mut query = "?limit=2".to_owned();
        let mut pages = 0;
        loop {
            let page = queue(&server, &sabine, &query).await;
            pages += 1;
            assert!(page.items.len() <= 2);
            paged.extend(page.items.into_iter().map(|i| i.submission_id));
            match page.next {
                Some(next) => query = format!("?limit=2&after={next}"),
                None => break,
            }
        }
        assert_eq!(paged, expected, "{}", kind(&server));
        assert_eq!(pages, 4);
        // What has waited longest first, in pages of three.
        let mut oldest = Vec::new();
        let mut query = "?sort=oldest&limit=3".to_owned();
        loop {
            let page = queue(&server, &sabine, &query).await;
            oldest.extend(page.items.into_iter().map(|i| i.submission_id));
            match page.next {
                Some(next) => query = format!("?sort=oldest&limit=3&after={next}"),
                None => break,
            }
        }
        let mut waited = expected.clone();
        waited.reverse();
        assert_eq!(oldest, waited, "{}", kind(&server));
        assert_eq!(ids(&server, &sabine, "?sort=newest").await, expected);
        // Paging within a filter, and a cursor sent back through a form (URL-encoded).
        let first = queue(&server, &sabine, "?worker=ayse.w&limit=2").await;
        assert_eq!(first.items.len(), 2);
        let res = server
            .client
            .get(server.url("/api/v1/review"))
            .bearer_auth(&sabine)
            .query(&[
                ("worker", "ayse.w"),
                ("limit", "2"),
                ("after", first.next.as_deref().unwrap()),
            ])
            .send()
            .await
            .unwrap();
        let second: ReviewPage = res.json().await.unwrap();
        assert_eq!(second.items.len(), 1);
        assert_eq!(second.next, None);

        // Filters.
        // A worker's submissions, newest first.
        let of = |who: &str| -> Vec<String> {
            pushes
                .iter()
                .rev()
                .filter(|(token, _)| *token == who)
                .map(|(_, op)| id_of(op))
                .collect()
        };
        assert_eq!(ids(&server, &sabine, "?worker=ayse.w").await, of(&ayse));
        assert_eq!(ids(&server, &sabine, "?worker=jan.w").await, of(&jan));
        assert!(ids(&server, &sabine, "?worker=lajos.w").await.is_empty());
        assert!(ids(&server, &sabine, "?worker=nobody").await.is_empty());
        let sued = server
            .client
            .get(server.url("/api/v1/review"))
            .bearer_auth(&sabine)
            .query(&[("team", SUED)])
            .send()
            .await
            .unwrap()
            .json::<ReviewPage>()
            .await
            .unwrap();
        assert_eq!(
            sued.items
                .iter()
                .map(|i| i.submission_id.clone())
                .collect::<Vec<_>>(),
            of(&mehmet)
        );
        assert!(sued.items.iter().all(|i| i.team == SUED));
        assert!(
            ids(&server, &sabine, "?team=Budapest%20VIII")
                .await
                .is_empty()
        );
        assert_eq!(ids(&server, &sabine, "?form=intake").await.len(), 3);
        assert_eq!(ids(&server, &sabine, "?form=home_visit").await.len(), 4);
        assert_eq!(
            ids(&server, &sabine, "?worker=ayse.w&form=home_visit")
                .await
                .len(),
            2
        );
        assert_eq!(
            ids(&server, &sabine, &format!("?case={c1}")).await,
            of(&ayse)
        );
        assert!(
            ids(&server, &sabine, &format!("?case={c4}"))
                .await
                .is_empty()
        );

        // Days of receipt (UTC), both ends included.
        let today = cris_core::Date::from_days((now() as i64 / DAY_MS) as i32);
        let day = |offset: i32| cris_core::Date::from_days(today.days() + offset);
        let (yesterday, tomorrow) = (day(-1), day(1));
        for (query, n) in [
            (format!("?from={today}&to={today}"), 7),
            (format!("?from={yesterday}"), 7),
            (format!("?to={today}"), 7),
            (format!("?from={tomorrow}"), 0),
            (format!("?to={yesterday}"), 0),
            (format!("?from={yesterday}&to={yesterday}"), 0),
        ] {
            assert_eq!(ids(&server, &sabine, &query).await.len(), n, "{query}");
        }

        // By status.
        let (approved, sent_back) = (id_of(ours[0]), id_of(ours[1]));
        decide(
            &server,
            &sabine,
            &approved,
            json!({ "decision": "approved" }),
        )
        .await;
        let comment = "Bitte die Schulanmeldung der Kinder ergänzen";
        decide(
            &server,
            &sabine,
            &sent_back,
            json!({ "decision": "changes_requested", "comment": comment }),
        )
        .await;
        assert_eq!(ids(&server, &sabine, "?status=approved").await, [approved]);
        assert_eq!(
            ids(&server, &sabine, "?status=changes_requested").await,
            std::slice::from_ref(&sent_back)
        );
        assert_eq!(ids(&server, &sabine, "?status=new").await.len(), 5);
        assert!(ids(&server, &sabine, "?status=corrected").await.is_empty());
        assert!(
            ids(&server, &sabine, "?status=resubmitted")
                .await
                .is_empty()
        );
        let page = queue(&server, &sabine, "?status=changes_requested&worker=jan.w").await;
        assert_eq!(page.items[0].comment.as_deref(), Some(comment));
    })
    .await;
}

/// An intake of the household `name` on `case_id`.
fn named(case_id: &str, name: &str) -> Operation {
    submit_op(
        "intake",
        case_id,
        PHONE_A,
        now(),
        &[("household_name", name)],
        &[],
    )
}

#[tokio::test]
async fn the_queue_finds_households_by_any_spelling_of_their_name() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let lajos = server.account("lajos.w", Role::Worker, &[BUDAPEST]).await;
        let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
        let (sahin, cyrillic, yilmaz, budapest) = (new_uuid(), new_uuid(), new_uuid(), new_uuid());
        let first = named(&sahin, "Familie Şahin");
        let second = named(&cyrillic, "Семейство Шахин");
        let third = named(&yilmaz, "Familie Yılmaz");
        let visit = visit(&yilmaz, PHONE_A);
        push(&server, &ayse, &[first.clone(), second.clone()]).await;
        push(&server, &ayse, &[third.clone(), visit.clone()]).await;
        push(&server, &lajos, &[named(&budapest, "Familie Şahin")]).await;
        let found = |query: &'static str| {
            let server = &server;
            let sabine = &sabine;
            async move {
                let mut ids = ids(server, sabine, &format!("?household={query}")).await;
                ids.sort();
                ids
            }
        };
        let sorted = |ops: &[&Operation]| {
            let mut ids: Vec<String> = ops.iter().map(|op| id_of(op)).collect();
            ids.sort();
            ids
        };

        // Turkish, Cyrillic and plain Latin letters, upper or lower case, a part of the name:
        // the team's households of that name, not Budapest's.
        for query in [
            "sahin",
            "%C5%9Eahin",
            "%C5%9EAH%C4%B0N",
            "%D1%88%D0%B0%D1%85",
            "ahi",
        ] {
            assert_eq!(
                found(query).await,
                sorted(&[&first, &second]),
                "{query} on {}",
                kind(&server)
            );
        }
        // A household's forms all, whatever each one wrote.
        assert_eq!(found("yilmaz").await, sorted(&[&third, &visit]));
        assert_eq!(found("Y%C4%B1lmaz").await, sorted(&[&third, &visit]));
        assert!(found("Petrova").await.is_empty());
        // With the other filters, and in pages.
        let visits = ids(&server, &sabine, "?household=familie&form=home_visit").await;
        assert_eq!(visits, [id_of(&visit)]);
        let page = queue(&server, &sabine, "?household=sahin&limit=1").await;
        assert_eq!(page.items.len(), 1);
        let rest = queue(
            &server,
            &sabine,
            &format!("?household=sahin&limit=1&after={}", page.next.unwrap()),
        )
        .await;
        assert_eq!(rest.items.len(), 1);
        assert_eq!(rest.next, None);
        assert_ne!(page.items[0].submission_id, rest.items[0].submission_id);

        // Renamed: the old name and the new one both find it.
        let renamed = submit_op(
            "intake",
            &yilmaz,
            PHONE_A,
            now(),
            &[("household_name", "Familie Yılmaz-Kaya")],
            std::slice::from_ref(&third.hlc),
        );
        push(&server, &ayse, std::slice::from_ref(&renamed)).await;
        assert_eq!(found("kaya").await, sorted(&[&third, &visit, &renamed]));
        assert_eq!(found("yilmaz").await, sorted(&[&third, &visit, &renamed]));
        // Each item names its household as it stands now.
        let named_as = |page: ReviewPage| -> Vec<(String, String, String)> {
            let mut got: Vec<_> = page
                .items
                .into_iter()
                .map(|i| (i.case_id, i.household_id, i.household_name))
                .collect();
            got.sort();
            got.dedup();
            got
        };
        let page = queue(&server, &sabine, "?household=kaya").await;
        assert_eq!(
            named_as(page),
            [(
                yilmaz.clone(),
                yilmaz.clone(),
                "Familie Yılmaz-Kaya".to_owned()
            )],
            "{}",
            kind(&server)
        );

        // Merged into a household of that name: found with it, until the merge is undone.
        let merge = crate::support::link_op(
            &yilmaz,
            LAPTOP,
            Change::Merge {
                into: sahin.clone(),
            },
        );
        push(&server, &sabine, std::slice::from_ref(&merge)).await;
        assert_eq!(
            found("sahin").await,
            sorted(&[&first, &second, &third, &visit, &renamed])
        );
        // Shown with the household it joined, under the name of the two joined: the newest
        // (the app writes a resolution keeping the older name with a merge; this one has
        // none).
        let joined = "Familie Yılmaz-Kaya".to_owned();
        let mut expected = vec![
            (sahin.clone(), sahin.clone(), joined.clone()),
            (
                cyrillic.clone(),
                cyrillic.clone(),
                "Семейство Шахин".to_owned(),
            ),
            (yilmaz.clone(), sahin.clone(), joined.clone()),
        ];
        expected.sort();
        let page = queue(&server, &sabine, "?household=sahin").await;
        assert_eq!(named_as(page), expected);
        let shown = detail(&server, &sabine, &id_of(&visit)).await;
        assert_eq!(
            (
                shown.item.household_id.as_str(),
                shown.item.household_name.as_str()
            ),
            (sahin.as_str(), joined.as_str())
        );
        let undo = crate::support::link_op(
            &yilmaz,
            LAPTOP,
            Change::Unmerge {
                merge: merge.op_id.clone(),
            },
        );
        push(&server, &sabine, &[undo]).await;
        assert_eq!(found("sahin").await, sorted(&[&first, &second]));

        // A name that many households share: found page by page all the same.
        let many: Vec<Operation> = (0..=cris_server::store::FEW_HOUSEHOLDS)
            .map(|_| named(&new_uuid(), "Familie Vielfach"))
            .collect();
        for part in many.chunks(250) {
            push(&server, &ayse, part).await;
        }
        let page = queue(&server, &sabine, "?household=vielfach&limit=10").await;
        assert_eq!(page.items.len(), 10);
        assert!(
            page.items
                .iter()
                .all(|i| i.household_name == "Familie Vielfach")
        );
        // Newest first: the one pushed last leads.
        assert_eq!(
            page.items[0].submission_id,
            id_of(many.last().unwrap()),
            "{}",
            kind(&server)
        );
        assert!(page.next.is_some());
    })
    .await;
}

#[tokio::test]
async fn bad_queries_and_decisions_are_refused_clearly() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
        let op = intake(&new_uuid(), PHONE_A);
        let id = id_of(&op);
        push(&server, &ayse, &[op]).await;

        for (query, names) in [
            ("?sort=name", "sort"),
            ("?order=oldest", "order"),
            ("?status=done", "status"),
            ("?status=", "status"),
            ("?from=2026-13-01", "from"),
            ("?to=yesterday", "to"),
            ("?limit=abc", "limit"),
            ("?limit=-1", "limit"),
            ("?limit=0", "limit"),
            ("?after=page-2", "after"),
            ("?after=123_not-an-id", "after"),
            ("?case=not-a-case", "case"),
            ("?from=2026-03-02&to=2026-03-01", "from"),
            ("?team=a&team=b", "team"),
            ("?household=%20-%20", "household"),
            ("?household=12345", "household"),
        ] {
            let res = get(&server, Some(&sabine), &format!("/api/v1/review{query}")).await;
            let message = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
            assert!(message.contains(names), "{query}: {message}");
        }
        let long = "a".repeat(cris_core::api::MAX_HOUSEHOLD_SEARCH + 1);
        let res = get(
            &server,
            Some(&sabine),
            &format!("/api/v1/review?household={long}"),
        )
        .await;
        let message = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        assert!(message.contains("at most 100 characters"), "{message}");
        // Far more than a page is a full page.
        assert_eq!(
            queue(&server, &sabine, "?limit=100000").await.items.len(),
            1
        );

        let path = format!("/api/v1/review/{id}");
        for (body, says) in [
            (json!({ "decision": "changes_requested" }), "comment"),
            (
                json!({ "decision": "changes_requested", "comment": " \n " }),
                "comment",
            ),
            (
                json!({ "decision": "changes_requested", "comment": "ü".repeat(2001) }),
                "2000",
            ),
            (
                json!({ "decision": "approved", "comment": "x".repeat(2001) }),
                "2000",
            ),
            (
                json!({ "decision": "rejected", "comment": "nein" }),
                "rejected",
            ),
            (json!({ "comment": "ok" }), "decision"),
            (json!({ "decision": "approved", "grade": 1 }), "grade"),
            (json!("approved"), "JSON"),
        ] {
            let res = post(&server, Some(&sabine), &path, &body).await;
            let message = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
            assert!(message.contains(says), "{body}: {message}");
        }
        let res = server
            .client
            .post(server.url(&path))
            .bearer_auth(&sabine)
            .header("content-type", "application/json")
            .body("{\"decision\": ")
            .send()
            .await
            .unwrap();
        let message = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        assert!(message.starts_with("malformed JSON"), "{message}");
        let huge = json!({ "decision": "approved", "comment": "x".repeat(100 * 1024) });
        let res = post(&server, Some(&sabine), &path, &huge).await;
        error(
            res,
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
        )
        .await;
        // None of it was recorded.
        assert!(detail(&server, &sabine, &id).await.events.is_empty());

        // The longest comment is taken whole (characters, not bytes), and its edges trimmed.
        let longest = "ü".repeat(2000);
        let outcome = decide(
            &server,
            &sabine,
            &id,
            json!({ "decision": "changes_requested", "comment": format!(" {longest}\n") }),
        )
        .await;
        assert_eq!(outcome.event.comment, longest);
    })
    .await;
}

#[tokio::test]
async fn a_visit_sent_back_is_corrected_on_the_phone_and_approved() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let jan = server.account("jan.w", Role::Worker, &[NORD]).await;
        let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
        let case_id = new_uuid();
        let first = intake(&case_id, PHONE_A);
        let sent = visit(&case_id, PHONE_A);
        let visit_id = id_of(&sent);
        push(&server, &ayse, &[first.clone(), sent.clone()]).await;

        // The supervisor finds the visit new, with its answers.
        let page = queue(&server, &sabine, "?status=new&form=home_visit").await;
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].submission_id, visit_id);
        let shown = detail(&server, &sabine, &visit_id).await;
        assert_eq!(shown.op, sent);
        assert!(shown.events.is_empty());
        assert_eq!(shown.corrected_by, None);
        assert_eq!(shown.edits.len(), 1);
        assert_eq!(
            (
                shown.edits[0].submission_id.as_str(),
                shown.edits[0].worker_name.as_str(),
                shown.edits[0].device.as_str(),
                shown.edits[0].reason.as_deref()
            ),
            (visit_id.as_str(), "ayse.w (test)", PHONE_A, None)
        );
        assert_eq!(
            shown.edits[0].finalized_at_ms as f64,
            sent.submission().unwrap().finalized_at_ms
        );

        // She sends it back with a comment.
        let comment = "Die Kinder fehlen: bitte Emine und Ali Testoğlu eintragen";
        let before = now() as i64;
        let asked = decide(
            &server,
            &sabine,
            &visit_id,
            json!({ "decision": "changes_requested", "comment": comment }),
        )
        .await;
        assert_eq!(asked.status, ReviewStatus::ChangesRequested);
        assert_eq!(asked.event.decision, ReviewDecision::ChangesRequested);
        assert_eq!(asked.event.comment, comment);
        assert_eq!(asked.event.submission_id, visit_id);
        assert_eq!(
            (
                asked.event.reviewer_login.as_str(),
                asked.event.reviewer_name.as_str()
            ),
            ("sabine.s", "sabine.s (test)")
        );
        assert!(asked.event.at_ms >= before && asked.event.at_ms <= now() as i64);

        // Ayşe's phone finds it in her inbox; nobody else's does.
        let waiting = inbox(&server, &ayse).await;
        assert_eq!(waiting.items.len(), 1);
        let item = &waiting.items[0];
        assert_eq!(
            (
                item.submission_id.as_str(),
                item.case_id.as_str(),
                item.form_id.as_str()
            ),
            (visit_id.as_str(), case_id.as_str(), "home_visit")
        );
        assert_eq!(item.comment, comment);
        assert_eq!(item.reviewer_name, "sabine.s (test)");
        assert_eq!(item.requested_at_ms, asked.event.at_ms);
        assert!(inbox(&server, &jan).await.items.is_empty());
        assert!(inbox(&server, &sabine).await.items.is_empty());

        // She corrects the visit on her other phone and syncs.
        let fix = correcting(visit(&case_id, PHONE_B), &visit_id);
        let fix_id = id_of(&fix);
        push(&server, &ayse, std::slice::from_ref(&fix)).await;
        let page = queue(&server, &sabine, "").await;
        assert_eq!(status_of(&page, &visit_id), ReviewStatus::Corrected);
        assert_eq!(status_of(&page, &fix_id), ReviewStatus::Resubmitted);
        assert_eq!(page.items[0].submission_id, fix_id);
        assert_eq!(page.items[0].corrects.as_deref(), Some(visit_id.as_str()));
        assert_eq!(
            ids(&server, &sabine, "?status=resubmitted").await,
            std::slice::from_ref(&fix_id)
        );
        let original = detail(&server, &sabine, &visit_id).await;
        assert_eq!(original.item.status, ReviewStatus::Corrected);
        assert_eq!(original.corrected_by.as_deref(), Some(fix_id.as_str()));
        assert_eq!(original.events, std::slice::from_ref(&asked.event));
        assert!(inbox(&server, &ayse).await.items.is_empty());
        // Both versions, with who, where and why, on the page of either.
        let corrected = detail(&server, &sabine, &fix_id).await;
        assert_eq!(corrected.edits, original.edits, "{}", kind(&server));
        let versions: Vec<_> = corrected
            .edits
            .iter()
            .map(|e| {
                (
                    e.submission_id.as_str(),
                    e.corrects.as_deref(),
                    e.device.as_str(),
                    e.reason.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            versions,
            [
                (visit_id.as_str(), None, PHONE_A, None),
                (
                    fix_id.as_str(),
                    Some(visit_id.as_str()),
                    PHONE_B,
                    Some("Kinder vergessen")
                )
            ]
        );
        assert!(corrected.edits[0].received_at_ms <= corrected.edits[1].received_at_ms);

        // The supervisor approves the correction.
        let approved = decide(&server, &sabine, &fix_id, json!({ "decision": "approved" })).await;
        assert_eq!(approved.status, ReviewStatus::Approved);
        assert_eq!(approved.event.comment, "");
        assert!(approved.event.id > asked.event.id);
        let page = queue(&server, &sabine, "").await;
        assert_eq!(status_of(&page, &fix_id), ReviewStatus::Approved);
        assert_eq!(status_of(&page, &visit_id), ReviewStatus::Corrected);
        assert_eq!(
            ids(&server, &sabine, "?status=approved").await,
            std::slice::from_ref(&fix_id)
        );
        assert!(inbox(&server, &ayse).await.items.is_empty());

        // Both decisions are in the case's history, with who and when, for the team.
        for token in [&ayse, &sabine] {
            let res = get(
                &server,
                Some(token),
                &format!("/api/v1/cases/{case_id}/history"),
            )
            .await;
            assert_eq!(res.status(), StatusCode::OK);
            let history: CaseHistory = res.json().await.unwrap();
            assert_eq!(history.entries.len(), 3);
            assert_eq!(
                history.reviews,
                [asked.event.clone(), approved.event.clone()],
                "{}",
                kind(&server)
            );
        }
    })
    .await;
}

#[tokio::test]
async fn the_status_follows_the_latest_decision_and_what_arrived_since() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
        let case_id = new_uuid();
        let sent = visit(&case_id, PHONE_A);
        let id = id_of(&sent);
        push(&server, &ayse, &[intake(&case_id, PHONE_A), sent]).await;
        let back = |comment: &str| json!({ "decision": "changes_requested", "comment": comment });
        let approve = json!({ "decision": "approved" });

        // Sent back, then approved after all: nothing waits on the phone.
        decide(&server, &sabine, &id, back("Datum prüfen")).await;
        decide(&server, &sabine, &id, approve.clone()).await;
        assert_eq!(
            item(&server, &sabine, &id).await.status,
            ReviewStatus::Approved
        );
        assert!(inbox(&server, &ayse).await.items.is_empty());
        // Sent back again: the inbox has the latest comment.
        decide(&server, &sabine, &id, back("Doch: Uhrzeit fehlt")).await;
        let waiting = inbox(&server, &ayse).await;
        assert_eq!(waiting.items.len(), 1);
        assert_eq!(waiting.items[0].comment, "Doch: Uhrzeit fehlt");

        // A correction arrives; then the supervisor sends the original back once more: the
        // correction came before that and is new, the original waits again.
        let fix = correcting(visit(&case_id, PHONE_A), &id);
        let fix_id = id_of(&fix);
        push(&server, &ayse, &[fix]).await;
        assert_eq!(
            item(&server, &sabine, &fix_id).await.status,
            ReviewStatus::Resubmitted
        );
        decide(&server, &sabine, &id, back("Unterschrift fehlt")).await;
        assert_eq!(
            item(&server, &sabine, &id).await.status,
            ReviewStatus::ChangesRequested
        );
        assert_eq!(
            item(&server, &sabine, &fix_id).await.status,
            ReviewStatus::New
        );
        assert_eq!(
            inbox(&server, &ayse).await.items[0].comment,
            "Unterschrift fehlt"
        );

        // A second correction answers it.
        let again = correcting(visit(&case_id, PHONE_A), &id);
        let again_id = id_of(&again);
        push(&server, &ayse, &[again]).await;
        assert_eq!(
            item(&server, &sabine, &id).await.status,
            ReviewStatus::Corrected
        );
        assert_eq!(
            item(&server, &sabine, &again_id).await.status,
            ReviewStatus::Resubmitted
        );
        assert_eq!(
            item(&server, &sabine, &fix_id).await.status,
            ReviewStatus::New
        );
        assert!(inbox(&server, &ayse).await.items.is_empty());

        // Approving the original leaves its correction to be looked at as new.
        decide(&server, &sabine, &id, approve.clone()).await;
        assert_eq!(
            item(&server, &sabine, &again_id).await.status,
            ReviewStatus::New
        );

        // A correction of an approved form, or of one never reviewed, is new.
        let approved = visit(&case_id, PHONE_B);
        let approved_id = id_of(&approved);
        push(&server, &ayse, &[approved]).await;
        decide(&server, &sabine, &approved_id, approve).await;
        let of_approved = correcting(visit(&case_id, PHONE_B), &approved_id);
        let unreviewed = visit(&case_id, PHONE_B);
        let of_unreviewed = correcting(visit(&case_id, PHONE_B), &id_of(&unreviewed));
        let (a, b) = (id_of(&of_approved), id_of(&of_unreviewed));
        push(&server, &ayse, &[of_approved, unreviewed, of_unreviewed]).await;
        assert_eq!(item(&server, &sabine, &a).await.status, ReviewStatus::New);
        assert_eq!(item(&server, &sabine, &b).await.status, ReviewStatus::New);
        assert_eq!(
            item(&server, &sabine, &approved_id).await.status,
            ReviewStatus::Approved
        );

        // A form sent back and corrected in one sync with another correction of it.
        let sent = visit(&case_id, PHONE_A);
        let sent_id = id_of(&sent);
        push(&server, &ayse, &[sent]).await;
        decide(&server, &sabine, &sent_id, back("Adresse")).await;
        let (x, y) = (
            correcting(visit(&case_id, PHONE_A), &sent_id),
            correcting(visit(&case_id, PHONE_B), &sent_id),
        );
        let (x_id, y_id) = (id_of(&x), id_of(&y));
        push(&server, &ayse, &[x, y]).await;
        assert_eq!(
            item(&server, &sabine, &sent_id).await.status,
            ReviewStatus::Corrected
        );
        assert_eq!(
            item(&server, &sabine, &x_id).await.status,
            ReviewStatus::Resubmitted
        );
        assert_eq!(
            item(&server, &sabine, &y_id).await.status,
            ReviewStatus::Resubmitted
        );
    })
    .await;
}

/// The migrations before review, from the folder of `kind` (`sqlite` or `postgres`), in a
/// folder of their own.
fn migrations_before_review(kind: &str) -> tempfile::TempDir {
    let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(kind);
    let to = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with("_review.sql") {
            std::fs::copy(&path, to.path().join(&name)).unwrap();
        }
    }
    to
}

/// A worker's intake and its correction, stored as the server stored them before review
/// (no review columns yet, no folded names), with a supervisor of the team:
/// `(intake, correction)`.
macro_rules! seed_before_review {
    ($pool:expr) => {{
        let pool = $pool;
        let case_id = new_uuid();
        let first = submit_op("intake", &case_id, PHONE_A, 1_767_000_000_000, &[], &[]);
        let fix = correcting(
            submit_op("intake", &case_id, PHONE_A, 1_767_000_600_000, &[], &[]),
            &id_of(&first),
        );
        for sql in [
            "INSERT INTO teams (id, name, created_ms) VALUES ('t-nord', 'Offenbach Nord', 0)",
            "INSERT INTO users (id, login, display_name, role, password_hash, created_ms)
             VALUES ('u-ayse', 'ayse.w', 'Ayşe Testkaya', 'worker', 'x', 0),
                    ('u-sabine', 'sabine.s', 'Sabine Prüfer', 'supervisor', 'x', 0)",
            "INSERT INTO team_members (user_id, team_id)
             VALUES ('u-ayse', 't-nord'), ('u-sabine', 't-nord')",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        sqlx::query("INSERT INTO cases (id, team_id, created_ms) VALUES ($1, 't-nord', 0)")
            .bind(&case_id)
            .execute(&pool)
            .await
            .unwrap();
        for (op, received_ms) in [(&first, 1_767_000_100_000_i64), (&fix, 1_767_000_700_000)] {
            sqlx::query(
                "INSERT INTO ops (op_id, case_id, user_id, device_id, hlc, received_ms, body)
                 VALUES ($1, $2, 'u-ayse', $3, $4, $5, $6)",
            )
            .bind(&op.op_id)
            .bind(&case_id)
            .bind(PHONE_A)
            .bind(op.hlc.to_string())
            .bind(received_ms)
            .bind(serde_json::to_string(op).unwrap())
            .execute(&pool)
            .await
            .unwrap();
            let s = op.submission().unwrap();
            sqlx::query(
                "INSERT INTO submissions (id, case_id, form_id, form_version, op_id)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&s.id)
            .bind(&case_id)
            .bind(&s.form_id)
            .bind(i64::from(s.form_version))
            .bind(&op.op_id)
            .execute(&pool)
            .await
            .unwrap();
            for (field, w) in op.writes() {
                sqlx::query(
                    "INSERT INTO field_writes (case_id, field, hlc, value, seen, op_id)
                     VALUES ($1, $2, $3, $4, '[]', $5)",
                )
                .bind(&case_id)
                .bind(field)
                .bind(w.hlc.to_string())
                .bind(&w.value)
                .bind(&op.op_id)
                .execute(&pool)
                .await
                .unwrap();
            }
        }
        pool.close().await;
        (first, fix)
    }};
}

/// What the review queue makes of the seeded rows once the store is migrated.
async fn check_filled(store: &cris_server::CaseStore, first: &Operation, fix: &Operation) {
    let filter = cris_server::store::ReviewFilter {
        limit: 10,
        ..Default::default()
    };
    let items = store.review_queue("u-sabine", &filter).await.unwrap();
    let got: Vec<_> = items
        .iter()
        .map(|i| {
            (
                i.submission_id.clone(),
                i.worker_login.as_str(),
                i.received_at_ms,
                i.finalized_at_ms,
                i.corrects.clone(),
                i.status,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                id_of(fix),
                "ayse.w",
                1_767_000_700_000,
                1_767_000_600_000,
                Some(id_of(first)),
                ReviewStatus::New
            ),
            (
                id_of(first),
                "ayse.w",
                1_767_000_100_000,
                1_767_000_000_000,
                None,
                ReviewStatus::New
            ),
        ],
        "{}",
        store.kind()
    );
    let worker = cris_server::store::ReviewFilter {
        worker: Some("ayse.w".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        store.review_queue("u-sabine", &worker).await.unwrap().len(),
        2
    );
    // Found by the household's name, which the store folded as it opened.
    let household = cris_server::store::ReviewFilter {
        household: Some("ismailova".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        store
            .review_queue("u-sabine", &household)
            .await
            .unwrap()
            .len(),
        2,
        "{}",
        store.kind()
    );
    let reviewed = store
        .review("u-sabine", &id_of(first))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reviewed.corrected_by, Some(id_of(fix)));
    assert_eq!(reviewed.op, *first);
}

#[tokio::test]
async fn the_migration_fills_in_submissions_stored_before_it() {
    use std::str::FromStr;

    // SQLite: a store made by the migrations before review, with two forms in it.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cris.db", dir.path().display());
    let old = migrations_before_review("sqlite");
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let (first, fix) = seed_before_review!(pool);
    let store = cris_server::CaseStore::open(&url).await.unwrap();
    check_filled(&store, &first, &fix).await;

    // PostgreSQL likewise.
    let pg = crate::support::TestPg::create().await;
    let old = migrations_before_review("postgres");
    let pool = sqlx::PgPool::connect(&pg.url).await.unwrap();
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let (first, fix) = seed_before_review!(pool);
    let store = cris_server::CaseStore::open(&pg.url).await.unwrap();
    check_filled(&store, &first, &fix).await;
    store.close().await;
}

/// Where PostgreSQL runs without autovacuum (as here), the store analyzes the review tables
/// itself once they changed enough, so the queue's plans do not stay those of an empty
/// database.
#[tokio::test]
async fn the_store_keeps_the_review_tables_analyzed_where_autovacuum_is_off() {
    use cris_server::store::writer::GroupPush;
    let server = TestServer::postgres().await;
    let pool = sqlx::PgPool::connect(server.pg_url().expect("on PostgreSQL"))
        .await
        .unwrap();
    let autovacuum: String = sqlx::query_scalar("SHOW autovacuum")
        .fetch_one(&pool)
        .await
        .unwrap();
    let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
    let ops: Vec<Operation> = (0..120).map(|_| intake(&new_uuid(), PHONE_A)).collect();
    push(&server, &ayse, &ops).await;
    let rows = || async {
        sqlx::query_scalar::<_, f32>("SELECT reltuples FROM pg_class WHERE relname = 'submissions'")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    if autovacuum == "on" {
        // Autovacuum's business, not the store's.
        return;
    }
    // The table's changes reach the statistics views within a moment; upkeep then analyzes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        server.store.maintain().await;
        if rows().await >= 120.0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "submissions never analyzed: reltuples {}",
            rows().await
        );
        tokio::task::yield_now().await;
    }
}

/// The queue's worker filter lists the workers of the reviewer's own teams by name: not
/// another team's, not a disabled account, not a supervisor; a worker may not ask.
#[tokio::test]
async fn the_worker_filter_lists_the_teams_workers() {
    on_both(|server| async move {
        let lea = server.account("lea.s", Role::Supervisor, &[NORD]).await;
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        server.account("jan.w", Role::Worker, &[NORD, SUED]).await;
        server.account("olga.w", Role::Worker, &[SUED]).await;
        server.account("gone.w", Role::Worker, &[NORD]).await;
        server.account("tom.s", Role::Supervisor, &[NORD]).await;
        assert!(
            server
                .store
                .set_disabled("gone.w", true, now() as i64)
                .await
                .unwrap()
        );

        let res = get(&server, Some(&lea), "/api/v1/review/workers").await;
        assert_eq!(res.status(), StatusCode::OK, "{}", kind(&server));
        let listed: cris_core::api::TeamWorkers = res.json().await.unwrap();
        let logins: Vec<(&str, &str)> = listed
            .workers
            .iter()
            .map(|w| (w.login.as_str(), w.display_name.as_str()))
            .collect();
        assert_eq!(
            logins,
            [("ayse.w", "ayse.w (test)"), ("jan.w", "jan.w (test)")],
            "{}",
            kind(&server)
        );

        let res = get(&server, Some(&ayse), "/api/v1/review/workers").await;
        error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
        let res = get(&server, None, "/api/v1/review/workers").await;
        error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
    })
    .await;
}
