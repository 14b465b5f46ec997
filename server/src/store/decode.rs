//! Reading back what the store wrote: an operation's JSON body, a stamp, a status name. The
//! store wrote it, so failing is damage: [`StoreError::Corrupt`], naming the row and what of
//! it could not be read, never its contents (an operation holds personal data; serde's
//! messages quote what they could not read, so only their kind and place are kept). The
//! error is logged once, where it is answered (`AppError::Store`).

use cris_core::record::Operation;
use serde::de::DeserializeOwned;

use super::StoreError;

/// A damaged `what` (`"operation"`, `"review event"`) of the row `id`, and why.
pub fn corrupt(what: &'static str, id: impl ToString, why: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        id: id.to_string(),
        why: why.to_string(),
    }
}

/// The kind and place of a JSON error, without the text it quotes.
fn json_why(e: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {}, column {}",
        e.classify(),
        e.line(),
        e.column()
    )
}

/// A JSON value the store wrote, as `T`.
pub fn json<T: DeserializeOwned>(
    what: &'static str,
    id: impl ToString,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, id, json_why(&e)))
}

/// The operation logged as `body` under `id` (its sequence number or its op id).
pub fn operation(id: impl ToString, body: &str) -> Result<Operation, StoreError> {
    json("operation", id, body)
}

/// A field write as stored: its stamp, value and the stamps it had seen (JSON).
pub(crate) type WriteRow = (String, String, String);

/// A field's writes as stored, read back into the merge's model.
pub(crate) fn field(rows: Vec<WriteRow>) -> Result<cris_core::merge::Field, StoreError> {
    let mut field = cris_core::merge::Field::default();
    for (hlc, value, seen) in rows {
        field.apply(cris_core::merge::Write {
            value,
            seen: json("field version's seen stamps", &hlc, &seen)?,
            hlc: hlc
                .parse()
                .map_err(|e: cris_core::hlc::BadHlc| corrupt("stamp", &hlc, e))?,
        });
    }
    Ok(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_names_the_row_and_never_quotes_its_contents() {
        let err = operation(42, r#"{"op_id": "Fatme Testova"}"#).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("the stored operation 42 cannot be read: "),
            "{text}"
        );
        assert!(!text.contains("Fatme"), "{text}");
        let err = operation(7, "{\"op_id\": ").unwrap_err().to_string();
        assert!(err.contains("Eof error at line 1"), "{err}");
    }
}
