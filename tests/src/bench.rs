//! What the benchmark programs (`bench-phone`, `bench-load`) share: a caseload seeded on the
//! server, and figures summed up.

use std::collections::BTreeMap;

use cris_core::form::{Answers, FormDef};
use cris_core::hlc::Hlc;
use cris_core::record::{Change, FieldWrite, Operation, Submission};

use crate::phone::PASSWORD;
use crate::{Browser, workspace_root};

/// `n` intakes recorded on another phone of the same account, pushed to the server from the
/// page (a login of its own, as that other phone).
pub async fn seed_households(b: &Browser, login: &str, n: usize, run: u64) {
    let form_text = std::fs::read_to_string(workspace_root().join("forms/intake.json")).unwrap();
    let form = FormDef::from_json(&form_text).unwrap();
    let example: Answers = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("core/tests/data/intake-example.json"))
            .unwrap(),
    )
    .unwrap();
    let device = uuid(1_700_000_000_000 + run, 0);
    let now = 1_765_000_000_000u64 + run * 10_000_000;
    let ops: Vec<Operation> = (0..n)
        .map(|i| {
            let answers = example.clone().with("household_name", &household(i));
            let case_id = uuid(now + i as u64, 1);
            let properties: BTreeMap<String, FieldWrite> = form
                .case_changes(&answers)
                .into_iter()
                .map(|(k, value)| {
                    (
                        k,
                        FieldWrite {
                            value,
                            seen: Vec::new(),
                        },
                    )
                })
                .collect();
            Operation {
                op_id: uuid(now + i as u64, 2),
                device: device.clone(),
                hlc: Hlc {
                    wall_ms: now + i as u64,
                    counter: 0,
                    device: device.clone(),
                },
                created_at_ms: (now + i as u64) as f64,
                case_id: case_id.clone(),
                change: Change::Submit {
                    submission: Submission {
                        id: uuid(now + i as u64, 3),
                        form_id: form.id.clone(),
                        form_version: form.version,
                        case_id,
                        device: device.clone(),
                        answers,
                        started_at_ms: (now + i as u64 - 600_000) as f64,
                        finalized_at_ms: (now + i as u64) as f64,
                        corrects: None,
                        team: None,
                    },
                    properties,
                },
            }
        })
        .collect();
    let batches: Vec<String> = ops
        .chunks(100)
        .map(|batch| serde_json::json!({ "ops": batch }).to_string())
        .collect();
    let applied = b
        .eval(&format!(
            "const login = await fetch('/api/v1/session', {{ method: 'POST', headers: {{ 'content-type': 'application/json' }},
               body: JSON.stringify({{ login: {login}, password: {password}, device_id: {device} }}) }});
             const token = (await login.json()).token;
             let applied = 0;
             for (const body of {batches}) {{
               const r = await fetch('/api/v1/ops', {{ method: 'POST', body,
                 headers: {{ 'content-type': 'application/json', authorization: 'Bearer ' + token }} }});
               const answer = await r.json();
               if (!answer.results) return answer;
               const refused = answer.results.find((x) => x.status !== 'applied');
               if (refused) return refused;
               applied += answer.results.length;
             }}
             return applied;",
            login = serde_json::json!(login),
            password = serde_json::json!(PASSWORD),
            device = serde_json::json!(device),
            batches = serde_json::json!(batches),
        ))
        .await;
    assert_eq!(
        applied.as_u64(),
        Some(n as u64),
        "every household applied: {applied}"
    );
}

/// An invented household name, different for each `i` below 529 (digits would not do: the
/// search compares letters only).
pub fn household(i: usize) -> String {
    const FIRST: [&str; 23] = [
        "Ak", "Bal", "Cem", "Dur", "Er", "Fer", "Gül", "Han", "Il", "Kar", "Lal", "Mer", "Nur",
        "Oz", "Pek", "Ram", "Sar", "Tun", "Ul", "Ver", "Yal", "Zor", "Baş",
    ];
    const SECOND: [&str; 23] = [
        "ova", "ev", "ski", "oğlu", "an", "er", "ić", "ay", "in", "ol", "ur", "as", "et", "en",
        "ar", "ek", "ik", "om", "us", "ata", "ina", "ely", "ová",
    ];
    format!("Familie {}{}", FIRST[i % 23], SECOND[(i / 23) % 23])
}

pub fn uuid(ms: u64, tag: u8) -> String {
    let mut random = [0u8; 10];
    random[0] = tag;
    random[1..9].copy_from_slice(&ms.to_be_bytes());
    cris_core::id::uuid_v7(ms, random)
}

/// The durations of the User Timing measures named `name`, in milliseconds.
pub async fn durations(b: &Browser, name: &str) -> Vec<f64> {
    let list = b
        .eval(&format!(
            "return performance.getEntriesByName('{name}').map((e) => e.duration);"
        ))
        .await;
    list.as_array()
        .expect("a list of durations")
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect()
}

/// p50 / p95 / max of `values`.
pub fn stats(values: &[f64]) -> String {
    if values.is_empty() {
        return "no samples".to_owned();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    format!(
        "{:.1} / {:.1} / {:.1} (n={})",
        at(0.5),
        at(0.95),
        sorted[sorted.len() - 1],
        sorted.len()
    )
}
