use super::*;

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn days(s: &str) -> i64 {
    i64::from(date(s).days())
}

#[test]
fn weeks_run_from_monday_and_the_last_holds_to() {
    let filter = DashboardFilter {
        team: None,
        to: date("2026-03-04"), // a Wednesday
        weeks: 3,
    };
    let weeks: Vec<String> = filter.week_starts().iter().map(Date::to_string).collect();
    assert_eq!(weeks, ["2026-02-16", "2026-02-23", "2026-03-02"]);
    let monday = DashboardFilter {
        to: date("2026-03-02"),
        weeks: 1,
        ..filter
    };
    assert_eq!(monday.week_starts(), [date("2026-03-02")]);
}

#[test]
fn workers_without_visits_are_listed_and_names_sort_as_people_read_them() {
    let filter = DashboardFilter {
        team: None,
        to: date("2026-03-04"),
        weeks: 2,
    };
    let counted = Counted {
        teams: vec!["Nord".into()],
        workers: vec![
            ("zeynep".into(), "Zeynep Test".into()),
            ("sahin".into(), "Şahin Test".into()),
            ("anna".into(), "Anna Test".into()),
        ],
        // By day: the Monday, Sunday and Wednesday of the first week, the second's Monday.
        visits: vec![
            ("zeynep".into(), "Zeynep Test".into(), days("2026-02-23"), 1),
            ("zeynep".into(), "Zeynep Test".into(), days("2026-03-01"), 1),
            ("zeynep".into(), "Zeynep Test".into(), days("2026-03-02"), 3),
            ("lead".into(), "Lea Lead".into(), days("2026-03-04"), 1),
        ],
        ..Counted::default()
    };
    let d = dashboard_of(&filter, counted).unwrap();
    let rows: Vec<(&str, &[u32], u32)> = d
        .visits
        .iter()
        .map(|w| (w.login.as_str(), w.per_week.as_slice(), w.total))
        .collect();
    assert_eq!(
        rows,
        [
            ("anna", &[0, 0][..], 0),
            ("lead", &[0, 1][..], 1),
            ("sahin", &[0, 0][..], 0),
            ("zeynep", &[2, 3][..], 5),
        ]
    );
}

fn sealed(purposes: &[&str], releases: &[(&str, consent::Duration)]) -> Consent {
    use cris_core::consent::*;
    let device = "0192b3c4-0000-7000-8000-00000000d001";
    let stroke = (0..40)
        .map(|i| Point {
            x: 200 + i * 60,
            y: 600 + ((i % 7) - 3) * 40,
            t_ms: 16 * i as u32,
            pressure: None,
        })
        .collect();
    let shown = |id: &str| ShownText {
        id: id.into(),
        version: 1,
        lang: cris_core::Lang::De,
        sha256: sha256_hex(id.as_bytes()),
    };
    Consent {
        id: format!("consent-{}-{}", purposes.len(), releases.len()),
        case_id: "case-1".into(),
        notice: shown("notice"),
        text: shown("consent"),
        purposes: purposes.iter().map(|p| (*p).to_owned()).collect(),
        releases: releases
            .iter()
            .map(|(recipient, duration)| Release {
                recipient: (*recipient).into(),
                records: vec!["housing".into()],
                purpose: "housing_search".into(),
                duration: *duration,
            })
            .collect(),
        signer: Signer {
            name: "Fatme Testova".into(),
            role: SignerRole::Themselves,
        },
        signature: Signature {
            width: 3200,
            height: 1200,
            strokes: vec![stroke],
        },
        witness: "ayse.w".into(),
        witness_name: None,
        interpreter: None,
        identity_check: IdentityCheck::IdCard,
        signed_at_ms: 1_795_000_000_000,
        device: device.into(),
        hlc: cris_core::hlc::Hlc {
            wall_ms: 1_795_000_000_000,
            counter: 0,
            device: device.into(),
        },
        binding: String::new(),
    }
    .seal()
    .unwrap()
}

fn withdrawn(of: &Consent, scope: consent::Scope) -> Withdrawal {
    use cris_core::consent::*;
    Withdrawal {
        id: format!("w-{}", of.id),
        case_id: of.case_id.clone(),
        consent_id: of.id.clone(),
        scope,
        given: Given::Attested {
            note: "Am Telefon widerrufen".into(),
        },
        witness: "ayse.w".into(),
        witness_name: None,
        lang: None,
        at_ms: 1_796_000_000_000,
        device: of.device.clone(),
        hlc: of.hlc.clone(),
        binding: String::new(),
    }
    .seal()
    .unwrap()
}

#[test]
fn a_consent_is_in_force_until_its_last_grant_ends() {
    use consent::Duration::{Once, Recurring, Until};
    assert_eq!(consent_until(&[], &[]), None);
    let purpose = sealed(&["school_contact"], &[]);
    assert_eq!(
        consent_until(std::slice::from_ref(&purpose), &[]),
        Some(UNTIL_WITHDRAWN)
    );
    let all = withdrawn(&purpose, consent::Scope::All);
    assert_eq!(consent_until(&[purpose], &[all]), None);

    // Releases for a time: the latest end counts, also beside a single transfer that
    // lasts (a shorter release of the same recipient does not hide it).
    let timed = sealed(
        &[],
        &[
            ("housing_office", Until(date("2026-12-31"))),
            ("school", Until(date("2027-06-30"))),
        ],
    );
    assert_eq!(
        consent_until(std::slice::from_ref(&timed), &[]),
        Some(days("2027-06-30"))
    );
    let school = withdrawn(&timed, consent::Scope::Recipients(vec!["school".into()]));
    assert_eq!(consent_until(&[timed], &[school]), Some(days("2026-12-31")));
    let once = sealed(
        &[],
        &[
            ("housing_office", Until(date("2026-12-31"))),
            ("housing_office", Once),
        ],
    );
    assert_eq!(consent_until(&[once], &[]), Some(UNTIL_WITHDRAWN));
    let open = sealed(&[], &[("school", Recurring)]);
    assert_eq!(consent_until(&[open], &[]), Some(UNTIL_WITHDRAWN));

    // The same as the fold says, day by day.
    let timed = sealed(&[], &[("school", Until(date("2027-06-30")))]);
    for (day, in_force) in [("2027-06-30", true), ("2027-07-01", false)] {
        let state = consent::state(std::slice::from_ref(&timed), &[], date(day));
        assert_eq!(grants(&state), in_force, "{day}");
        let until = consent_until(std::slice::from_ref(&timed), &[]).unwrap();
        assert_eq!(until >= days(day), in_force, "{day}");
    }
}

fn summary(case_id: &str, seq: i64, housing: &str, dues: &[i64]) -> CaseSummary {
    CaseSummary {
        case_id: case_id.into(),
        team_id: "t".into(),
        seq,
        household_name: "Familie Test".into(),
        housing: Some(housing.into()),
        housing_conflict: false,
        open_steps: dues.len() as i64,
        dues: dues.to_vec(),
        last_visit: None,
        consent_until: None,
        consents: 0,
        withdrawals: 0,
        merged_into: None,
    }
}

mod refresh;

/// An operation carrying the shipped form's example answers, with `changes`.
fn example_op(form_id: &str, at_ms: f64, changes: Answers) -> cris_core::record::Operation {
    let path = format!(
        "{}/../core/tests/data/{form_id}-example.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut answers: Answers =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    answers.0.extend(changes.0);
    let device = "0192b3c4-0000-7000-8000-00000000d001".to_owned();
    let hlc = cris_core::hlc::Hlc {
        wall_ms: at_ms as u64,
        counter: 0,
        device: device.clone(),
    };
    cris_core::record::Operation {
        op_id: format!("op-{at_ms}"),
        device: device.clone(),
        hlc,
        created_at_ms: at_ms,
        case_id: "case-1".into(),
        change: cris_core::record::Change::Submit {
            submission: Submission {
                id: format!("s-{at_ms}"),
                form_id: form_id.into(),
                form_version: 1,
                case_id: "case-1".into(),
                device,
                answers,
                started_at_ms: at_ms - 600_000.0,
                finalized_at_ms: at_ms,
                corrects: None,
                team: None,
            },
            properties: BTreeMap::new(),
        },
    }
}

#[test]
fn light_reading_summarises_as_the_full_operation() {
    let intake = example_op(
        "intake",
        1_000.0,
        Answers::new().with_repeat(
            "plan_goals",
            vec![
                Answers::new()
                    .with("goal", "Anmeldung")
                    .with("review_date", "2026-11-08"),
                Answers::new().with("goal", "Kita-Platz beantragen"),
            ],
        ),
    );
    let visit = example_op(
        "home_visit",
        2_000.0,
        Answers::new().with_repeat(
            "step_progress",
            vec![
                Answers::new()
                    .with("step", "anmeldung")
                    .with("progress", "done"),
            ],
        ),
    );
    let mut corrected = example_op("home_visit", 3_000.0, Answers::new());
    if let cris_core::record::Change::Submit { submission, .. } = &mut corrected.change {
        submission.corrects = Some(Correction {
            submission_id: "s-2000".into(),
            reason: "Datum".into(),
        });
    }
    let consent = sealed(&["school_contact"], &[]);
    let consented = cris_core::record::Operation {
        change: cris_core::record::Change::Consent {
            consent: Box::new(consent.clone()),
        },
        ..intake.clone()
    };
    let ops = [intake, visit, corrected, consented];
    let bodies: Vec<OpRow> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let body = serde_json::to_string(op).unwrap();
            ("case-1".into(), "t".into(), i as i64 + 1, "w".into(), body)
        })
        .collect();
    let read = ChunkRead {
        ops: bodies,
        ..ChunkRead::default()
    };
    let (light, visits) = summarize_households(&["case-1".into()], read, 4, 1).unwrap();
    let light = &light[0];
    // The visit logged after the watermark (1), not its correction.
    let day = 2_000_i64.div_euclid(DAY_MS);
    assert_eq!(visits, [("s-2000".into(), "t".into(), "w".into(), day)]);
    // The same, read whole.
    let subs: Vec<Submission> = ops
        .iter()
        .filter_map(|op| op.submission().cloned())
        .collect();
    let full = caseload::summarize(&Case::new("case-1", 0.0), &subs);
    assert!(!full.open_steps.is_empty() && full.last_visit.is_some());
    assert_eq!(light.open_steps, full.open_steps.len() as i64);
    assert_eq!(
        light.last_visit,
        full.last_visit.map(|d| i64::from(d.days()))
    );
    let mut dues: Vec<i64> = full
        .open_steps
        .iter()
        .filter_map(|s| s.due)
        .map(|d| i64::from(d.days()))
        .collect();
    dues.sort_unstable();
    assert!(!dues.is_empty());
    assert_eq!(light.dues, dues);
    assert_eq!((light.consents, light.withdrawals), (1, 0));
    assert_eq!(light.consent_until, Some(UNTIL_WITHDRAWN));
    assert_eq!(light.seq, 4);
    // Every kind of operation reads, resolutions and those to come as nothing.
    let resolve = r#"{"op_id":"x","change":{"properties":{},"kind":"resolve"}}"#;
    assert!(matches!(read_logged(1, resolve), Ok(Logged::Other)));
    let later = r#"{"change":{"kind":"merge","into":"c2"}}"#;
    assert!(matches!(read_logged(2, later), Ok(Logged::Other)));
    assert!(matches!(
        read_logged(3, r#"{"change":{"submission":{}}}"#),
        Err(StoreError::Corrupt { what: "operation", id, .. }) if id == "3"
    ));
}

#[test]
fn overdue_steps_are_counted_by_the_day_asked_for() {
    assert_eq!(overdue_of("", 10).unwrap(), (0, None));
    assert_eq!(overdue_of("3,5,5,12", 5).unwrap(), (3, Some(3)));
    assert_eq!(overdue_of("12", 5).unwrap(), (0, None));
    assert!(overdue_of("3,x", 5).is_err());
    let filter = DashboardFilter {
        team: None,
        to: Date::from_days(10),
        weeks: 1,
    };
    let row = |id: &str, dues: &str| (id.to_owned(), format!("Familie {id}"), dues.to_owned());
    let counted = Counted {
        overdue: vec![
            row("a", "9,11"),
            row("b", "2,9"),
            row("c", "4,8"),
            row("d", "11"),
            row("e", "1"),
        ],
        ..Counted::default()
    };
    let d = dashboard_of(&filter, counted).unwrap();
    assert_eq!((d.overdue.steps, d.overdue.households), (6, 4));
    let most: Vec<(&str, u32, i32)> = d
        .overdue
        .most
        .iter()
        .map(|h| (h.case_id.as_str(), h.overdue, h.oldest_due.days()))
        .collect();
    // The most first, then the oldest due.
    assert_eq!(most, [("b", 2, 2), ("c", 2, 4), ("e", 1, 1), ("a", 1, 9)]);
}

#[test]
fn devices_longest_silent_first() {
    let filter = DashboardFilter {
        team: None,
        to: date("2026-03-04"),
        weeks: 1,
    };
    let counted = Counted {
        devices: vec![
            (
                "d1".into(),
                "a".into(),
                "A".into(),
                Some(50),
                Some(10),
                None,
                None,
            ),
            (
                "d2".into(),
                "b".into(),
                "B".into(),
                None,
                Some(20),
                None,
                None,
            ),
            (
                "d3".into(),
                "c".into(),
                "C".into(),
                Some(5),
                None,
                Some(60),
                None,
            ),
        ],
        ..Counted::default()
    };
    let d = dashboard_of(&filter, counted).unwrap();
    let order: Vec<&str> = d.devices.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(order, ["d3", "d2", "d1"]);
}
