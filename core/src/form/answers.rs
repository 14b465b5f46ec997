//! The answers of a filled form, as stored and synced: field name to text, and for a repeat
//! group a list of instances. Groups do not nest answers (names are unique in a form).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(pub BTreeMap<String, Answer>);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Text(String),
    Repeat(Vec<Answers>),
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
