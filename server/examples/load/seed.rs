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
    let mut s = Seeding::start(server).await;
    let planned_visits = s.planned_visits();
    for d in 0..DAYS {
        s.review_morning(d).await;
        let planned = s.plan_day(d, planned_visits[d as usize]);
        let timed = s.time_day(d, planned);
        s.push_day(d, timed).await;
    }
    s.report(started);
    // The store agrees that every status occurs.
    for status in ReviewStatus::ALL {
        let path = format!("/api/v1/review?status={}&limit=1", status.as_str());
        let page: ReviewPage = get_json(server, &s.lead, &path).await;
        assert_eq!(page.items.len(), 1, "no form is {}", status.as_str());
    }
    Seeded {
        supervisor: s.supervisors.swap_remove(0).1,
        lead: s.lead,
        workers: s.workers,
        logins: s.logins,
        first_day: s.first_day,
    }
}

/// The seeding as it goes, day after day.
struct Seeding<'a> {
    server: &'a TestServer,
    catalog: cris_server::FormCatalog,
    rng: Rng,
    members: Vec<Member>,
    /// Each team's supervisor and token.
    supervisors: Vec<(User, String)>,
    lead: String,
    /// The first team's workers' tokens and logins.
    workers: Vec<String>,
    logins: Vec<String>,
    households: Vec<Household>,
    forms: Vec<Form>,
    /// The forms received on each day so far.
    received_on: Vec<Vec<usize>>,
    /// The corrections due on a day: of which form, why.
    due: HashMap<i64, Vec<(usize, &'static str)>>,
    first_day: i64,
    pushing: Duration,
    deciding: Duration,
    approved: usize,
    sent_back: usize,
}

impl<'a> Seeding<'a> {
    /// The accounts of the four teams, and the households they take in over the days.
    async fn start(server: &'a TestServer) -> Seeding<'a> {
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
        // Days from the clock the run is given: the last day of receipt is yesterday.
        let first_day = cris_server::auth::now_ms() / DAY_MS - DAYS;
        let households = (0..CASES)
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
        Seeding {
            server,
            catalog: cris_server::FormCatalog::embedded().expect("the shipped forms"),
            rng,
            members,
            supervisors,
            lead,
            workers,
            logins,
            households,
            forms: Vec::new(),
            received_on: Vec::new(),
            due: HashMap::new(),
            first_day,
            pushing: Duration::ZERO,
            deciding: Duration::ZERO,
            approved: 0,
            sent_back: 0,
        }
    }

    /// Home visits per day: they follow the households open that day.
    fn planned_visits(&self) -> Vec<usize> {
        let open_on = |d: i64| self.households.iter().filter(|h| h.opened < d).count();
        let open_days: usize = (0..DAYS).map(open_on).sum();
        (0..DAYS)
            .map(|d| (VISITS * open_on(d)).div_ceil(open_days))
            .collect()
    }

    /// The morning of the day `d`: the forms received the day before reviewed.
    async fn review_morning(&mut self, d: i64) {
        let Some(yesterday) = self.received_on.last().cloned() else {
            return;
        };
        let decided_at = Instant::now();
        let mut at = (self.first_day + d) * DAY_MS + 7 * HOUR_MS;
        for f in yesterday {
            let form = &self.forms[f];
            let resubmitted = form.status == ReviewStatus::Resubmitted;
            if !(resubmitted || form.form == INTAKE || self.rng.chance(0.3)) {
                continue;
            }
            let back = self.rng.chance(0.15);
            let (decision, comment) = if back {
                let comment = SENT_BACK[self.rng.below(SENT_BACK.len())];
                (ReviewDecision::ChangesRequested, comment)
            } else {
                (ReviewDecision::Approved, "")
            };
            at += 1_000 + self.rng.below(10_000) as i64;
            let reviewer = &self.supervisors[self.households[form.case].team].0;
            let (_, status) = self
                .server
                .store
                .add_review(reviewer, &form.id, decision, comment, at)
                .await
                .expect("a decision")
                .expect("a form of the supervisor's team");
            self.forms[f].status = status;
            for c in self.forms[f].corrections.clone() {
                if self.forms[c].status == ReviewStatus::Resubmitted {
                    self.forms[c].status = ReviewStatus::New;
                }
            }
            if back {
                self.sent_back += 1;
                // Corrected that day, the next, or never.
                let r = self.rng.below(10);
                let reason = "Nach Rückfrage der Teamleitung ergänzt";
                if r < 6 {
                    self.due.entry(d).or_default().push((f, reason));
                } else if r < 9 {
                    self.due.entry(d + 1).or_default().push((f, reason));
                }
            } else {
                self.approved += 1;
            }
        }
        self.deciding += decided_at.elapsed();
    }

    /// The forms of the day `d`: its intakes, the corrections due, and `visits` home visits
    /// of distinct households (on the last day, as many as make up `SUBMISSIONS`).
    fn plan_day(&mut self, d: i64, visits: usize) -> Vec<Planned> {
        let mut planned: Vec<Planned> = self
            .households
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
        for (of, reason) in self.due.remove(&d).unwrap_or_default() {
            let f = &self.forms[of];
            planned.push(Planned {
                case: f.case,
                form: f.form,
                worker: f.worker,
                corrects: Some((of, reason)),
            });
        }
        for &f in self.received_on.last().map_or(&[][..], Vec::as_slice) {
            if self.forms[f].form == VISIT && self.rng.chance(0.03) {
                planned.push(Planned {
                    case: self.forms[f].case,
                    form: VISIT,
                    worker: self.forms[f].worker,
                    corrects: Some((f, "Uhrzeit des Besuchs berichtigt")),
                });
            }
        }
        let visits = if d == DAYS - 1 {
            SUBMISSIONS
                .checked_sub(self.forms.len() + planned.len())
                .expect("fewer forms before the last day than in all")
        } else {
            visits
        };
        let mut open: Vec<usize> = (0..CASES)
            .filter(|&c| self.households[c].opened < d)
            .collect();
        assert!(visits <= open.len(), "{visits} visits on day {d}");
        for i in 0..visits {
            // Distinct households: a partial shuffle.
            let j = i + self.rng.below(open.len() - i);
            open.swap(i, j);
            let h = &self.households[open[i]];
            let worker = if self.rng.chance(0.85) {
                h.worker
            } else {
                h.team * WORKERS_PER_TEAM + self.rng.below(WORKERS_PER_TEAM)
            };
            planned.push(Planned {
                case: open[i],
                form: VISIT,
                worker,
                corrects: None,
            });
        }
        planned
    }

    /// Each worker's forms of the day `d` spread over the working day, from eight to four,
    /// in the order they were finalized.
    fn time_day(&mut self, d: i64, planned: Vec<Planned>) -> Vec<(i64, Planned)> {
        let day_ms = (self.first_day + d) * DAY_MS;
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
                let jitter = self.rng.below(slot as usize / 2) as i64;
                let at = day_ms + 8 * HOUR_MS + *k as i64 * slot + jitter;
                *k += 1;
                (at, p)
            })
            .collect();
        timed.sort_by_key(|(at, _)| *at);
        timed
    }

    /// The forms of the day `d`, each pushed by its worker a few minutes after it was
    /// finalized, all at once.
    async fn push_day(&mut self, d: i64, timed: Vec<(i64, Planned)>) {
        let mut today = Vec::with_capacity(timed.len());
        let mut pushes = tokio::task::JoinSet::new();
        let pushed_at = Instant::now();
        for (at, p) in timed {
            let (checked, received) = self.form_op(d, at, &p);
            let status = self.arriving_status(p.corrects);
            today.push(self.forms.len());
            self.forms.push(Form {
                id: checked.op.submission().expect("a form").id.clone(),
                case: p.case,
                form: p.form,
                worker: p.worker,
                status,
                corrections: Vec::new(),
            });
            let store = self.server.store.clone();
            let user = self.members[p.worker].user.clone();
            pushes.spawn(async move { store.push(&user, vec![checked], received).await });
        }
        while let Some(stored) = pushes.join_next().await {
            for s in stored.expect("a push").expect("stored") {
                assert!(matches!(s, Stored::Applied { .. }), "{s:?}");
            }
        }
        self.pushing += pushed_at.elapsed();
        self.received_on.push(today);
    }

    /// The planned form `p`, finalized at `at` on the day `d`, checked as the API would, and
    /// when it is received.
    fn form_op(&mut self, d: i64, at: i64, p: &Planned) -> (CheckedOp, i64) {
        const HOUSING: [&str; 4] = ["sublet", "shelter", "overcrowded", "at_risk"];
        let housing = HOUSING[self.rng.below(HOUSING.len())];
        let household = &mut self.households[p.case];
        let member = &self.members[p.worker];
        // The visit's own dates follow the day it was made, never the example's fixed ones
        // (a deadline or next visit before the visit is refused).
        let (date, next_visit) = (day(self.first_day + d), day(self.first_day + d + 21));
        let mut change = vec![("housing_situation", housing)];
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
            support::steps_due(submission, &day(self.first_day + d + 10));
        }
        if let Some((of, reason)) = p.corrects {
            submission.corrects = Some(Correction {
                submission_id: self.forms[of].id.clone(),
                reason: reason.into(),
            });
        }
        if let Change::Submit { properties, .. } = &mut op.change {
            for (name, write) in properties.iter_mut() {
                write.seen = household.heads.get(name).cloned().into_iter().collect();
                household.heads.insert(name.clone(), hlc.clone());
            }
        }
        let received = at + 5_000 + self.rng.below(900_000) as i64;
        let form = self.catalog.get(p.form);
        cris_core::sync::check(&op, form.as_deref(), received).expect("a valid form");
        let checked = CheckedOp {
            body: serde_json::to_string(&op).expect("serialize"),
            creates_case: p.form == INTAKE,
            op,
        };
        (checked, received)
    }

    /// Where a form stands as it arrives, as the store decides it: a correction of a form
    /// sent back is resubmitted, and that form corrected.
    fn arriving_status(&mut self, corrects: Option<(usize, &str)>) -> ReviewStatus {
        let Some((of, _)) = corrects else {
            return ReviewStatus::New;
        };
        let next = self.forms.len();
        let corrected = &mut self.forms[of];
        corrected.corrections.push(next);
        if matches!(
            corrected.status,
            ReviewStatus::ChangesRequested | ReviewStatus::Corrected
        ) {
            corrected.status = ReviewStatus::Corrected;
            ReviewStatus::Resubmitted
        } else {
            ReviewStatus::New
        }
    }

    fn report(&self, started: Instant) {
        let forms = &self.forms;
        let count = |status| forms.iter().filter(|f| f.status == status).count();
        let corrections: usize = forms.iter().map(|f| f.corrections.len()).sum();
        println!(
            "  review: seeded in {:.1} s (pushes {:.1} s, decisions {:.1} s): {CASES} households, {} forms ({CASES} intakes, {} home visits, {corrections} corrections) of {} workers in {} teams received over {DAYS} days, {} decisions ({} approved, {} sent back)",
            started.elapsed().as_secs_f64(),
            self.pushing.as_secs_f64(),
            self.deciding.as_secs_f64(),
            forms.len(),
            forms.len() - CASES - corrections,
            self.members.len(),
            TEAMS.len(),
            self.approved + self.sent_back,
            self.approved,
            self.sent_back,
        );
        let statuses: Vec<String> = ReviewStatus::ALL
            .iter()
            .map(|&s| format!("{} {}", s.as_str(), count(s)))
            .collect();
        println!("  statuses: {}", statuses.join(", "));
    }
}
