//! The light reading of a logged operation: only what a summary needs of it.

use super::*;

/// What a summary reads of a logged operation.
#[derive(Debug)]
pub(crate) enum Logged {
    /// A form, with only the answers [`caseload::summarize`] reads.
    Submission(Box<Submission>),
    Consent(Box<Consent>),
    Withdrawal(Box<Withdrawal>),
    /// Anything else: a summary finds nothing in it (a resolution's writes are in
    /// `field_writes`).
    Other,
}

/// The answers [`caseload::summarize`] reads (`core/src/caseload.rs`): the visit's date, the
/// progress it reports and the steps agreed. The rest of a form, most of its text, is
/// skipped unread: the test `light_reading_summarises_as_the_full_operation` checks that the
/// summary comes out the same.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum SummaryAnswer {
    VisitDate,
    StepProgress,
    PlanGoals,
    NewSteps,
    #[serde(other)]
    Other,
}

impl SummaryAnswer {
    fn name(&self) -> Option<&'static str> {
        match self {
            SummaryAnswer::VisitDate => Some("visit_date"),
            SummaryAnswer::StepProgress => Some("step_progress"),
            SummaryAnswer::PlanGoals => Some("plan_goals"),
            SummaryAnswer::NewSteps => Some("new_steps"),
            SummaryAnswer::Other => None,
        }
    }
}

fn summary_answers<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Answers, D::Error> {
    struct Read;
    impl<'de> Visitor<'de> for Read {
        type Value = Answers;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a form's answers")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Answers, A::Error> {
            let mut answers = Answers::new();
            while let Some(key) = map.next_key::<SummaryAnswer>()? {
                match key.name() {
                    Some(name) => {
                        answers
                            .0
                            .insert(name.to_owned(), map.next_value::<Answer>()?);
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(answers)
        }
    }
    d.deserialize_map(Read)
}

/// A submission as a summary reads it.
#[derive(Deserialize)]
struct SummarySubmission {
    id: String,
    form_id: String,
    case_id: String,
    finalized_at_ms: f64,
    #[serde(default)]
    corrects: Option<Correction>,
    #[serde(deserialize_with = "summary_answers")]
    answers: Answers,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum ChangeKey {
    Kind,
    Submission,
    Consent,
    Withdrawal,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ChangeKind {
    Submit,
    Consent,
    Withdraw,
    #[serde(other)]
    Other,
}

struct LoggedChange(Logged);

impl<'de> Deserialize<'de> for LoggedChange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Read;
        impl<'de> Visitor<'de> for Read {
            type Value = LoggedChange;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a change with a kind")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LoggedChange, A::Error> {
                let (mut kind, mut submission) = (None, None);
                let (mut consent, mut withdrawal) = (None, None);
                while let Some(key) = map.next_key::<ChangeKey>()? {
                    match key {
                        ChangeKey::Kind => kind = Some(map.next_value::<ChangeKind>()?),
                        ChangeKey::Submission => {
                            submission = Some(map.next_value::<SummarySubmission>()?);
                        }
                        ChangeKey::Consent => consent = Some(map.next_value::<Box<Consent>>()?),
                        ChangeKey::Withdrawal => {
                            withdrawal = Some(map.next_value::<Box<Withdrawal>>()?);
                        }
                        ChangeKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let missing = |what| serde::de::Error::missing_field(what);
                Ok(LoggedChange(match kind {
                    Some(ChangeKind::Submit) => {
                        let s = submission.ok_or_else(|| missing("submission"))?;
                        Logged::Submission(Box::new(Submission {
                            id: s.id,
                            form_id: s.form_id,
                            form_version: 0,
                            case_id: s.case_id,
                            device: String::new(),
                            answers: s.answers,
                            started_at_ms: 0.0,
                            finalized_at_ms: s.finalized_at_ms,
                            corrects: s.corrects,
                            team: None,
                        }))
                    }
                    Some(ChangeKind::Consent) => {
                        Logged::Consent(consent.ok_or_else(|| missing("consent"))?)
                    }
                    Some(ChangeKind::Withdraw) => {
                        Logged::Withdrawal(withdrawal.ok_or_else(|| missing("withdrawal"))?)
                    }
                    Some(ChangeKind::Other) => Logged::Other,
                    None => return Err(missing("kind")),
                }))
            }
        }
        d.deserialize_map(Read)
    }
}

/// Reads what a summary needs of a logged operation (JSON of
/// [`cris_core::record::Operation`]): a form's submission with only the answers the summary
/// reads, a consent or a withdrawal whole (their seals are checked), nothing of the rest.
/// Several times faster than reading the whole operation, which is most of a refresh.
pub(crate) fn read_logged(seq: i64, body: &str) -> Result<Logged, StoreError> {
    #[derive(Deserialize)]
    struct Body {
        change: LoggedChange,
    }
    decode::json::<Body>("operation", seq, body).map(|b| b.change.0)
}
