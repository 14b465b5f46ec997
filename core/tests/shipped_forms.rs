//! The forms CRIS Field ships (`forms/*.json`) load, carry what case managers ask, and accept
//! a realistic filled example (`tests/data/*-example.json`, invented people) without a single
//! problem, while wrong input is refused in the worker's language.

use std::path::{Path, PathBuf};

use cris_core::Lang;
use cris_core::date::Date;
use cris_core::form::{Answers, FieldType, FormDef, ProblemKind};

fn forms_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../forms")
}

fn load(id: &str) -> FormDef {
    let path = forms_dir().join(format!("{id}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    FormDef::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn example(id: &str) -> Answers {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/{id}-example.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn today() -> Date {
    Date::from_ymd(2026, 11, 26).unwrap()
}

/// Asserts that `form` has each `(name, type)`.
fn has(form: &FormDef, fields: &[(&str, FieldType)]) {
    for (name, kind) in fields {
        let field = form
            .field(name)
            .unwrap_or_else(|| panic!("{}: no field {name}", form.id));
        assert_eq!(field.kind, *kind, "{}: type of {name}", form.id);
    }
}

#[test]
fn every_shipped_form_loads_under_its_file_name() {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(forms_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let id = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert_eq!(load(&id).id, id, "{}", path.display());
            ids.push(id);
        }
    }
    ids.sort();
    assert_eq!(ids, ["home_visit", "intake"]);
}

#[test]
fn the_intake_asks_what_the_issue_lists() {
    use FieldType::*;
    let form = load("intake");
    has(
        &form,
        &[
            ("household_name", Text),
            ("members", Repeat),
            ("member_name", Text),
            ("dob", Date),
            ("relation", SelectOne),
            ("in_benefit_household", YesNo),
            ("able_to_work", YesNo),
            ("first_language", SelectOne),
            ("german_level", SelectOne),
            ("literacy", SelectOne),
            ("interpreter_needed", YesNo),
            ("citizenship", SelectOne),
            ("entry_date", Date),
            ("free_movement_ground", SelectOne),
            ("address_registered", YesNo),
            ("tax_id_present", YesNo),
            ("health_insurance", SelectOne),
            ("housing_situation", SelectOne),
            ("eviction_notice", YesNo),
            ("income_sources", SelectMultiple),
            ("schooling", SelectOne),
            ("vocational_training", SelectOne),
            ("qualification_recognition", SelectOne),
            ("driving_licence", YesNo),
            ("children", Repeat),
            ("child_name", Text),
            ("school_or_kita", SelectOne),
            ("school_class", Text),
            ("attendance_problems", YesNo),
            ("health_affects_work", LongText),
            ("debts", YesNo),
            ("debt_counselling", SelectOne),
            ("strengths", LongText),
            ("obstacles", LongText),
            ("plan_goals", Repeat),
            ("goal", Text),
            ("steps", LongText),
            ("responsible", SelectOne),
            ("review_date", Date),
            ("next_visit_date", Date),
        ],
    );
    assert!(form.field("health_affects_work").unwrap().sensitive);
    assert_eq!(
        form.field("housing_situation")
            .unwrap()
            .case_property
            .as_deref(),
        Some("housing_situation")
    );
    assert_eq!(
        form.field("next_visit_date")
            .unwrap()
            .case_property
            .as_deref(),
        Some("next_visit_date")
    );
}

#[test]
fn the_home_visit_asks_what_the_issue_lists() {
    use FieldType::*;
    let form = load("home_visit");
    has(
        &form,
        &[
            ("visit_date", Date),
            ("start_time", Time),
            ("end_time", Time),
            ("announced", YesNo),
            ("purpose", SelectMultiple),
            ("present", LongText),
            ("interpreter_present", YesNo),
            ("consent_to_enter", YesNo),
            ("changes_housing", LongText),
            ("changes_income", LongText),
            ("changes_health", LongText),
            ("children_attendance", Repeat),
            ("attendance_child", Text),
            ("attendance", SelectOne),
            ("step_progress", Repeat),
            ("step", Text),
            ("progress", SelectOne),
            ("new_steps", Repeat),
            ("new_step_what", Text),
            ("new_step_who", SelectOne),
            ("new_step_by", Date),
            ("referrals", SelectMultiple),
            ("referral_partner_name", Text),
            ("next_visit_date", Date),
            ("notes", LongText),
        ],
    );
    assert!(form.field("changes_health").unwrap().sensitive);
    assert_eq!(
        form.field("next_visit_date")
            .unwrap()
            .case_property
            .as_deref(),
        Some("next_visit_date")
    );
}

#[test]
fn realistic_examples_validate_without_a_problem() {
    for id in ["intake", "home_visit"] {
        let form = load(id);
        let answers = example(id);
        let result = form.validate(&answers, today());
        let problems: Vec<String> = result
            .problems
            .iter()
            .map(|p| {
                format!(
                    "{} {:?}: {}",
                    p.field,
                    p.instance,
                    p.message(&form, Lang::En)
                )
            })
            .collect();
        assert!(problems.is_empty(), "{id}: {problems:#?}");
        assert_eq!(
            result.answers, answers,
            "{id}: the example keeps every answer"
        );
    }
}

#[test]
fn the_intake_example_has_three_people_two_of_them_children() {
    let answers = example("intake");
    assert_eq!(answers.instances("members").len(), 3);
    assert_eq!(answers.instances("children").len(), 2);
}

#[test]
fn wrong_input_is_refused_in_the_workers_language() {
    let form = load("home_visit");
    let mut answers = example("home_visit");
    answers.0.remove("visit_date");
    let future = answers.clone().with("visit_date", "2027-01-15");
    let result = form.validate(&answers, today());
    assert!(
        result
            .problems
            .iter()
            .any(|p| p.field == "visit_date" && p.kind == ProblemKind::Required),
        "{:?}",
        result.problems
    );
    let result = form.validate(&future, today());
    let problem = result
        .problems
        .iter()
        .find(|p| p.field == "visit_date")
        .expect("a visit in the future is refused");
    assert_eq!(problem.kind, ProblemKind::Constraint);
    let messages: Vec<String> = Lang::ALL
        .iter()
        .map(|l| problem.message(&form, *l))
        .collect();
    let mut distinct = messages.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 6, "one message per language: {messages:#?}");
}

/// The caseload reads agreed steps and visit dates by field name (`cris_core::caseload`);
/// renaming one of these fields in a form would silently empty the caseload.
#[test]
fn the_fields_the_caseload_reads_exist() {
    let intake = load("intake");
    let visit = load("home_visit");
    has(
        &intake,
        &[
            ("plan_goals", FieldType::Repeat),
            ("goal", FieldType::Text),
            ("steps", FieldType::LongText),
            ("responsible", FieldType::SelectOne),
            ("review_date", FieldType::Date),
            ("next_visit_date", FieldType::Date),
        ],
    );
    has(
        &visit,
        &[
            ("visit_date", FieldType::Date),
            ("step_progress", FieldType::Repeat),
            ("step", FieldType::Text),
            ("progress", FieldType::SelectOne),
            ("new_steps", FieldType::Repeat),
            ("new_step_what", FieldType::Text),
            ("new_step_who", FieldType::SelectOne),
            ("new_step_by", FieldType::Date),
        ],
    );
    assert!(visit.choices["progress"].iter().any(|c| c.value == "done"));
}

#[test]
fn finalizing_the_examples_changes_the_case_properties_they_map() {
    let intake = load("intake");
    let kept = intake.validate(&example("intake"), today()).answers;
    let changes = intake.case_changes(&kept);
    assert_eq!(
        changes.keys().map(String::as_str).collect::<Vec<_>>(),
        ["household_name", "housing_situation", "next_visit_date"]
    );
    assert_eq!(changes["household_name"], kept.text("household_name"));
}

#[test]
fn relevance_follows_the_answers_inside_repeat_groups() {
    let intake = load("intake");
    let able = intake.field("able_to_work").unwrap();
    let answers = Answers::new().with_repeat(
        "members",
        vec![
            Answers::new()
                .with("member_name", "Ayşe Test")
                .with("dob", "1990-05-01"),
            Answers::new()
                .with("member_name", "Emre Test")
                .with("dob", "2020-02-01"),
        ],
    );
    // The age is calculated first; "able to work" applies from 15 years.
    let kept = intake.validate(&answers, today()).answers;
    assert!(intake.is_relevant(able, &kept, Some(("members", 0)), today()));
    assert!(!intake.is_relevant(able, &kept, Some(("members", 1)), today()));
}

#[test]
fn the_fields_a_new_visit_is_prefilled_with_exist() {
    has(
        &load("intake"),
        &[
            ("children", FieldType::Repeat),
            ("child_name", FieldType::Text),
        ],
    );
    has(
        &load("home_visit"),
        &[
            ("children_attendance", FieldType::Repeat),
            ("attendance_child", FieldType::Text),
        ],
    );
}

/// A home visit starts on the day and at the time it is opened; the worker can change both.
#[test]
fn the_home_visit_starts_with_today_and_now() {
    let form = load("home_visit");
    let day = cris_core::Date::from_ymd(2026, 12, 6).unwrap();
    let start = |name: &str| form.field(name).unwrap().default_at(day, "14:20");
    assert_eq!(start("visit_date").as_deref(), Some("2026-12-06"));
    assert_eq!(start("start_time").as_deref(), Some("14:20"));
    assert_eq!(start("end_time"), None);
}

/// An intake records at least one person of the household, with a name and a date of birth:
/// no supervisor receives an empty household.
#[test]
fn the_intake_needs_a_person_with_name_and_date_of_birth() {
    let form = load("intake");
    let mut nobody = example("intake");
    nobody.0.remove("members");
    let kinds = |answers: &Answers| -> Vec<(String, Option<usize>, ProblemKind)> {
        form.validate(answers, today())
            .problems
            .into_iter()
            .map(|p| (p.field, p.instance.map(|(_, i)| i), p.kind))
            .collect()
    };
    assert_eq!(
        kinds(&nobody),
        [("members".to_owned(), None, ProblemKind::NoEntry)]
    );
    let problem = &form.validate(&nobody, today()).problems[0];
    assert_eq!(
        problem.message(&form, Lang::De),
        "Bitte mindestens einen Eintrag hinzufügen."
    );
    let nameless = nobody.clone().with_repeat(
        "members",
        vec![Answers::new().with("relation", "applicant")],
    );
    assert_eq!(
        kinds(&nameless),
        [
            ("member_name".to_owned(), Some(0), ProblemKind::Required),
            ("dob".to_owned(), Some(0), ProblemKind::Required)
        ]
    );
    assert!(form.validate(&example("intake"), today()).is_valid());
}
