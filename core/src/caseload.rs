//! What the caseload and the case page show about a household, derived from its case
//! properties and its submissions: last and next visit, and the agreed steps still open.
//!
//! The shipped forms' field names are named here once; `core/tests/shipped_forms.rs` checks
//! that the forms still have them.

use crate::date::Date;
use crate::form::Answers;
use crate::record::{Case, Submission};

pub const INTAKE: &str = "intake";
pub const HOME_VISIT: &str = "home_visit";

/// Where agreed steps come from.
struct StepSource {
    form: &'static str,
    group: &'static str,
    what: &'static str,
    due: &'static str,
    /// Who does it (a choice).
    who: &'static str,
    /// How, in more words (none: the form asks for none).
    how: Option<&'static str>,
}

const STEP_SOURCES: [StepSource; 2] = [
    StepSource {
        form: INTAKE,
        group: "plan_goals",
        what: "goal",
        due: "review_date",
        who: "responsible",
        how: Some("steps"),
    },
    StepSource {
        form: HOME_VISIT,
        group: "new_steps",
        what: "new_step_what",
        due: "new_step_by",
        who: "new_step_who",
        how: None,
    },
];
/// Where a visit reports progress on a step: (repeat group, the step, its progress).
const PROGRESS: (&str, &str, &str) = ("step_progress", "step", "progress");
const DONE: &str = "done";
const VISIT_DATE: &str = "visit_date";
const NEXT_VISIT: &str = "next_visit_date";
const CHILDREN: (&str, &str) = ("children", "child_name");
const CHILD_NAME: &str = CHILDREN.1;
const ATTENDANCE: &str = "children_attendance";
const ATTENDANCE_CHILD: &str = "attendance_child";

/// An agreed step not reported done yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub what: String,
    pub due: Option<Date>,
}

/// A step of the household's plan, as agreed and as it went since.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanStep {
    pub what: String,
    /// How, where the form asks (the intake's steps toward a goal).
    pub how: String,
    pub due: Option<Date>,
    /// Who does it: the form and field whose choice list names them, and the choice.
    pub who: Option<(&'static str, &'static str, String)>,
    /// The latest progress a visit reported (a choice of the visit's `progress`), if any.
    pub progress: Option<String>,
}

impl PlanStep {
    pub fn is_done(&self) -> bool {
        self.progress.as_deref() == Some(DONE)
    }
}

/// The form and field whose choices word a step's progress.
pub const PROGRESS_FIELD: (&str, &str) = (HOME_VISIT, PROGRESS.2);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub last_visit: Option<Date>,
    pub next_visit: Option<Date>,
    /// In the order they were agreed.
    pub open_steps: Vec<Step>,
    /// The days the household's open referrals are to be followed up.
    pub follow_ups: Vec<Date>,
}

impl Summary {
    /// Open steps, and referrals to follow up, whose date has come.
    pub fn steps_due(&self, today: Date) -> usize {
        let steps = self.open_steps.iter().filter_map(|s| s.due);
        steps
            .chain(self.follow_ups.iter().copied())
            .filter(|d| *d <= today)
            .count()
    }
}

/// The submissions whose answers count, oldest first. A corrected submission gives way to its
/// correction, which takes its place in time: a correction of last month's visit is still
/// last month's visit, so steps reported done since stay done. Of two corrections of one
/// submission (made on two phones), the one finalized last counts.
pub fn in_effect<'a>(submissions: &'a [Submission]) -> Vec<&'a Submission> {
    use std::collections::HashMap;
    let by_id: HashMap<&str, &'a Submission> =
        submissions.iter().map(|s| (s.id.as_str(), s)).collect();
    // Each submission's first version: follow what it corrects while this phone has it (at
    // most once per submission, so a damaged cycle ends).
    let root = |mut s: &'a Submission| -> &'a Submission {
        for _ in 0..submissions.len() {
            match s
                .corrects
                .as_ref()
                .and_then(|c| by_id.get(c.submission_id.as_str()))
            {
                Some(earlier) => s = earlier,
                None => break,
            }
        }
        s
    };
    let mut latest: HashMap<&str, (&'a Submission, &'a Submission)> = HashMap::new();
    for s in submissions {
        let first = root(s);
        let entry = latest.entry(first.id.as_str()).or_insert((first, s));
        if (s.finalized_at_ms, &s.id) > (entry.1.finalized_at_ms, &entry.1.id) {
            entry.1 = s;
        }
    }
    let mut kept: Vec<(&'a Submission, &'a Submission)> = latest.into_values().collect();
    kept.sort_by(|a, b| {
        a.0.finalized_at_ms
            .total_cmp(&b.0.finalized_at_ms)
            .then_with(|| a.0.id.cmp(&b.0.id))
    });
    kept.into_iter().map(|(_, s)| s).collect()
}

/// The summary of `case` from its submissions (in any order).
pub fn summarize(case: &Case, submissions: &[Submission]) -> Summary {
    summarize_household(case, std::slice::from_ref(&case.id), submissions)
}

/// The summary of a household from the submissions of its `members` (its own id and those of
/// the households merged into it; see [`crate::record::households`]), in any order.
pub fn summarize_household(case: &Case, members: &[String], submissions: &[Submission]) -> Summary {
    let mine: Vec<Submission> = submissions
        .iter()
        .filter(|s| members.contains(&s.case_id))
        .cloned()
        .collect();
    let ordered = in_effect(&mine);

    let mut summary = Summary {
        next_visit: case.property(NEXT_VISIT).parse().ok(),
        follow_ups: case
            .referrals
            .values()
            .filter_map(|r| r.follow_up())
            .collect(),
        ..Summary::default()
    };
    for sub in &ordered {
        if sub.form_id == HOME_VISIT
            && let Ok(date) = sub.answers.text(VISIT_DATE).parse::<Date>()
        {
            summary.last_visit = summary.last_visit.max(Some(date));
        }
    }
    summary.open_steps = plan_of(&ordered)
        .into_iter()
        .filter(|s| !s.is_done())
        .map(|s| Step {
            what: s.what,
            due: s.due,
        })
        .collect();
    summary
}

/// The household's plan from the submissions of its `members`, in any order: every step
/// agreed at the intake and the visits, in the order agreed, each with the progress the
/// visits since reported. A step agreed again after it was done starts anew.
pub fn plan(members: &[String], submissions: &[Submission]) -> Vec<PlanStep> {
    let mine: Vec<Submission> = submissions
        .iter()
        .filter(|s| members.contains(&s.case_id))
        .cloned()
        .collect();
    plan_of(&in_effect(&mine))
}

fn plan_of(ordered: &[&Submission]) -> Vec<PlanStep> {
    let mut steps: Vec<PlanStep> = Vec::new();
    for sub in ordered {
        let (group, step, progress) = PROGRESS;
        for report in sub.answers.instances(group) {
            let said = report.text(progress).trim();
            if said.is_empty() {
                continue;
            }
            let which = fold(report.text(step));
            for agreed in steps.iter_mut().filter(|s| fold(&s.what) == which) {
                // Done stays done: a step agreed again is a new line.
                if !agreed.is_done() {
                    agreed.progress = Some(said.to_owned());
                }
            }
        }
        for source in STEP_SOURCES.iter().filter(|s| s.form == sub.form_id) {
            for agreed in sub.answers.instances(source.group) {
                let text = agreed.text(source.what).trim();
                if text.is_empty() {
                    continue;
                }
                let who = agreed.text(source.who).trim();
                steps.push(PlanStep {
                    what: text.to_owned(),
                    how: source
                        .how
                        .map(|how| agreed.text(how).trim().to_owned())
                        .unwrap_or_default(),
                    due: agreed.text(source.due).parse().ok(),
                    who: (!who.is_empty()).then(|| (source.form, source.who, who.to_owned())),
                    progress: None,
                });
            }
        }
    }
    steps
}

/// The answers a new home visit starts with: one progress line per open step, and one
/// attendance line per child named in the latest intake, so the worker does not retype them.
pub fn visit_start(summary: &Summary, submissions: &[Submission]) -> Answers {
    let (group, step, _) = PROGRESS;
    let steps = summary
        .open_steps
        .iter()
        .map(|s| Answers::new().with(step, &s.what))
        .collect::<Vec<_>>();
    let latest_intake = in_effect(submissions)
        .into_iter()
        .rfind(|s| s.form_id == INTAKE);
    let children = latest_intake
        .map(|s| s.answers.instances(CHILDREN.0))
        .unwrap_or_default()
        .iter()
        .map(|c| c.text(CHILD_NAME).trim())
        .filter(|name| !name.is_empty())
        .map(|name| Answers::new().with(ATTENDANCE_CHILD, name))
        .collect::<Vec<_>>();
    let mut answers = Answers::new();
    if !steps.is_empty() {
        answers = answers.with_repeat(group, steps);
    }
    if !children.is_empty() {
        answers = answers.with_repeat(ATTENDANCE, children);
    }
    answers
}

/// Whether a household name matches what the worker typed into the search, compared as the
/// review queue's search and the duplicates finder compare names
/// ([`crate::duplicates::comparable`]): case, the usual diacritics, Cyrillic or Latin letters
/// and punctuation do not matter (`Şahin` is found by `sahin` and by `Шахин`).
pub fn name_matches(name: &str, query: &str) -> bool {
    let comparable = crate::duplicates::comparable;
    comparable(name).contains(comparable(query).as_str())
}

/// Lower case without diacritics, single spaces: the form in which names are compared.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'ş' | 'š' | 'ś' => 's',
            'ç' | 'č' | 'ć' => 'c',
            'ğ' => 'g',
            'ı' | 'í' => 'i',
            'ö' | 'ő' | 'ó' | 'ô' => 'o',
            'ü' | 'ű' | 'ú' | 'ů' => 'u',
            'ä' | 'á' => 'a',
            'é' | 'ě' => 'e',
            'ž' | 'ź' => 'z',
            'ř' => 'r',
            'ň' => 'n',
            'ľ' | 'ĺ' => 'l',
            'ť' => 't',
            'ď' => 'd',
            'ý' => 'y',
            '\u{307}' => continue, // the dot left by lower-casing Turkish 'İ'
            c if c.is_whitespace() => ' ',
            c => c,
        };
        if !(plain == ' ' && out.ends_with(' ')) {
            out.push(plain);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> Case {
        let mut case = Case::new("c1", 1.0);
        let stamp = crate::hlc::Hlc {
            wall_ms: 1,
            counter: 0,
            device: "d".into(),
        };
        for (name, value) in [
            ("household_name", "Familie Yılmaz"),
            ("next_visit_date", "2026-12-03"),
        ] {
            case.fields.apply(
                name,
                crate::merge::Write {
                    value: value.into(),
                    hlc: stamp.clone(),
                    seen: vec![],
                },
            );
        }
        case
    }

    fn sub(form: &str, at: f64, answers: Answers) -> Submission {
        Submission {
            id: format!("s{at}"),
            form_id: form.into(),
            form_version: 1,
            case_id: "c1".into(),
            device: "d".into(),
            answers,
            started_at_ms: at,
            finalized_at_ms: at,
            corrects: None,
            team: None,
        }
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn steps_are_opened_by_plans_and_closed_by_visits() {
        let intake = sub(
            INTAKE,
            1.0,
            Answers::new().with_repeat(
                "plan_goals",
                vec![
                    Answers::new()
                        .with("goal", "Anmeldung beim Bürgerbüro")
                        .with("review_date", "2026-11-20"),
                    Answers::new().with("goal", "Kita-Platz beantragen"),
                ],
            ),
        );
        let visit = sub(
            HOME_VISIT,
            2.0,
            Answers::new()
                .with("visit_date", "2026-11-24")
                .with_repeat(
                    "step_progress",
                    vec![
                        Answers::new()
                            .with("step", " anmeldung beim bürgerbüro ")
                            .with("progress", "done"),
                        Answers::new()
                            .with("step", "Kita-Platz beantragen")
                            .with("progress", "in_progress"),
                    ],
                )
                .with_repeat(
                    "new_steps",
                    vec![
                        Answers::new()
                            .with("new_step_what", "Termin Schuldnerberatung")
                            .with("new_step_by", "2026-11-25"),
                    ],
                ),
        );
        // Submissions arrive in any order; they are read in the order they were finalized.
        let summary = summarize(&case(), &[visit, intake]);
        assert_eq!(summary.last_visit, Some(date("2026-11-24")));
        assert_eq!(summary.next_visit, Some(date("2026-12-03")));
        let open: Vec<&str> = summary.open_steps.iter().map(|s| s.what.as_str()).collect();
        assert_eq!(open, ["Kita-Platz beantragen", "Termin Schuldnerberatung"]);
        assert_eq!(summary.steps_due(date("2026-11-24")), 0);
        assert_eq!(summary.steps_due(date("2026-11-25")), 1);
    }

    #[test]
    fn the_plan_keeps_every_step_with_who_does_it_and_how_it_went() {
        let intake = sub(
            INTAKE,
            1.0,
            Answers::new().with_repeat(
                "plan_goals",
                vec![
                    Answers::new()
                        .with("goal", "Anmeldung beim Bürgerbüro")
                        .with("steps", "Termin online buchen")
                        .with("responsible", "both")
                        .with("review_date", "2026-11-20"),
                    Answers::new().with("goal", "Kita-Platz beantragen"),
                ],
            ),
        );
        let report = |at: f64, step: &str, progress: &str| {
            sub(
                HOME_VISIT,
                at,
                Answers::new().with_repeat(
                    "step_progress",
                    vec![Answers::new().with("step", step).with("progress", progress)],
                ),
            )
        };
        let done = report(2.0, "anmeldung beim bürgerbüro", "done");
        let later = report(3.0, "Anmeldung beim Bürgerbüro", "blocked");
        let again = sub(
            HOME_VISIT,
            4.0,
            Answers::new().with_repeat(
                "new_steps",
                vec![
                    Answers::new()
                        .with("new_step_what", "Anmeldung beim Bürgerbüro")
                        .with("new_step_who", "family"),
                ],
            ),
        );
        let members = vec!["c1".to_owned()];
        let plan = plan(&members, &[again, later, done, intake]);
        let lines: Vec<(&str, Option<&str>, Option<&str>)> = plan
            .iter()
            .map(|s| {
                let who = s.who.as_ref().map(|w| w.2.as_str());
                (s.what.as_str(), who, s.progress.as_deref())
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("Anmeldung beim Bürgerbüro", Some("both"), Some("done")),
                ("Kita-Platz beantragen", None, None),
                ("Anmeldung beim Bürgerbüro", Some("family"), None),
            ],
            "done stays done; agreed again, it is a new step"
        );
        assert_eq!(plan[0].how, "Termin online buchen");
        assert_eq!(plan[0].who.as_ref().unwrap().1, "responsible");
        assert_eq!(plan[0].due, Some(date("2026-11-20")));
    }

    #[test]
    fn last_visit_is_the_latest_visit_date_not_the_latest_entered() {
        let late_entry = sub(
            HOME_VISIT,
            5.0,
            Answers::new().with("visit_date", "2026-10-01"),
        );
        let early_entry = sub(
            HOME_VISIT,
            3.0,
            Answers::new().with("visit_date", "2026-11-01"),
        );
        let summary = summarize(&case(), &[late_entry, early_entry]);
        assert_eq!(summary.last_visit, Some(date("2026-11-01")));
    }

    #[test]
    fn other_cases_submissions_are_ignored() {
        let mut other = sub(
            HOME_VISIT,
            1.0,
            Answers::new().with("visit_date", "2026-11-01"),
        );
        other.case_id = "c2".into();
        assert_eq!(summarize(&case(), &[other]).last_visit, None);
    }

    #[test]
    fn a_new_visit_lists_the_open_steps_and_the_children() {
        let intake = sub(
            INTAKE,
            1.0,
            Answers::new()
                .with_repeat(
                    "children",
                    vec![
                        Answers::new().with("child_name", "Elif Test"),
                        Answers::new().with("child_name", "Deniz Test"),
                    ],
                )
                .with_repeat("plan_goals", vec![Answers::new().with("goal", "Anmeldung")]),
        );
        let summary = summarize(&case(), std::slice::from_ref(&intake));
        let start = visit_start(&summary, &[intake]);
        let steps: Vec<&str> = start
            .instances("step_progress")
            .iter()
            .map(|a| a.text("step"))
            .collect();
        assert_eq!(steps, ["Anmeldung"]);
        let children: Vec<&str> = start
            .instances("children_attendance")
            .iter()
            .map(|a| a.text("attendance_child"))
            .collect();
        assert_eq!(children, ["Elif Test", "Deniz Test"]);
        assert_eq!(visit_start(&Summary::default(), &[]), Answers::new());
    }

    fn correction(of: &Submission, at: f64, answers: Answers) -> Submission {
        Submission {
            corrects: Some(crate::record::Correction {
                submission_id: of.id.clone(),
                reason: "Datum vertippt".into(),
            }),
            ..sub(&of.form_id, at, answers)
        }
    }

    #[test]
    fn a_correction_takes_the_place_of_what_it_corrects() {
        let step = |what: &str, progress: Option<&str>| {
            let a = Answers::new().with("step", what);
            progress.map_or(a.clone(), |p| a.with("progress", p))
        };
        let first = sub(
            HOME_VISIT,
            1.0,
            Answers::new().with("visit_date", "2026-12-20").with_repeat(
                "new_steps",
                vec![Answers::new().with("new_step_what", "Schulanmeldung")],
            ),
        );
        let second = sub(
            HOME_VISIT,
            2.0,
            Answers::new()
                .with("visit_date", "2026-11-10")
                .with_repeat("step_progress", vec![step("Schulanmeldung", Some("done"))]),
        );
        // The first visit's date was mistyped; corrected after the second visit.
        let fixed = correction(
            &first,
            3.0,
            Answers::new().with("visit_date", "2026-11-02").with_repeat(
                "new_steps",
                vec![Answers::new().with("new_step_what", "Schulanmeldung")],
            ),
        );
        let all = [fixed.clone(), second.clone(), first.clone()];
        let ids: Vec<&str> = in_effect(&all).iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, [fixed.id.as_str(), second.id.as_str()]);
        let summary = summarize(&case(), &all);
        assert_eq!(summary.last_visit, Some(date("2026-11-10")));
        // Reported done by the second visit, which still comes after the corrected first.
        assert_eq!(summary.open_steps, []);

        // Corrected twice (two phones, or a correction of the correction): the later counts.
        let again = correction(&fixed, 4.0, Answers::new().with("visit_date", "2026-11-03"));
        let twice = correction(&first, 3.5, Answers::new().with("visit_date", "2026-11-04"));
        let all = [first, second, fixed, again.clone(), twice];
        let ids: Vec<&str> = in_effect(&all).iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, [again.id.as_str(), "s2"]);
    }

    #[test]
    fn a_correction_of_a_submission_not_on_this_phone_counts_on_its_own() {
        let mut missing = sub(INTAKE, 1.0, Answers::new());
        missing.id = "elsewhere".into();
        let fixed = correction(&missing, 2.0, Answers::new());
        let all = [fixed.clone()];
        assert_eq!(in_effect(&all), [&fixed]);
        // A damaged pair correcting each other still ends.
        let mut a = sub(INTAKE, 1.0, Answers::new());
        let mut b = sub(INTAKE, 2.0, Answers::new());
        a.corrects = Some(crate::record::Correction {
            submission_id: b.id.clone(),
            reason: "x".into(),
        });
        b.corrects = Some(crate::record::Correction {
            submission_id: a.id.clone(),
            reason: "x".into(),
        });
        assert!(in_effect(&[a, b]).len() <= 2);
    }

    #[test]
    fn search_ignores_case_diacritics_and_script() {
        assert!(name_matches("Familie Şahin", "sahin"));
        assert!(name_matches("Familie Yılmaz", "YILMAZ"));
        assert!(name_matches("İbrahimov", "ibra"));
        assert!(name_matches("Kovács  Anikó", "kovacs aniko"));
        assert!(name_matches("Dvořák", "dvorak"));
        assert!(!name_matches("Familie Şahin", "yilmaz"));
        assert!(name_matches("anything", ""));
        assert!(name_matches("Familie Şahin", "Шахин"));
        assert!(name_matches("Семейство Ибрямова", "ibryamova"));
        assert!(name_matches("Yılmaz-Kaya", "yilmaz kaya"));
    }
}
