//! The store as 40 workers in 4 teams would have filled it over 60 days, for `review`.

use super::*;

pub(crate) const DAY_MS: i64 = 86_400_000;
pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) const INTAKE: &str = "intake";
pub(crate) const VISIT: &str = "home_visit";
/// The teams of the review benchmark; the supervisor measured leads the first.
pub(crate) const TEAMS: [&str; 4] = [TEAM, "Offenbach Süd", "Hanau Lamboy", "Frankfurt Gallus"];
/// The start of the logins of each team's workers and supervisor.
pub(crate) const SHORT: [&str; 4] = ["nord", "sued", "lamboy", "gallus"];
pub(crate) const WORKERS_PER_TEAM: usize = 10;
pub(crate) const CASES: usize = 5_000;
pub(crate) const SUBMISSIONS: usize = 50_000;
/// Days of receipt, the last one yesterday.
pub(crate) const DAYS: i64 = 60;
/// Home visits planned; the last day tops the forms up to `SUBMISSIONS` (corrections are the
/// rest).
pub(crate) const VISITS: usize = 41_000;
/// Requests per endpoint, per run.
pub(crate) const REQUESTS: usize = 300;
/// How long the requests while phones push may take at most: the phones add 20 operations
/// a second each to the store, which soon outgrows the one seeded.
pub(crate) const LOADED_BUDGET: Duration = Duration::from_secs(60);
/// The target for every endpoint while phones push.
pub(crate) const TARGET: Duration = Duration::from_millis(100);

pub(crate) const SENT_BACK: [&str; 4] = [
    "Bitte das Datum des Besuchs prüfen, es liegt vor der Aufnahme.",
    "Angaben zur Wohnsituation fehlen, bitte ergänzen.",
    "Die Sprachmittlerin ist nicht eingetragen.",
    "Vereinbarte Schritte bitte mit Frist und Zuständigkeit.",
];

/// A small deterministic generator (xorshift64*): the same households on every run.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// A worker of the review benchmark: the account, as the store knows it, and the phone.
pub(crate) struct Member {
    pub(crate) user: User,
    pub(crate) device: String,
}

/// Invented family names, put together from two parts: 400 of them over the households, so a
/// name search finds about a dozen households, as a common surname does.
pub(crate) const NAME_STARTS: [&str; 20] = [
    "Ak", "Bal", "Cev", "Dem", "Er", "Gül", "Hal", "Ism", "Kar", "Lat", "Mer", "Naz", "Öz", "Pet",
    "Sar", "Şen", "Tod", "Uz", "Yıl", "Zdr",
];
pub(crate) const NAME_ENDS: [&str; 20] = [
    "ova", "ev", "oğlu", "ieva", "kaya", "demir", "inov", "aliev", "can", "eva", "yurt", "ski",
    "ler", "ovič", "ková", "göz", "cı", "avo", "ay", "enko",
];

/// The invented family name of the `n`-th household.
pub(crate) fn family_name(n: usize) -> String {
    format!(
        "Familie {}{}",
        NAME_STARTS[n % NAME_STARTS.len()],
        NAME_ENDS[(n / NAME_STARTS.len()) % NAME_ENDS.len()]
    )
}

/// A household: its team, the worker who has it and the day it was taken in (of `DAYS`), and
/// the latest write of each property, which the next form has seen.
pub(crate) struct Household {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) team: usize,
    pub(crate) worker: usize,
    pub(crate) opened: i64,
    pub(crate) heads: HashMap<String, Hlc>,
}

/// A form pushed, and where it stands in review as the store decides it.
pub(crate) struct Form {
    pub(crate) id: String,
    pub(crate) case: usize,
    pub(crate) form: &'static str,
    pub(crate) worker: usize,
    pub(crate) status: ReviewStatus,
    pub(crate) corrections: Vec<usize>,
}

/// A form a worker fills in on a day, before it has a time: on `case`, a correction of the
/// form `corrects` (an index in the forms) for a reason.
pub(crate) struct Planned {
    pub(crate) case: usize,
    pub(crate) form: &'static str,
    pub(crate) worker: usize,
    pub(crate) corrects: Option<(usize, &'static str)>,
}

/// What the supervisor's requests need of the seeded store.
pub(crate) struct Seeded {
    /// The supervisor of the first team and the lead of all four.
    pub(crate) supervisor: String,
    pub(crate) lead: String,
    /// The first team's workers' tokens.
    pub(crate) workers: Vec<String>,
    /// Logins of the first team's workers.
    pub(crate) logins: Vec<String>,
    /// The first day of receipt (days since 1970).
    pub(crate) first_day: i64,
}

/// A day (since 1970) as the queue's filters take it: `YYYY-MM-DD`.
pub(crate) fn day(days: i64) -> String {
    cris_core::Date::from_days(i32::try_from(days).expect("a day")).to_string()
}

pub(crate) async fn user_of(server: &TestServer, token: &str) -> User {
    let hash = cris_server::auth::token_hash(token);
    server
        .store
        .session_user(&hash, cris_server::auth::now_ms())
        .await
        .expect("session")
        .expect("a live session")
}

/// Fills the store as 40 workers in 4 teams would have over 60 days, day after day: in the
/// morning each team's supervisor reviews the forms received the day before (every intake
/// and resubmitted correction, a third of the rest), approving most and sending some back;
/// then the workers fill in the day's intakes, home visits and corrections (of forms sent
/// back, mostly that day or the next, and of their own visit of the day before), each pushed
/// a few minutes after it was finalized. Through the store (`push` and `add_review`, what
/// the API calls), which takes the time of receipt and of decision.
pub(crate) async fn seed_review(server: &TestServer) -> Seeded {
    let started = Instant::now();
    let store = &server.store;
    let catalog = cris_server::FormCatalog::embedded().expect("the shipped forms");
    let mut rng = Rng(0x05ee_d0fc_215f_1e1d);
    let mut members = Vec::new();
    let (mut workers, mut logins) = (Vec::new(), Vec::new());
    for (t, team) in TEAMS.iter().enumerate() {
        for i in 1..=WORKERS_PER_TEAM {
            let login = format!("{}{i:02}.w", SHORT[t]);
            let token = server.account(&login, Role::Worker, &[team]).await;
            let user = user_of(server, &token).await;
            if t == 0 {
                workers.push(token);
                logins.push(login);
            }
            members.push(Member {
                user,
                device: new_uuid(),
            });
        }
    }
    let mut supervisors = Vec::new();
    for (t, team) in TEAMS.iter().enumerate() {
        let login = format!("{}.s", SHORT[t]);
        let token = server.account(&login, Role::Supervisor, &[team]).await;
        supervisors.push((user_of(server, &token).await, token));
    }
    let lead = server.account("lead.s", Role::Supervisor, &TEAMS).await;

    let first_day = cris_server::auth::now_ms() / DAY_MS - DAYS;
    let mut households: Vec<Household> = (0..CASES)
        .map(|n| {
            let team = rng.below(TEAMS.len());
            let opened = rng.below(51) as i64;
            Household {
                name: family_name(n),
                id: cris_server::store::new_id((first_day + opened) * DAY_MS + 8 * HOUR_MS),
                team,
                worker: team * WORKERS_PER_TEAM + rng.below(WORKERS_PER_TEAM),
                opened,
                heads: HashMap::new(),
            }
        })
        .collect();
    // Visits per day follow the households open that day.
    let open_on = |d: i64| households.iter().filter(|h| h.opened < d).count();
    let open_days: usize = (0..DAYS).map(open_on).sum();
    let planned_visits: Vec<usize> = (0..DAYS)
        .map(|d| (VISITS * open_on(d)).div_ceil(open_days))
        .collect();

    let housing = ["sublet", "shelter", "overcrowded", "at_risk"];
    let mut forms: Vec<Form> = Vec::new();
    let mut received_on: Vec<Vec<usize>> = Vec::new();
    let mut due: HashMap<i64, Vec<(usize, &'static str)>> = HashMap::new();
    let (mut pushing, mut deciding) = (Duration::ZERO, Duration::ZERO);
    let (mut approved, mut sent_back) = (0, 0);
    for d in 0..DAYS {
        let day_ms = (first_day + d) * DAY_MS;
        // The morning: yesterday's forms reviewed.
        if let Some(yesterday) = received_on.last() {
            let decided_at = Instant::now();
            let mut at = day_ms + 7 * HOUR_MS;
            for &f in yesterday {
                let form = &forms[f];
                let resubmitted = form.status == ReviewStatus::Resubmitted;
                if !(resubmitted || form.form == INTAKE || rng.chance(0.3)) {
                    continue;
                }
                let back = rng.chance(0.15);
                let (decision, comment) = if back {
                    (
                        ReviewDecision::ChangesRequested,
                        SENT_BACK[rng.below(SENT_BACK.len())],
                    )
                } else {
                    (ReviewDecision::Approved, "")
                };
                at += 1_000 + rng.below(10_000) as i64;
                let reviewer = &supervisors[households[form.case].team].0;
                let (_, status) = store
                    .add_review(reviewer, &form.id, decision, comment, at)
                    .await
                    .expect("a decision")
                    .expect("a form of the supervisor's team");
                forms[f].status = status;
                for c in forms[f].corrections.clone() {
                    if forms[c].status == ReviewStatus::Resubmitted {
                        forms[c].status = ReviewStatus::New;
                    }
                }
                if back {
                    sent_back += 1;
                    // Corrected that day, the next, or never.
                    let r = rng.below(10);
                    let reason = "Nach Rückfrage der Teamleitung ergänzt";
                    if r < 6 {
                        due.entry(d).or_default().push((f, reason));
                    } else if r < 9 {
                        due.entry(d + 1).or_default().push((f, reason));
                    }
                } else {
                    approved += 1;
                }
            }
            deciding += decided_at.elapsed();
        }

        // The day's forms.
        let mut planned: Vec<Planned> = households
            .iter()
            .enumerate()
            .filter(|(_, h)| h.opened == d)
            .map(|(c, h)| Planned {
                case: c,
                form: INTAKE,
                worker: h.worker,
                corrects: None,
            })
            .collect();
        for (of, reason) in due.remove(&d).unwrap_or_default() {
            let f = &forms[of];
            planned.push(Planned {
                case: f.case,
                form: f.form,
                worker: f.worker,
                corrects: Some((of, reason)),
            });
        }
        for &f in received_on.last().map_or(&[][..], Vec::as_slice) {
            if forms[f].form == VISIT && rng.chance(0.03) {
                planned.push(Planned {
                    case: forms[f].case,
                    form: VISIT,
                    worker: forms[f].worker,
                    corrects: Some((f, "Uhrzeit des Besuchs berichtigt")),
                });
            }
        }
        let visits = if d == DAYS - 1 {
            SUBMISSIONS
                .checked_sub(forms.len() + planned.len())
                .expect("fewer forms before the last day than in all")
        } else {
            planned_visits[d as usize]
        };
        let mut open: Vec<usize> = (0..CASES).filter(|&c| households[c].opened < d).collect();
        assert!(visits <= open.len(), "{visits} visits on day {d}");
        for i in 0..visits {
            // Distinct households: a partial shuffle.
            let j = i + rng.below(open.len() - i);
            open.swap(i, j);
            let h = &households[open[i]];
            let worker = if rng.chance(0.85) {
                h.worker
            } else {
                h.team * WORKERS_PER_TEAM + rng.below(WORKERS_PER_TEAM)
            };
            planned.push(Planned {
                case: open[i],
                form: VISIT,
                worker,
                corrects: None,
            });
        }

        // Each worker's forms spread over the working day, from eight to four.
        let mut per_worker: HashMap<usize, usize> = HashMap::new();
        for p in &planned {
            *per_worker.entry(p.worker).or_default() += 1;
        }
        let mut nth: HashMap<usize, usize> = HashMap::new();
        let mut timed: Vec<(i64, Planned)> = planned
            .into_iter()
            .map(|p| {
                let slot = 8 * HOUR_MS / per_worker[&p.worker] as i64;
                let k = nth.entry(p.worker).or_default();
                let at =
                    day_ms + 8 * HOUR_MS + *k as i64 * slot + rng.below(slot as usize / 2) as i64;
                *k += 1;
                (at, p)
            })
            .collect();
        timed.sort_by_key(|(at, _)| *at);

        // The visit's own dates follow the day it was made, never the example's fixed ones
        // (a deadline or next visit before the visit is refused).
        let date = day(first_day + d);
        let (step_by, next_visit) = (day(first_day + d + 10), day(first_day + d + 21));
        let mut today = Vec::with_capacity(timed.len());
        let mut pushes = tokio::task::JoinSet::new();
        let pushed_at = Instant::now();
        for (at, p) in timed {
            let household = &mut households[p.case];
            let member = &members[p.worker];
            let mut change = vec![("housing_situation", housing[rng.below(housing.len())])];
            if p.form == VISIT {
                change.push(("visit_date", &date));
                change.push(("next_visit_date", &next_visit));
            } else {
                change.push(("household_name", &household.name));
            }
            let mut op = submit_op(
                p.form,
                &household.id,
                &member.device,
                at as u64,
                &change,
                &[],
            );
            op.op_id = cris_server::store::new_id(at);
            let hlc = op.hlc.clone();
            let submission = submission_mut(&mut op);
            submission.id = cris_server::store::new_id(at - 600_000);
            if p.form == VISIT {
                let steps = submission
                    .answers
                    .instances("new_steps")
                    .iter()
                    .map(|step| step.clone().with("new_step_by", &step_by))
                    .collect();
                let answers = std::mem::take(&mut submission.answers);
                submission.answers = answers.with_repeat("new_steps", steps);
            }
            if let Some((of, reason)) = p.corrects {
                submission.corrects = Some(Correction {
                    submission_id: forms[of].id.clone(),
                    reason: reason.into(),
                });
            }
            let id = submission.id.clone();
            if let Change::Submit { properties, .. } = &mut op.change {
                for (name, write) in properties.iter_mut() {
                    write.seen = household.heads.get(name).cloned().into_iter().collect();
                    household.heads.insert(name.clone(), hlc.clone());
                }
            }
            let received = at + 5_000 + rng.below(900_000) as i64;
            let form = catalog.get(p.form);
            cris_core::sync::check(&op, form.as_deref(), received).expect("a valid form");
            // Where it stands as it arrives, as the store decides it.
            let mut status = ReviewStatus::New;
            if let Some((of, _)) = p.corrects {
                if matches!(
                    forms[of].status,
                    ReviewStatus::ChangesRequested | ReviewStatus::Corrected
                ) {
                    forms[of].status = ReviewStatus::Corrected;
                    status = ReviewStatus::Resubmitted;
                }
                let next = forms.len();
                forms[of].corrections.push(next);
            }
            today.push(forms.len());
            forms.push(Form {
                id,
                case: p.case,
                form: p.form,
                worker: p.worker,
                status,
                corrections: Vec::new(),
            });
            let checked = CheckedOp {
                body: serde_json::to_string(&op).expect("serialize"),
                creates_case: p.form == INTAKE,
                op,
            };
            let (store, user) = (store.clone(), member.user.clone());
            pushes.spawn(async move { store.push(&user, vec![checked], received).await });
        }
        while let Some(stored) = pushes.join_next().await {
            for s in stored.expect("a push").expect("stored") {
                assert!(matches!(s, Stored::Applied { .. }), "{s:?}");
            }
        }
        pushing += pushed_at.elapsed();
        received_on.push(today);
    }

    let count = |status| forms.iter().filter(|f| f.status == status).count();
    let corrections: usize = forms.iter().map(|f| f.corrections.len()).sum();
    println!(
        "  review: seeded in {:.1} s (pushes {:.1} s, decisions {:.1} s): {CASES} households, {} forms ({CASES} intakes, {} home visits, {corrections} corrections) of {} workers in {} teams received over {DAYS} days, {} decisions ({approved} approved, {sent_back} sent back)",
        started.elapsed().as_secs_f64(),
        pushing.as_secs_f64(),
        deciding.as_secs_f64(),
        forms.len(),
        forms.len() - CASES - corrections,
        members.len(),
        TEAMS.len(),
        approved + sent_back,
    );
    let statuses: Vec<String> = ReviewStatus::ALL
        .iter()
        .map(|&s| format!("{} {}", s.as_str(), count(s)))
        .collect();
    println!("  statuses: {}", statuses.join(", "));
    // The store agrees that every status occurs.
    for status in ReviewStatus::ALL {
        let path = format!("/api/v1/review?status={}&limit=1", status.as_str());
        let page: ReviewPage = get_json(server, &lead, &path).await;
        assert_eq!(page.items.len(), 1, "no form is {}", status.as_str());
    }
    Seeded {
        supervisor: supervisors.swap_remove(0).1,
        lead,
        workers,
        logins,
        first_day,
    }
}
