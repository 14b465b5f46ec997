//! A refusal of the server in the worker's words. The server answers a refused operation
//! with a code and its values ([`Detail`]); the phone says what was refused and what to do
//! next in the language of the screen. The server's English message never reaches it.

use cris_core::Lang;
use cris_core::api::ErrorCode;
use cris_core::consent::NotReleased;
use cris_core::sync::{ClosingRefusal, Detail, MergeRefusal, Reason};

use crate::i18n::{plural, ui};
use crate::sync::api::Failure;

/// A call to the server that gave no answer to use, in the worker's words in `lang`.
pub fn failure(lang: Lang, failure: &Failure) -> String {
    let u = ui(lang);
    match failure {
        Failure::Offline => u.sync_offline,
        Failure::Unauthorized | Failure::Refused(ErrorCode::Unauthorized) => u.sync_login_needed,
        Failure::WrongLogin => u.login_wrong,
        Failure::Throttled(minutes) => {
            return plural(lang, u.login_throttled, *minutes as usize);
        }
        Failure::Disabled | Failure::Refused(ErrorCode::AccountDisabled) => u.login_disabled,
        Failure::Refused(ErrorCode::NotFound) => u.failure_not_found,
        Failure::Refused(ErrorCode::BadRequest | ErrorCode::MethodNotAllowed) => {
            u.failure_bad_request
        }
        Failure::Refused(ErrorCode::PayloadTooLarge) => u.failure_too_large,
        Failure::Refused(ErrorCode::Forbidden) => u.failure_forbidden,
        Failure::Refused(ErrorCode::Internal | ErrorCode::Unavailable) => u.failure_server_trouble,
        Failure::Refused(ErrorCode::TooManyAttempts) => {
            return plural(lang, u.login_throttled, 1);
        }
        Failure::Refused(ErrorCode::RequestTimeout) => u.sync_offline,
        Failure::Refused(ErrorCode::NoConsent) => u.failure_no_consent,
        Failure::DeviceRevoked | Failure::Refused(ErrorCode::DeviceRevoked) => {
            u.failure_device_revoked
        }
        Failure::Broken(_) => u.failure_unreadable,
    }
    .to_owned()
}

/// The refusal in `lang`. `detail` is absent from a refusal kept from before the server sent
/// codes: its broad `reason` is worded then. `field_label` names a form's field in `lang`
/// (its label, where the phone has the form).
pub fn word(
    lang: Lang,
    reason: Reason,
    detail: Option<&Detail>,
    field_label: &dyn Fn(&str) -> Option<String>,
) -> String {
    let u = ui(lang);
    let Some(detail) = detail else {
        return match reason {
            Reason::Malformed => u.refused_malformed,
            Reason::UnknownForm => u.refused_unknown_form,
            Reason::Invalid => u.refused_invalid,
            Reason::NotFound => u.refused_not_found,
            Reason::ClockAhead => u.refused_clock_ahead,
            Reason::Forbidden => u.refused_forbidden,
            Reason::Erased => u.refused_erased,
            Reason::NoConsent => u.refused_no_consent,
        }
        .to_owned();
    };
    let text = match detail {
        Detail::Malformed => u.refused_malformed,
        Detail::UnknownForm { .. } => u.refused_unknown_form,
        Detail::FormVersion {
            version, current, ..
        } => {
            return u
                .refused_form_version
                .replace("{version}", &version.to_string())
                .replace("{current}", &current.to_string());
        }
        Detail::Answers { field, problems } => {
            let label = field_label(field).unwrap_or_else(|| field.clone());
            return plural(lang, u.refused_answers, *problems).replace("{field}", &label);
        }
        Detail::CorrectionReason { max_chars } => {
            return u
                .refused_correction_reason
                .replace("{max}", &max_chars.to_string());
        }
        Detail::Properties => u.refused_properties,
        Detail::SubmissionTaken => u.refused_submission_taken,
        Detail::CorrectsOther => u.refused_corrects_other,
        Detail::SignedRecordChanged => u.refused_signed_changed,
        Detail::ConsentInvalid => u.refused_consent_invalid,
        Detail::WithdrawsUnknown => u.refused_withdraws_unknown,
        Detail::NoAgency => u.refused_no_agency,
        Detail::ResolutionInvalid => u.refused_resolution,
        Detail::MergeRefused { why } => match why {
            MergeRefusal::Itself => u.refused_merge_itself,
            MergeRefusal::DifferentTeams => u.refused_merge_teams,
            MergeRefusal::MergedAlready => u.refused_merge_already,
            MergeRefusal::IntoMerged => u.refused_merge_into_merged,
            MergeRefusal::OthersMergedIntoIt => u.refused_merge_others,
            MergeRefusal::NotMerged => u.refused_unmerge,
            MergeRefusal::Closed => u.refused_merge_closed,
        },
        Detail::ClosingRefused { why } => match why {
            ClosingRefusal::ClosedAlready => u.refused_close_already,
            ClosingRefusal::NotClosed => u.refused_reopen_not_closed,
            ClosingRefusal::Merged => u.refused_close_merged,
        },
        Detail::NotVisible => u.refused_not_found,
        Detail::ClockAhead { days } => {
            let days = usize::try_from(*days).unwrap_or(usize::MAX);
            return plural(lang, u.refused_clock_ahead_days, days);
        }
        Detail::SupervisorsOnly => u.refused_forbidden,
        Detail::NotYourTeam { team } => return u.refused_not_your_team.replace("{team}", team),
        Detail::Erased => u.refused_erased,
        Detail::NoConsent { why, .. } => match why {
            NotReleased::Recipient => u.refused_no_consent_recipient,
            NotReleased::Withdrawn => u.refused_no_consent_withdrawn,
            NotReleased::Expired { until } => {
                return u
                    .refused_no_consent_expired
                    .replace("{date}", &until.written(lang));
            }
            NotReleased::Purpose { .. } => u.refused_no_consent_purpose,
            NotReleased::Records { missing } => {
                return u
                    .refused_no_consent_records
                    .replace("{records}", &missing.join(", "));
            }
        },
        Detail::ReferralInvalid => u.refused_referral_invalid,
        Detail::ReferralUnknown => u.refused_referral_unknown,
    };
    text.to_owned()
}

/// Whether reopening the refused form as a draft, to correct and finalize it again, can help:
/// nobody else has it, and what was refused is in its answers, its version or its id.
pub fn correctable(reason: Reason, detail: Option<&Detail>) -> bool {
    match detail {
        Some(
            Detail::Malformed
            | Detail::UnknownForm { .. }
            | Detail::FormVersion { .. }
            | Detail::Answers { .. }
            | Detail::CorrectionReason { .. }
            | Detail::Properties
            | Detail::SubmissionTaken
            | Detail::NotYourTeam { .. },
        ) => true,
        Some(_) => false,
        None => matches!(
            reason,
            Reason::Invalid | Reason::UnknownForm | Reason::Malformed
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(field: &str) -> Option<String> {
        (field == "household_name").then(|| "Name des Haushalts".to_owned())
    }

    /// Every kind of refusal is worded in every language, with its values filled in and
    /// nothing of another language's text or a placeholder left.
    #[test]
    fn every_refusal_is_worded_in_every_language() {
        for detail in Detail::every_kind() {
            let english = word(Lang::En, detail.reason(), Some(&detail), &label);
            for lang in Lang::ALL {
                let text = word(lang, detail.reason(), Some(&detail), &label);
                assert!(!text.trim().is_empty(), "{lang} {detail:?}");
                assert!(!text.contains(['{', '}', '|']), "{lang} {detail:?}: {text}");
                if lang != Lang::En {
                    assert_ne!(text, english, "{lang} {detail:?} is the English text");
                }
                match &detail {
                    Detail::FormVersion {
                        version, current, ..
                    } => assert!(
                        text.contains(&version.to_string()) && text.contains(&current.to_string()),
                        "{lang}: {text}"
                    ),
                    Detail::Answers { problems, .. } => assert!(
                        text.contains("Name des Haushalts") && text.contains(&problems.to_string()),
                        "{lang}: {text}"
                    ),
                    Detail::ClockAhead { days } => {
                        assert!(text.contains(&days.to_string()), "{lang}: {text}")
                    }
                    Detail::CorrectionReason { max_chars } => {
                        assert!(text.contains(&max_chars.to_string()), "{lang}: {text}")
                    }
                    _ => {}
                }
            }
        }
        // Two kinds never read the same in German: each says what is wrong.
        let mut seen = std::collections::BTreeMap::new();
        for detail in Detail::every_kind() {
            let text = word(Lang::De, detail.reason(), Some(&detail), &label);
            if let Some(other) = seen.insert(text.clone(), detail.clone()) {
                let same_broad = matches!(
                    (&other, &detail),
                    (Detail::NotVisible, _) | (_, Detail::NotVisible)
                ) || matches!(
                    (&other, &detail),
                    (Detail::UnknownForm { .. }, Detail::UnknownForm { .. })
                );
                assert!(same_broad, "{other:?} and {detail:?} read the same: {text}");
            }
        }
    }

    /// Every way a call can fail reads in every language, none of them as English elsewhere.
    #[test]
    fn every_failed_call_is_worded_in_every_language() {
        use ErrorCode::*;
        let mut all = vec![
            Failure::Offline,
            Failure::Unauthorized,
            Failure::WrongLogin,
            Failure::Disabled,
            Failure::DeviceRevoked,
            Failure::Throttled(1),
            Failure::Throttled(3),
            Failure::Throttled(15),
            Failure::Broken(Some(502)),
            Failure::Broken(None),
        ];
        all.extend(
            [
                NotFound,
                MethodNotAllowed,
                BadRequest,
                PayloadTooLarge,
                Unauthorized,
                Forbidden,
                AccountDisabled,
                Internal,
                Unavailable,
                NoConsent,
                DeviceRevoked,
                TooManyAttempts,
                RequestTimeout,
            ]
            .map(Failure::Refused),
        );
        for f in &all {
            let english = failure(Lang::En, f);
            for lang in Lang::ALL {
                let text = failure(lang, f);
                assert!(
                    !text.trim().is_empty() && !text.contains(['{', '|']),
                    "{lang} {f:?}"
                );
                if lang != Lang::En && !matches!(f, Failure::Offline) {
                    assert_ne!(text, english, "{lang} {f:?}");
                }
            }
        }
    }

    #[test]
    fn the_worker_reads_german_not_the_server_english() {
        let taken = word(
            Lang::De,
            Reason::Invalid,
            Some(&Detail::SubmissionTaken),
            &label,
        );
        assert!(
            taken.starts_with("Der Server hat unter dieser Nummer schon"),
            "{taken}"
        );
        let answers = Detail::Answers {
            field: "household_name".into(),
            problems: 1,
        };
        assert_eq!(
            word(Lang::De, Reason::Invalid, Some(&answers), &label),
            "Der Server hat die Antwort bei „Name des Haushalts“ nicht angenommen (1 Problem). Bitte öffnen und korrigieren."
        );
        // A field the phone has no label for is named as the server named it.
        let unknown = Detail::Answers {
            field: "x_field".into(),
            problems: 3,
        };
        assert!(word(Lang::En, Reason::Invalid, Some(&unknown), &label).contains("“x_field”"));
        // A refusal kept from before codes: its reason, worded.
        assert_eq!(
            word(Lang::De, Reason::NotFound, None, &label),
            "Dieser Haushalt ist für Ihr Team auf dem Server nicht sichtbar."
        );
    }
}
