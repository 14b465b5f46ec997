//! The records of the case store as the phone and the server both hold them (DESIGN.md: the
//! record model), and the operations that carry them from the phone to the server.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::form::Answers;

/// A household, with the case properties that forms keep up to date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    /// Case property name to value (`household_name`, `housing_situation`, ...).
    pub properties: BTreeMap<String, String>,
    /// Milliseconds since 1970 on the device that created it.
    pub created_at_ms: f64,
    pub updated_at_ms: f64,
}

impl Case {
    /// The name the caseload shows (empty when the intake did not give one).
    pub fn household_name(&self) -> &str {
        self.property("household_name")
    }

    pub fn property(&self, name: &str) -> &str {
        self.properties.get(name).map_or("", String::as_str)
    }

    /// Applies the case-property changes of a finalized form.
    pub fn apply(&mut self, changes: &BTreeMap<String, String>, at_ms: f64) {
        for (name, value) in changes {
            self.properties.insert(name.clone(), value.clone());
        }
        self.updated_at_ms = at_ms;
    }
}

/// One finalized form. Never edited in place: a correction is a new operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// UUIDv7, made when the form was started (the draft's id).
    pub id: String,
    pub form_id: String,
    pub form_version: u32,
    pub case_id: String,
    /// The phone it was filled on.
    pub device: String,
    /// As validation kept them: no answers of fields that did not apply.
    pub answers: Answers,
    pub started_at_ms: f64,
    pub finalized_at_ms: f64,
}

/// A change made on a phone, waiting in its outbox until the server acknowledges it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// UUIDv7; pushing the same operation twice has the effect of pushing it once.
    pub op_id: String,
    pub device: String,
    pub created_at_ms: f64,
    pub change: Change,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A finalized form and the case properties it sets; an intake also creates the case.
    Submit {
        submission: Submission,
        case_properties: BTreeMap<String, String>,
    },
}
