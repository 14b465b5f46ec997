use serde_json::{Value as Json, json};

use super::*;
use crate::date::Date;

/// The same text in all six languages, marked with the language code.
fn l(text: &str) -> Json {
    json!({
        "de": format!("{text} (de)"), "tr": format!("{text} (tr)"), "bg": format!("{text} (bg)"),
        "en": text, "hu": format!("{text} (hu)"), "sk": format!("{text} (sk)"),
    })
}

/// A small household form touching every feature the loader and validation handle.
fn sample() -> Json {
    json!({
        "id": "sample",
        "version": 3,
        "title": l("Sample intake"),
        "choices": {
            "housing": [
                {"value": "flat", "label": l("Own flat")},
                {"value": "shelter", "label": l("Shelter")},
                {"value": "homeless", "label": l("Homeless")}
            ],
            "benefits": [
                {"value": "buergergeld", "label": l("Citizen's income")},
                {"value": "kindergeld", "label": l("Child benefit")}
            ]
        },
        "fields": [
            {"name": "household_name", "type": "text", "label": l("Household name"), "required": true, "case_property": "name"},
            {"name": "visit_date", "type": "date", "label": l("Date"), "required": true,
             "constraint": ". <= today()",
             "constraint_message": {"de": "Das Datum liegt in der Zukunft.", "tr": "Tarih gelecekte.", "bg": "Датата е в бъдещето.", "en": "The date is in the future.", "hu": "A dátum a jövőben van.", "sk": "Dátum je v budúcnosti."}},
            {"name": "housing", "type": "select_one", "choices": "housing", "label": l("Housing"), "case_property": "housing"},
            {"name": "eviction", "type": "yes_no", "label": l("Eviction notice"), "relevant": "${housing} = 'flat'", "required": true},
            {"name": "benefits", "type": "select_multiple", "choices": "benefits", "label": l("Benefits")},
            {"name": "phone", "type": "phone", "label": l("Phone")},
            {"name": "arrival", "type": "time", "label": l("Arrival")},
            {"name": "members", "type": "repeat", "label": l("Members"), "fields": [
                {"name": "member_name", "type": "text", "label": l("Name"), "required": true},
                {"name": "age", "type": "integer", "label": l("Age"), "constraint": ". >= 0 and . < 120"},
                {"name": "is_adult", "type": "calculate", "label": l("Adult"), "calculation": "if(${age} >= 18, 'yes', 'no')"},
                {"name": "school", "type": "text", "label": l("School"), "relevant": "${is_adult} = 'no'"}
            ]},
            {"name": "member_count", "type": "calculate", "label": l("Members"), "calculation": "count(${members})"},
            {"name": "health", "type": "group", "label": l("Health"), "relevant": "${member_count} > 0", "fields": [
                {"name": "insurance", "type": "text", "label": l("Insurance"), "sensitive": true},
                {"name": "insurance_note", "type": "note", "label": l("Only as far as it affects work")}
            ]},
            {"name": "income", "type": "decimal", "label": l("Income")},
            {"name": "departure", "type": "time", "label": l("Departure"), "constraint": ". > ${arrival}"}
        ]
    })
}

fn load(form: &Json) -> Result<FormDef, FormError> {
    FormDef::from_json(&form.to_string())
}

fn today() -> Date {
    Date::from_ymd(2026, 11, 26).unwrap()
}

/// A problem as (field, repeat instance, kind).
type Found = (String, Option<(String, usize)>, ProblemKind);

fn kinds(v: &Validated) -> Vec<Found> {
    v.problems
        .iter()
        .map(|p| (p.field.clone(), p.instance.clone(), p.kind.clone()))
        .collect()
}

#[test]
fn the_sample_loads() {
    let form = load(&sample()).unwrap();
    assert_eq!(form.id, "sample");
    assert_eq!(form.walk().len(), 18);
    assert_eq!(form.field("age").unwrap().kind, FieldType::Integer);
    assert_eq!(form.title.get(crate::Lang::Tr), "Sample intake (tr)");
}

/// Changes the sample with `edit`, then expects the loader to refuse it with `expected` in
/// the message.
fn refused(edit: impl FnOnce(&mut Json), expected: &str) {
    let mut form = sample();
    edit(&mut form);
    let err = load(&form).expect_err(expected).to_string();
    assert!(err.contains(expected), "expected {expected:?} in {err:?}");
}

#[test]
fn the_loader_refuses_broken_definitions_with_a_clear_message() {
    refused(
        |f| f["fields"][0]["colour"] = json!("red"),
        "unknown field `colour`",
    );
    refused(
        |f| f["fields"][1]["name"] = json!("household_name"),
        "the name \"household_name\" is used twice",
    );
    refused(
        |f| f["fields"][0]["name"] = json!("2nd"),
        "invalid name \"2nd\"",
    );
    refused(
        |f| {
            f["fields"][0]["label"]
                .as_object_mut()
                .unwrap()
                .remove("sk");
        },
        "the label of field \"household_name\" has no sk text",
    );
    refused(
        |f| f["fields"][0]["label"]["hu"] = json!("  "),
        "has no hu text",
    );
    refused(
        |f| f["fields"][3]["relevant"] = json!("${hosing} = 'flat'"),
        "relevant refers to ${hosing}, which is not in the form",
    );
    refused(
        |f| f["fields"][3]["relevant"] = json!("${housing} = "),
        "column 14: expression ends too early",
    );
    refused(
        |f| f["fields"][0]["relevant"] = json!("${age} > 3"),
        "which is inside repeat group \"members\"",
    );
    refused(
        |f| f["fields"][3]["relevant"] = json!(". = 'yes'"),
        "only makes sense in a constraint",
    );
    refused(
        |f| f["fields"][3]["relevant"] = json!("count(${housing}) > 0"),
        "${housing} is not a repeat group, as count() and indexed-repeat() need",
    );
    refused(
        |f| f["fields"][3]["relevant"] = json!("${health} = 1"),
        "which holds no value",
    );
    refused(
        |f| f["fields"][2]["choices"] = json!("houses"),
        "no choice list called \"houses\"",
    );
    refused(
        |f| {
            f["fields"][2].as_object_mut().unwrap().remove("choices");
        },
        "a select field needs `choices`",
    );
    refused(
        |f| f["choices"]["housing"][0]["value"] = json!("own flat"),
        "must be non-empty and without spaces",
    );
    refused(
        |f| f["choices"]["housing"][1]["value"] = json!("flat"),
        "value \"flat\" is used twice",
    );
    refused(
        |f| f["fields"][9]["fields"] = json!([]),
        "a group needs fields",
    );
    refused(
        |f| f["fields"][2]["default"] = json!("castle"),
        "default \"castle\" is not a valid answer",
    );
    refused(
        |f| f["fields"][0]["default"] = json!("today()"),
        "default \"today()\" is not a valid answer",
    );
    refused(
        |f| f["fields"][6]["default"] = json!("25:00"),
        "default \"25:00\" is not a valid answer",
    );
    refused(
        |f| f["fields"][7]["fields"][0]["case_property"] = json!("x"),
        "only a single value outside repeat groups",
    );
    refused(
        |f| {
            f["fields"][8]
                .as_object_mut()
                .unwrap()
                .remove("calculation")
                .map(drop)
                .unwrap_or(())
        },
        "needed by, calculate fields",
    );
    refused(
        |f| f["fields"][7]["fields"][3] = json!({"name": "inner", "type": "repeat", "label": l("x"), "fields": [{"name": "y", "type": "text", "label": l("y")}]}),
        "a repeat group inside a repeat group is not supported",
    );
    refused(
        |f| {
            f["fields"][5]["relevant"] = json!("${arrival} != ''");
            f["fields"][6]["relevant"] = json!("${phone} != ''");
        },
        "fields depend on each other in a circle: arrival -> phone -> arrival",
    );
    let err = FormDef::from_json("{\"id\": \"x\",\n \"version\": }").unwrap_err();
    assert!(matches!(err, FormError::Syntax { line: 2, .. }), "{err}");
}

#[test]
fn a_complete_submission_is_valid_and_gets_its_calculations() {
    let form = load(&sample()).unwrap();
    let answers = Answers::new()
        .with("household_name", "Familie Yılmaz-Petrova")
        .with("visit_date", "2026-11-20")
        .with("housing", "flat")
        .with("eviction", "no")
        .with("benefits", "buergergeld kindergeld")
        .with("phone", "+49 69 1234-567")
        .with("arrival", "09:45")
        .with("departure", "10:30")
        .with("income", "1234.50")
        .with_repeat(
            "members",
            vec![
                Answers::new()
                    .with("member_name", "Emine")
                    .with("age", "34"),
                Answers::new()
                    .with("member_name", "Deniz")
                    .with("age", "9")
                    .with("school", "Grundschule"),
            ],
        );
    let v = form.validate(&answers, today());
    assert_eq!(kinds(&v), vec![]);
    assert_eq!(v.answers.text("member_count"), "2");
    let members = v.answers.instances("members");
    assert_eq!(members[0].text("is_adult"), "yes");
    assert_eq!(members[1].text("is_adult"), "no");
    assert_eq!(members[1].text("school"), "Grundschule");
}

#[test]
fn every_problem_is_found_located_and_worded_in_the_users_language() {
    let form = load(&sample()).unwrap();
    let answers = Answers::new()
        .with("visit_date", "2026-12-24")
        .with("housing", "castle")
        .with("benefits", "kindergeld lottery")
        .with("phone", "call me")
        .with("arrival", "25:00")
        .with("departure", "07:5")
        .with("income", "12,50")
        .with("nickname", "x")
        .with_repeat(
            "members",
            vec![
                Answers::new().with("age", "200"),
                Answers::new().with("member_name", "A").with("age", "ten"),
            ],
        );
    let v = form.validate(&answers, today());
    let members = |i| Some(("members".to_owned(), i));
    assert_eq!(
        kinds(&v),
        vec![
            ("nickname".to_owned(), None, ProblemKind::UnknownField),
            ("household_name".to_owned(), None, ProblemKind::Required),
            ("visit_date".to_owned(), None, ProblemKind::Constraint),
            ("housing".to_owned(), None, ProblemKind::NotAChoice),
            ("benefits".to_owned(), None, ProblemKind::NotAChoice),
            ("phone".to_owned(), None, ProblemKind::NotAPhoneNumber),
            ("arrival".to_owned(), None, ProblemKind::NotATime),
            ("member_name".to_owned(), members(0), ProblemKind::Required),
            ("age".to_owned(), members(0), ProblemKind::Constraint),
            ("age".to_owned(), members(1), ProblemKind::NotAWholeNumber),
            ("income".to_owned(), None, ProblemKind::NotANumber),
            ("departure".to_owned(), None, ProblemKind::NotATime),
        ]
    );
    let date = &v.problems[2];
    assert_eq!(date.message(&form, crate::Lang::Tr), "Tarih gelecekte.");
    assert_eq!(
        date.message(&form, crate::Lang::De),
        "Das Datum liegt in der Zukunft."
    );
    assert_eq!(
        v.problems[1].message(&form, crate::Lang::Bg),
        "Моля, попълнете."
    );
    assert_eq!(
        v.problems[8].message(&form, crate::Lang::Sk),
        "Táto odpoveď nie je prípustná."
    );
}

#[test]
fn answers_of_fields_that_do_not_apply_are_not_kept() {
    let form = load(&sample()).unwrap();
    let answers = Answers::new()
        .with("household_name", "Familie Dimitrova")
        .with("visit_date", "2026-11-26")
        .with("housing", "shelter")
        // Answered while "flat" was chosen, then the housing changed: no longer applies.
        .with("eviction", "yes")
        // No members: the health group does not apply, nor its answers.
        .with("insurance", "EHIC")
        .with_repeat("members", vec![]);
    let v = form.validate(&answers, today());
    assert_eq!(kinds(&v), vec![]);
    assert_eq!(v.answers.text("eviction"), "");
    assert!(!v.answers.0.contains_key("eviction"));
    assert!(!v.answers.0.contains_key("insurance"));
    assert_eq!(v.answers.text("member_count"), "0");

    // Required applies only where the field applies: flat without an eviction answer.
    let flat = answers.clone().with("housing", "flat");
    let mut flat = flat;
    flat.0.remove("eviction");
    let v = form.validate(&flat, today());
    assert_eq!(
        kinds(&v),
        vec![("eviction".to_owned(), None, ProblemKind::Required)]
    );

    // An adult's school answer is dropped once the age says adult.
    let adult = answers.with_repeat(
        "members",
        vec![
            Answers::new()
                .with("member_name", "Ivan")
                .with("age", "40")
                .with("school", "none"),
        ],
    );
    let v = form.validate(&adult, today());
    assert!(!v.answers.instances("members")[0].0.contains_key("school"));
    assert_eq!(
        v.answers.text("insurance"),
        "EHIC",
        "with a member the health group applies"
    );
}

#[test]
fn times_compare_as_times() {
    let form = load(&sample()).unwrap();
    let base = Answers::new()
        .with("household_name", "Familie Kaya")
        .with("visit_date", "2026-11-01")
        .with("arrival", "09:45");
    let ok = form.validate(&base.clone().with("departure", "10:05"), today());
    assert_eq!(kinds(&ok), vec![]);
    let early = form.validate(&base.with("departure", "09:30"), today());
    assert_eq!(
        kinds(&early),
        vec![("departure".to_owned(), None, ProblemKind::Constraint)]
    );
}

#[test]
fn answers_of_the_wrong_shape_are_reported_not_trusted() {
    let form = load(&sample()).unwrap();
    let answers = Answers::new()
        .with("household_name", "Familie Kaya")
        .with("visit_date", "2026-11-01")
        .with("members", "three")
        .with_repeat("housing", vec![]);
    let v = form.validate(&answers, today());
    assert_eq!(
        kinds(&v),
        vec![
            ("housing".to_owned(), None, ProblemKind::WrongShape),
            ("members".to_owned(), None, ProblemKind::WrongShape),
        ]
    );
}

#[test]
fn answers_travel_as_plain_json() {
    let answers: Answers = serde_json::from_value(json!({
        "household_name": "Familie Ivanova",
        "members": [{"member_name": "Maria", "age": "7"}]
    }))
    .unwrap();
    assert_eq!(answers.instances("members")[0].text("age"), "7");
    assert_eq!(
        serde_json::to_value(&answers).unwrap()["members"][0]["member_name"],
        "Maria"
    );
}

#[test]
fn every_engine_message_exists_in_every_language() {
    use ProblemKind as K;
    let all = [
        K::Required,
        K::NotAWholeNumber,
        K::NotANumber,
        K::NotADate,
        K::NotATime,
        K::NotAChoice,
        K::NotAPhoneNumber,
        K::Constraint,
        K::UnknownField,
        K::WrongShape,
    ];
    for kind in &all {
        let english = engine_message(kind, crate::Lang::En);
        for lang in crate::Lang::ALL {
            let text = engine_message(kind, lang);
            assert!(!text.trim().is_empty());
            if lang != crate::Lang::En {
                assert_ne!(text, english, "{kind:?} in {lang} is untranslated");
            }
        }
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("flat".to_owned()),
            Just("2026-11-20".to_owned()),
            Just("17".to_owned()),
            Just("yes".to_owned()),
            "[a-z0-9 :+.-]{0,8}",
        ]
    }

    fn name() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "household_name",
            "visit_date",
            "housing",
            "eviction",
            "benefits",
            "phone",
            "arrival",
            "members",
            "member_name",
            "age",
            "is_adult",
            "school",
            "member_count",
            "health",
            "insurance",
            "income",
            "stranger",
        ])
        .prop_map(str::to_owned)
    }

    fn flat() -> impl Strategy<Value = Answers> {
        prop::collection::btree_map(name(), text().prop_map(Answer::Text), 0..8).prop_map(Answers)
    }

    fn answers() -> impl Strategy<Value = Answers> {
        (
            flat(),
            prop::option::of(prop::collection::vec(flat(), 0..3)),
        )
            .prop_map(|(mut a, members)| {
                if let Some(m) = members {
                    a.0.insert("members".to_owned(), Answer::Repeat(m));
                }
                a
            })
    }

    proptest! {
        #[test]
        fn validation_is_total_and_settles(answers in answers()) {
            let form = load(&sample()).unwrap();
            let first = form.validate(&answers, today());
            // Only the form's own fields are kept.
            for name in first.answers.0.keys() {
                prop_assert!(form.field(name).is_some(), "{name} kept");
            }
            // Validating what was kept changes nothing more.
            let second = form.validate(&first.answers, today());
            prop_assert_eq!(&second.answers, &first.answers);
            // Every problem on the kept answers was already reported.
            for p in &second.problems {
                prop_assert!(first.problems.contains(p), "{p:?} new");
            }
        }
    }
}

/// `today()` and `now()` as defaults stand for the moment the form is started (ODK's usual
/// defaults of a visit's date and time); other defaults are taken as they are.
#[test]
fn today_and_now_as_defaults_are_the_moment_the_form_starts() {
    let mut f = sample();
    f["fields"][1]["default"] = json!("today()");
    f["fields"][6]["default"] = json!("now()");
    f["fields"][2]["default"] = json!("shelter");
    let form = FormDef::from_json(&f.to_string()).expect("valid defaults");
    let day = Date::from_ymd(2026, 12, 6).unwrap();
    let at = |name: &str| form.field(name).unwrap().default_at(day, "09:05");
    assert_eq!(at("visit_date").as_deref(), Some("2026-12-06"));
    assert_eq!(at("arrival").as_deref(), Some("09:05"));
    assert_eq!(at("housing").as_deref(), Some("shelter"));
    assert_eq!(at("household_name"), None);

    let mut f = sample();
    f["fields"][1]["default"] = json!("now()");
    f["fields"][6]["default"] = json!("08:30");
    let form = FormDef::from_json(&f.to_string()).expect("valid defaults");
    assert_eq!(
        form.field("visit_date")
            .unwrap()
            .default_at(day, "09:05")
            .as_deref(),
        Some("2026-12-06")
    );
    assert_eq!(
        form.field("arrival")
            .unwrap()
            .default_at(day, "09:05")
            .as_deref(),
        Some("08:30")
    );
}
