//! Operations as a phone makes them: forms, consents, withdrawals, links of households.

/// The phones and the laptop of the tests' workers and supervisors (their devices' ids).
pub const PHONE_A: &str = "0192b3c4-0000-7000-8000-00000000d00a";
pub const PHONE_B: &str = "0192b3c4-0000-7000-8000-00000000d00b";
pub const LAPTOP: &str = "0192b3c4-0000-7000-8000-00000000d0c1";
/// The team of most tests' accounts.
pub const TEAM: &str = "Offenbach Nord";

pub fn new_uuid() -> String {
    cris_server::store::new_id(cris_server::auth::now_ms())
}

fn load_form(id: &str) -> std::sync::Arc<cris_core::form::FormDef> {
    static FORMS: std::sync::OnceLock<cris_server::FormCatalog> = std::sync::OnceLock::new();
    FORMS
        .get_or_init(|| cris_server::FormCatalog::embedded().unwrap())
        .get(id)
        .unwrap()
}

fn example(id: &str) -> cris_core::form::Answers {
    static EXAMPLES: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, cris_core::form::Answers>>,
    > = std::sync::OnceLock::new();
    let mut cache = EXAMPLES.get_or_init(Default::default).lock().unwrap();
    cache
        .entry(id.to_owned())
        .or_insert_with(|| {
            let path = format!(
                "{}/../core/tests/data/{id}-example.json",
                env!("CARGO_MANIFEST_DIR")
            );
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        })
        .clone()
}

/// The submission a form's operation carries, to change in a test.
pub fn submission_mut(op: &mut cris_core::record::Operation) -> &mut cris_core::record::Submission {
    match &mut op.change {
        cris_core::record::Change::Submit { submission, .. } => submission,
        _ => panic!("not a form's operation"),
    }
}

/// A finalized form as a phone sends it: the realistic example answers of the shipped form
/// `form_id` (invented people), with `changes` on top, on `case_id`, made on `device` at
/// `wall_ms`. Each case property it sets replaces the values stamped `seen`.
pub fn submit_op(
    form_id: &str,
    case_id: &str,
    device: &str,
    wall_ms: u64,
    changes: &[(&str, &str)],
    seen: &[cris_core::hlc::Hlc],
) -> cris_core::record::Operation {
    use cris_core::record::{Change, FieldWrite, Operation, Submission};
    let form = load_form(form_id);
    let mut answers = example(form_id);
    for (name, value) in changes {
        answers = answers.with(name, value);
    }
    let properties = form
        .case_changes(&answers)
        .into_iter()
        .map(|(name, value)| {
            let seen = seen.to_vec();
            (name, FieldWrite { value, seen })
        })
        .collect();
    let hlc = cris_core::hlc::Hlc {
        wall_ms,
        counter: 0,
        device: device.into(),
    };
    Operation {
        op_id: new_uuid(),
        device: device.into(),
        hlc,
        created_at_ms: wall_ms as f64,
        case_id: case_id.into(),
        change: Change::Submit {
            submission: Submission {
                id: new_uuid(),
                form_id: form_id.into(),
                form_version: form.version,
                case_id: case_id.into(),
                device: device.into(),
                answers,
                started_at_ms: wall_ms as f64 - 600_000.0,
                finalized_at_ms: wall_ms as f64,
                corrects: None,
                team: None,
            },
            properties,
        },
    }
}

/// A signature as a finger draws one: a wavy line across most of the pad.
pub fn signature() -> cris_core::consent::Signature {
    let stroke = (0..40)
        .map(|i| cris_core::consent::Point {
            x: 200 + i * 60,
            y: 600 + ((i % 7) - 3) * 40,
            t_ms: u32::try_from(i).unwrap() * 16,
            pressure: Some(500),
        })
        .collect();
    cris_core::consent::Signature {
        width: 3200,
        height: 1200,
        strokes: vec![stroke],
    }
}

/// A consent as the phone makes it, sealed: on the current texts of `config`, shown in
/// Bulgarian with `agency`'s details, signed by an invented mother on `device` at `wall_ms`.
/// She agrees to school contact and the housing search, and releases the housing office
/// (household and housing records, for the housing search) until withdrawn.
pub fn consent(
    config: &cris_server::ConsentConfig,
    agency: &cris_core::consent::text::Agency,
    case_id: &str,
    device: &str,
    wall_ms: u64,
) -> cris_core::consent::Consent {
    use cris_core::consent::*;
    use cris_core::lang::Lang;
    let texts = config.texts();
    let shown = |id: &str| texts.current(id).unwrap().shown(Lang::Bg, agency).unwrap();
    Consent {
        id: new_uuid(),
        case_id: case_id.into(),
        notice: shown("notice"),
        text: shown("consent"),
        purposes: vec!["school_contact".into(), "housing_search".into()],
        releases: vec![Release {
            recipient: "housing_office".into(),
            records: vec!["household".into(), "housing".into()],
            purpose: "housing_search".into(),
            duration: Duration::Recurring,
        }],
        signer: Signer {
            name: "Fatme Testova".into(),
            role: SignerRole::Themselves,
        },
        signature: signature(),
        witness: "ayse.w".into(),
        witness_name: None,
        interpreter: Some("Emel Tercümanova".into()),
        identity_check: IdentityCheck::IdCard,
        signed_at_ms: i64::try_from(wall_ms).unwrap(),
        device: device.into(),
        hlc: cris_core::hlc::Hlc {
            wall_ms,
            counter: 0,
            device: device.into(),
        },
        binding: String::new(),
    }
    .seal()
    .unwrap()
}

/// A withdrawal of `scope` of `consent`, attested by the worker, made on the consent's device
/// at `wall_ms`.
pub fn withdrawal(
    consent: &cris_core::consent::Consent,
    scope: cris_core::consent::Scope,
    wall_ms: u64,
) -> cris_core::consent::Withdrawal {
    use cris_core::consent::*;
    Withdrawal {
        id: new_uuid(),
        case_id: consent.case_id.clone(),
        consent_id: consent.id.clone(),
        scope,
        given: Given::Attested {
            note: "Am Telefon widerrufen".into(),
        },
        witness: "ayse.w".into(),
        witness_name: None,
        lang: None,
        at_ms: i64::try_from(wall_ms).unwrap(),
        device: consent.device.clone(),
        hlc: cris_core::hlc::Hlc {
            wall_ms,
            counter: 0,
            device: consent.device.clone(),
        },
        binding: String::new(),
    }
    .seal()
    .unwrap()
}

/// The operation that carries a consent or a withdrawal to the server.
pub fn sealed_op(change: cris_core::record::Change) -> cris_core::record::Operation {
    use cris_core::record::Change;
    let (case_id, hlc) = match &change {
        Change::Consent { consent } => (consent.case_id.clone(), consent.hlc.clone()),
        Change::Withdraw { withdrawal } => (withdrawal.case_id.clone(), withdrawal.hlc.clone()),
        _ => panic!("not a consent or a withdrawal"),
    };
    cris_core::record::Operation {
        op_id: new_uuid(),
        device: hlc.device.clone(),
        created_at_ms: hlc.wall_ms as f64,
        hlc,
        case_id,
        change,
    }
}

pub fn consent_op(consent: &cris_core::consent::Consent) -> cris_core::record::Operation {
    sealed_op(cris_core::record::Change::Consent {
        consent: Box::new(consent.clone()),
    })
}

pub fn withdraw_op(withdrawal: &cris_core::consent::Withdrawal) -> cris_core::record::Operation {
    sealed_op(cris_core::record::Change::Withdraw {
        withdrawal: Box::new(withdrawal.clone()),
    })
}

/// A change of households made on `device` now (a merge, its undoing, a finding that two
/// are distinct), on `case_id`.
pub fn link_op(
    case_id: &str,
    device: &str,
    change: cris_core::record::Change,
) -> cris_core::record::Operation {
    let wall_ms = cris_server::auth::now_ms() as u64;
    cris_core::record::Operation {
        op_id: new_uuid(),
        device: device.into(),
        hlc: cris_core::hlc::Hlc {
            wall_ms,
            counter: 0,
            device: device.into(),
        },
        created_at_ms: wall_ms as f64,
        case_id: case_id.into(),
        change,
    }
}

pub fn now() -> u64 {
    cris_server::auth::now_ms() as u64
}

/// An intake of the household `case_id` on `device`, now, with the example answers.
pub fn intake(case_id: &str, device: &str) -> cris_core::record::Operation {
    submit_op("intake", case_id, device, now(), &[], &[])
}

/// Gives every new step of a home visit the deadline `by` (`YYYY-MM-DD`): the example's steps
/// have fixed dates, which a visit made later than them would have to be refused for.
pub fn steps_due(submission: &mut cris_core::record::Submission, by: &str) {
    let steps = submission
        .answers
        .instances("new_steps")
        .iter()
        .map(|step| step.clone().with("new_step_by", by))
        .collect();
    let answers = std::mem::take(&mut submission.answers);
    submission.answers = answers.with_repeat("new_steps", steps);
}
