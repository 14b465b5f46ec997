//! XLSForm import benchmark: a form of N questions (default 300: texts, numbers, dates, choices
//! with their lists, groups of ten, each question with a label in six languages, a hint, a
//! relevance and a constraint) written as an `.xlsx`, then read back and checked as
//! `cris-server forms import` does, R times (default 20). Prints the file's size and the
//! median and slowest import.
//!
//! ```text
//! cargo run --release -p cris-server --example xlsform_import -- [N] [R]
//! ```

use std::time::Instant;

use serde_json::{Value, json};

fn six(text: &str) -> Value {
    json!({"de": text, "tr": text, "bg": text, "en": text, "hu": text, "sk": text})
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(300, |a| a.parse().expect("N questions"));
    let runs: usize = args.next().map_or(20, |a| a.parse().expect("R runs"));
    let mut choices = serde_json::Map::new();
    let mut groups = Vec::new();
    for g in 0..n.div_ceil(10) {
        let mut fields = Vec::new();
        for q in (g * 10)..((g + 1) * 10).min(n) {
            let name = format!("q{q}");
            let mut field = json!({
                "name": name,
                "label": six(&format!("Frage {q}: wie ist die Lage im Haushalt?")),
                "hint": six("Bitte mit der Familie besprechen"),
            });
            match q % 4 {
                0 => field["type"] = json!("text"),
                1 => {
                    field["type"] = json!("integer");
                    field["constraint"] = json!(". >= 0 and . <= 99");
                }
                2 => {
                    field["type"] = json!("date");
                    field["constraint"] = json!(". <= today()");
                }
                _ => {
                    let list = format!("list{q}");
                    field["type"] = json!("select_one");
                    field["choices"] = json!(list);
                    let items: Vec<Value> = (0..5)
                        .map(|c| json!({"value": format!("c{c}"), "label": six(&format!("Antwort {c}"))}))
                        .collect();
                    choices.insert(list, Value::Array(items));
                }
            }
            if q % 10 != 0 {
                field["relevant"] = json!(format!("${{q{}}} != ''", g * 10));
            }
            fields.push(field);
        }
        groups.push(json!({"name": format!("g{g}"), "type": "group", "label": six("Abschnitt"), "fields": fields}));
    }
    let def = json!({"id": "big", "version": 1, "title": six("Groß"), "choices": choices, "fields": groups});
    let form = cris_core::form::FormDef::from_json(&def.to_string()).expect("a valid form");
    let bytes = cris_server::xlsform::write(&form).expect("written");
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let back = cris_server::xlsform::read(&bytes).expect("read back");
        times.push(start.elapsed());
        assert_eq!(back.walk().len(), form.walk().len());
    }
    times.sort();
    println!(
        "{n} questions, {} bytes of .xlsx: import median {:.1} ms, slowest {:.1} ms ({runs} runs)",
        bytes.len(),
        times[runs / 2].as_secs_f64() * 1000.0,
        times[runs - 1].as_secs_f64() * 1000.0
    );
}
