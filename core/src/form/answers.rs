//! The answers of a filled form, as stored and synced: field name to text, and for a repeat
//! group a list of instances. Groups do not nest answers (names are unique in a form).

use std::collections::BTreeMap;

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(pub BTreeMap<String, Answer>);

/// Stored as a JSON string (a field's answer) or a list of objects (a repeat group's
/// instances).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Text(String),
    Repeat(Vec<Answers>),
}

/// Written by hand: serde's `untagged` buffers every value before trying each variant, which
/// costs the phone's download dearly and gives useless errors ("did not match any variant").
impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnswerVisitor;

        impl<'de> Visitor<'de> for AnswerVisitor {
            type Value = Answer;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text answer or the list of a repeat group's instances")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Answer, E> {
                Ok(Answer::Text(text.to_owned()))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Answer, E> {
                Ok(Answer::Text(text))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Answer, A::Error> {
                let mut instances = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(instance) = seq.next_element()? {
                    instances.push(instance);
                }
                Ok(Answer::Repeat(instances))
            }
        }

        deserializer.deserialize_any(AnswerVisitor)
    }
}

impl Answers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a text answer (builder style, for tests and defaults).
    pub fn with(mut self, name: &str, text: &str) -> Self {
        self.0
            .insert(name.to_owned(), Answer::Text(text.to_owned()));
        self
    }

    /// Sets the instances of a repeat group.
    pub fn with_repeat(mut self, name: &str, instances: Vec<Answers>) -> Self {
        self.0.insert(name.to_owned(), Answer::Repeat(instances));
        self
    }

    /// The text answer of `name`; empty when unanswered (or when it is a repeat).
    pub fn text(&self, name: &str) -> &str {
        match self.0.get(name) {
            Some(Answer::Text(t)) => t,
            _ => "",
        }
    }

    /// The instances of repeat group `name`.
    pub fn instances(&self, name: &str) -> &[Answers] {
        match self.0.get(name) {
            Some(Answer::Repeat(list)) => list,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_repeat_groups_read_back_as_written() {
        let answers = Answers::new()
            .with("household_name", "Familie Kaya")
            .with_repeat("members", vec![Answers::new().with("member_name", "Ali")]);
        let json = serde_json::to_string(&answers).unwrap();
        assert_eq!(
            json,
            r#"{"household_name":"Familie Kaya","members":[{"member_name":"Ali"}]}"#
        );
        assert_eq!(serde_json::from_str::<Answers>(&json).unwrap(), answers);
    }

    #[test]
    fn anything_else_is_refused_with_what_was_expected() {
        for bad in [
            r#"{"age": 5}"#,
            r#"{"x": {"y": "z"}}"#,
            r#"{"x": [1]}"#,
            r#"{"x": null}"#,
        ] {
            let err = serde_json::from_str::<Answers>(bad)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("a text answer or the list of a repeat group's instances")
                    || err.contains("invalid type"),
                "{bad}: {err}"
            );
        }
    }
}
