//! UI strings in the six languages of CRIS Field.
//!
//! Every language is one `const Ui` in this folder: a missing string is a compile error, never
//! a silent fallback to another language. Terms follow the project glossary (German first).
//!
//! Only German is compiled into the app. The other five reach the phone as data, one file
//! per language (`public/i18n/<code>.json`, written from these tables and checked against
//! them by a test), loaded when chosen and kept by the service worker for offline use: a
//! phone downloads the strings of one language, not six.

#[cfg(any(test, not(target_arch = "wasm32")))]
mod bg;
mod de;
#[cfg(any(test, not(target_arch = "wasm32")))]
mod en;
#[cfg(any(test, not(target_arch = "wasm32")))]
mod hu;
#[cfg(any(test, not(target_arch = "wasm32")))]
mod sk;
#[cfg(any(test, not(target_arch = "wasm32")))]
mod tr;

use cris_core::Lang;
use leptos::prelude::*;

/// Declares `Ui` with one `&'static str` per name, and `Ui::entries` listing them all, so that
/// checks across languages need no second list of names.
macro_rules! ui_strings {
    ($($name:ident),+ $(,)?) => {
        /// Every string of the app shell, in one language.
        #[derive(Debug)]
        pub struct Ui {
            $(pub $name: &'static str,)+
        }

        impl Ui {
            /// Every string with its name, in declaration order.
            #[cfg_attr(not(test), allow(dead_code))]
            pub fn entries(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($name), self.$name)),+]
            }

            /// The strings of a language file (`{"name": "text", ...}`); the name of the
            /// first string it lacks when it lacks one. Strings are kept for the life of the
            /// page (at most five languages are ever loaded).
            pub fn from_json(text: &str) -> Result<Ui, String> {
                let mut texts: std::collections::BTreeMap<String, String> =
                    serde_json::from_str(text).map_err(|e| e.to_string())?;
                // One loop over the names, then one call per field: small code for ~500.
                let names = [$(stringify!($name)),+];
                let mut values = Vec::with_capacity(names.len());
                for name in names {
                    let text = texts
                        .remove(name)
                        .ok_or_else(|| format!("the string {name} is missing"))?;
                    values.push(&*Box::leak(text.into_boxed_str()));
                }
                let mut values = values.into_iter();
                Ok(Ui { $($name: next_text(&mut values),)+ })
            }
        }
    };
}

/// The next of a language's strings, in declaration order (there is one for every field).
#[inline(never)]
fn next_text(values: &mut std::vec::IntoIter<&'static str>) -> &'static str {
    values.next().unwrap_or_default()
}

ui_strings! {
    app_tagline,
    nav_caseload,
    nav_intake,
    nav_review,
    nav_settings,
    language,
    language_hint,
    online,
    offline,
    offline_use,
    offline_ready,
    offline_not_ready,
    update_ready,
    update_reload,
    caseload_title,
    caseload_empty_title,
    caseload_empty_body,
    start_intake,
    intake_title,
    intake_body,
    not_yet,
    case_title,
    case_not_found,
    back_to_caseload,
    visit_title,
    visit_body,
    consent_title,
    consent_body,
    review_title,
    review_body,
    review_empty,
    review_no_match,
    review_sort,
    review_sort_newest,
    review_sort_oldest,
    review_edits,
    review_edit_line,
    review_edit_this,
    settings_title,
    storage_kept,
    storage_best_effort,
    storage_unknown,
    app_version,
    not_found_title,
    not_found_body,
    screen_unloaded,
    screen_retry,
    yes,
    no,
    required,
    add_entry,
    remove_entry,
    confirm_remove_entry,
    draft_saving,
    draft_saved_at,
    draft_not_saved,
    storage_full,
    storage_failed,
    finalize,
    finalizing,
    finalize_problems,
    saved_notice,
    discard_draft,
    confirm_discard,
    drafts_title,
    resume_draft,
    last_saved,
    draft_not_found,
    form_loading,
    form_unavailable,
    search_cases,
    no_match,
    last_visit,
    next_visit,
    open_steps,
    steps_due,
    none_yet,
    case_details,
    household_name,
    unnamed_household,
    submissions_title,
    no_submissions,
    new_visit,
    show_answers,
    case_loading,
    also_recorded,
    conflict_written_by,
    device_named,
    sync_title,
    sync_all_done,
    sync_waiting,
    sync_progress,
    sync_running,
    sync_offline,
    sync_failed,
    sync_login_needed,
    sync_last,
    sync_never,
    sync_now,
    sync_rejected,
    rejected_help,
    rejected_reopen,
    account_title,
    login_title,
    login_name,
    password,
    login_submit,
    login_busy,
    login_wrong,
    login_throttled,
    login_disabled,
    login_offline,
    logged_in_as,
    logout,
    logout_waiting,
    refused_malformed,
    refused_unknown_form,
    refused_invalid,
    refused_not_found,
    refused_clock_ahead,
    clock_off,
    case_conflict,
    login_other_waiting,
    login_other_drafts,
    correct_form,
    correction_of,
    correction_reason,
    correction_reason_missing,
    corrected_on,
    correction_note,
    consent_text_lang,
    consent_setup_missing,
    consent_step,
    consent_next,
    consent_back,
    consent_binding_lang,
    consent_purposes_title,
    consent_purposes_hint,
    consent_releases_title,
    consent_releases_hint,
    release_records,
    release_purpose,
    release_duration,
    duration_once,
    duration_until,
    duration_recurring,
    release_incomplete,
    signature_title,
    sign_here,
    signature_clear,
    signature_empty,
    signature_too_small,
    signer_name,
    signer_missing,
    signer_role,
    role_themselves,
    role_parent,
    role_guardian,
    interpreter,
    identity_check,
    id_card,
    passport,
    residence_permit,
    known_to_worker,
    witness,
    consent_save,
    consent_saved,
    receipt_title,
    receipt_print,
    receipt_share,
    receipt_signed,
    receipt_agreed,
    receipt_declined,
    receipt_hash,
    worker_part,
    withdraw_effect,
    receipt_release_yes,
    receipt_release_no,
    receipt_release_records,
    receipt_release_withheld,
    receipt_release_purpose,
    receipt_release_until,
    receipt_until_date,
    receipt_once,
    receipt_recurring,
    consents_none,
    take_consent,
    may_share_open,
    may_share_until,
    may_share_once,
    purpose_agreed,
    consent_of,
    open_receipt,
    withdraw,
    withdraw_title,
    withdraw_what,
    withdraw_all,
    withdraw_how,
    withdraw_signed,
    withdraw_attested,
    withdraw_note,
    withdraw_note_missing,
    withdraw_nothing,
    withdraw_save,
    withdrawn_on,
    consent_refused,
    consent_waiting,
    inbox_title,
    inbox_empty,
    inbox_from,
    inbox_banner,
    inbox_household,
    review_offline,
    review_filter_status,
    review_filter_form,
    review_all,
    status_new,
    status_approved,
    status_changes_requested,
    status_corrected,
    status_resubmitted,
    review_more,
    review_worker,
    review_received,
    review_open,
    review_comment,
    review_approve,
    review_request_changes,
    review_comment_missing,
    review_history,
    review_changed,
    review_corrects,
    review_corrected_by,
    review_decided,
    conflicts_title,
    conflicts_none,
    conflict_resolve,
    conflict_other,
    conflict_save,
    conflict_missing,
    conflict_resolution,
    conflict_fields,
    duplicates_title,
    duplicates_none,
    duplicate_same_person,
    duplicate_similar_name,
    refused_forbidden,
    link_change,
    duplicate_merge,
    duplicate_distinct,
    merge_confirm,
    merge_do,
    merge_cancel,
    merge_failed,
    merged_into,
    merged_households,
    merge_undo,
    nav_overview,
    overview_title,
    overview_team,
    overview_team_all,
    overview_weeks,
    overview_visits,
    overview_week_of,
    overview_total,
    overview_housing,
    overview_housing_unknown,
    overview_housing_conflict,
    overview_overdue,
    overview_overdue_count,
    overview_overdue_none,
    overview_oldest_due,
    overview_consents,
    overview_consents_in_force,
    overview_consents_records,
    overview_devices,
    overview_device,
    overview_last_push,
    overview_last_pull,
    overview_never,
    overview_print,
    overview_loading,
    export_title,
    export_format,
    export_form,
    export_all_forms,
    export_table,
    export_table_main,
    export_language,
    export_from,
    export_to,
    export_download,
    export_csv_needs_form,
    export_done,
    export_recorded,
    export_sensitive,
    export_with_sensitive,
    export_history,
    export_rows,
    review_filter_worker,
    form_already_finalized,
    clear_choice,
    sync_offline_why,
    refused_form_version,
    refused_answers,
    refused_correction_reason,
    refused_properties,
    refused_submission_taken,
    refused_corrects_other,
    refused_signed_changed,
    refused_consent_invalid,
    refused_withdraws_unknown,
    refused_no_agency,
    refused_resolution,
    refused_merge_itself,
    refused_merge_teams,
    refused_not_your_team,
    intake_team,
    intake_team_hint,
    intake_team_missing,
    refused_merge_already,
    refused_merge_into_merged,
    refused_merge_others,
    refused_unmerge,
    refused_clock_ahead_days,
    failure_not_found,
    failure_bad_request,
    failure_too_large,
    failure_forbidden,
    failure_server_trouble,
    failure_no_consent,
    failure_unreadable,
    review_filters,
    overview_overdue_steps,
    overview_overdue_households,
    failure_device_revoked,
    wiped_notice,
    wiped_understood,
    storage_locked,
    unlock_title,
    unlock_intro,
    unlock_intro_pin,
    pin,
    unlock_submit,
    unlock_busy,
    unlock_wrong_password,
    unlock_wrong_pin,
    unlock_pin_gone,
    unlock_too_long_offline,
    unlock_use_password,
    unlock_other_account,
    lock_title,
    lock_explain,
    lock_now,
    pin_title,
    pin_explain,
    pin_new,
    pin_repeat,
    pin_save,
    pin_remove,
    pin_saved,
    pin_removed,
    pin_mismatch,
    pin_invalid,
    login_password_changed,
    login_previous_password,
    overview_device_state,
    device_active,
    device_revoked_on,
    device_revoked_by,
    device_revoke,
    device_revoke_confirm,
    refused_merge_closed,
    refused_close_already,
    refused_close_merged,
    refused_reopen_not_closed,
    case_close,
    case_close_reason,
    case_close_hint,
    case_close_confirm,
    close_moved_away,
    close_left_benefits,
    close_goals_reached,
    close_no_contact,
    close_other,
    case_closed,
    case_reopen,
    caseload_closed,
    departed_notice,
    overview_closed,
    overview_closed_none,
    refused_erased,
    erasure_change,
    erased_notice,
    copy_open,
    copy_title,
    copy_intro,
    copy_made,
    copy_lang,
    copy_loading,
    copy_download,
    copy_forms,
    copy_filled,
    copy_corrects,
    copy_corrected,
    copy_consents,
    copy_released,
    copy_text_de,
    copy_text_unverified,
    copy_withdrawals,
    copy_withdrawn_all,
    copy_withdrawn_some,
    copy_reviews,
    copy_events,
    copy_event_reopened,
    copy_event_merged,
    copy_event_unmerged,
    copy_event_distinct,
    copy_event_resolved,
    copy_exports,
    copy_export_sensitive,
    copy_reads,
    copy_read_history,
    copy_read_submission,
    copy_read_consents,
    copy_read_may_share,
    copy_read_copy,
    copy_none,
    erase_open,
    erase_what,
    erase_consents,
    erase_other,
    erase_everywhere,
    erase_merged,
    erase_reason,
    erase_confirm,
    referral_change,
    refused_no_consent,
    refused_no_consent_recipient,
    refused_no_consent_withdrawn,
    refused_no_consent_expired,
    refused_no_consent_purpose,
    refused_no_consent_records,
    refused_referral_invalid,
    refused_referral_unknown,
    referrals_title,
    referral_new,
    referral_service,
    referral_purpose,
    referral_records,
    referral_asked,
    referral_follow_up,
    referral_follow_up_on,
    referral_send,
    referral_no_texts,
    referral_retry,
    referral_move,
    referral_note,
    referral_save,
    referral_sent,
    referral_appointment,
    referral_accepted,
    referral_done,
    referral_declined,
    letter_open,
    letter_lang,
    letter_recorded,
    letter_loading,
    letter_offline,
    letter_not_released,
    letter_to,
    letter_subject,
    letter_asked,
    letter_consent,
    letter_consent_body,
    letter_until_open,
    letter_until_date,
    letter_until_once,
    letter_checksum,
    letter_records,
    letter_nothing,
    letter_from_form,
    letter_contact,
    letter_made,
    letter_only_purpose,
    copy_read_letter,
    referral_not_released,
    plan_open,
    plan_title,
    plan_intro,
    plan_steps,
    plan_who,
    plan_by,
    plan_open_step,
    plan_referrals,
    plan_contact,
    plan_worker,
    plan_next_visit,
    plan_no_next_visit,
    plan_as_of,
    plan_share,
    overview_referrals,
    overview_no_referrals,
    publish_title,
    publish_hint,
    publish_button,
    publish_done,
    publish_problems,
}

/// The strings of one language as this folder has them (not in the app's wasm: see the
/// module's comment).
#[cfg(any(test, not(target_arch = "wasm32")))]
pub const fn compiled(lang: Lang) -> &'static Ui {
    match lang {
        Lang::De => &de::UI,
        Lang::Tr => &tr::UI,
        Lang::Bg => &bg::UI,
        Lang::En => &en::UI,
        Lang::Hu => &hu::UI,
        Lang::Sk => &sk::UI,
    }
}

/// The strings of one language.
#[cfg(not(target_arch = "wasm32"))]
pub fn ui(lang: Lang) -> &'static Ui {
    compiled(lang)
}

/// The strings of one language: German until the language's file is loaded (asked for here
/// if it was not), then, in every view that read them, the language's own.
#[cfg(target_arch = "wasm32")]
pub fn ui(lang: Lang) -> &'static Ui {
    if lang == Lang::De {
        return &de::UI;
    }
    let found = LOADED
        .with(|loaded| loaded.with(|all| all.iter().find(|(l, _)| *l == lang).map(|(_, u)| *u)));
    found.unwrap_or_else(|| {
        if ask(lang) {
            leptos::task::spawn_local(async move {
                let _ = fetch(lang).await;
            });
        }
        &de::UI
    })
}

#[cfg(target_arch = "wasm32")]
thread_local! {
    /// The languages loaded, read reactively: a view drawn in German while its language was
    /// on its way is drawn again once it is here.
    static LOADED: ArcRwSignal<Vec<(Lang, &'static Ui)>> = ArcRwSignal::new(Vec::new());
    /// The languages on their way, so that each file is fetched once at a time.
    static ASKED: std::cell::RefCell<Vec<Lang>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Marks `lang` as on its way; false if it was already.
#[cfg(target_arch = "wasm32")]
fn ask(lang: Lang) -> bool {
    ASKED.with_borrow_mut(|asked| {
        let first = !asked.contains(&lang);
        if first {
            asked.push(lang);
        }
        first
    })
}

/// Loads the strings of `lang` (from the service worker's cache when offline), unless they
/// are here or on their way. German is always here.
#[cfg(target_arch = "wasm32")]
pub async fn load(lang: Lang) -> Result<(), String> {
    let here = lang == Lang::De
        || LOADED.with(|loaded| loaded.with_untracked(|all| all.iter().any(|(l, _)| *l == lang)));
    if here || !ask(lang) {
        return Ok(());
    }
    fetch(lang).await
}

/// Fetches the file of `lang`, asked for by [`ask`], and keeps its strings.
#[cfg(target_arch = "wasm32")]
async fn fetch(lang: Lang) -> Result<(), String> {
    let url = format!("/i18n/{}.json", lang.code());
    let result = async {
        let text = crate::forms::fetch_text(&url).await?;
        Ui::from_json(&text).map_err(|e| format!("{url}: {e}"))
    }
    .await;
    ASKED.with_borrow_mut(|asked| asked.retain(|l| *l != lang));
    let strings = result.inspect_err(|why| leptos::logging::warn!("{why}"))?;
    let strings: &'static Ui = Box::leak(Box::new(strings));
    LOADED.with(|loaded| loaded.update(|all| all.push((lang, strings))));
    Ok(())
}

/// The current UI language, shared through the component tree.
#[derive(Clone, Copy, Debug)]
pub struct I18n {
    pub lang: RwSignal<Lang>,
}

impl I18n {
    /// A reactive string: re-renders when the language changes.
    pub fn t(self, pick: fn(&'static Ui) -> &'static str) -> impl Fn() -> &'static str + Copy {
        move || pick(ui(self.lang.get()))
    }
}

impl I18n {
    /// A counted string for `n`, in the grammar of the current language (see [`plural`]).
    pub fn count(self, pick: fn(&'static Ui) -> &'static str, n: usize) -> String {
        let lang = self.lang.get();
        plural(lang, pick(ui(lang)), n)
    }
}

/// How many forms a counted string has in `lang`: the plural categories of whole numbers,
/// "one" and "other", and in Slovak "one", "few" (2 to 4) and "other".
pub const fn plural_forms(lang: Lang) -> usize {
    match lang {
        Lang::Sk => 3,
        _ => 2,
    }
}

/// The form of a counted string for `n`, with `{n}` filled in. A counted string lists its
/// forms separated by `|`, in the order of [`plural_forms`]; a string with one form (a
/// language whose nouns stay singular after a number, as Turkish and Hungarian) serves all.
pub fn plural(lang: Lang, text: &str, n: usize) -> String {
    let forms: Vec<&str> = text.split('|').collect();
    let index = match (lang, n) {
        (_, 1) => 0,
        (Lang::Sk, 2..=4) => 1,
        (Lang::Sk, _) => 2,
        _ => 1,
    };
    forms[index.min(forms.len() - 1)].replace("{n}", &n.to_string())
}

/// "5 steps overdue in 3 households", each count in the language's grammar.
pub fn overdue_count(lang: Lang, steps: usize, households: usize) -> String {
    let u = ui(lang);
    u.overview_overdue_count
        .replace("{steps}", &plural(lang, u.overview_overdue_steps, steps))
        .replace(
            "{households}",
            &plural(lang, u.overview_overdue_households, households),
        )
}

/// Every language is compiled in outside the browser: nothing to load.
#[cfg(not(target_arch = "wasm32"))]
pub async fn load(_lang: Lang) -> Result<(), String> {
    Ok(())
}

/// A language's file as the app loads it: every string by name, in declaration order, one
/// per line (so that a change reads as a change of lines).
#[cfg(any(test, not(target_arch = "wasm32")))]
pub fn to_json(ui: &Ui) -> String {
    let lines: Vec<String> = ui
        .entries()
        .into_iter()
        .map(|(name, text)| {
            format!(
                "  {}: {}",
                serde_json::Value::from(name),
                serde_json::Value::from(text)
            )
        })
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

/// The `I18n` provided by the app shell.
pub fn use_i18n() -> I18n {
    expect_context::<I18n>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(ui: &Ui) -> Vec<(&'static str, &'static str)> {
        ui.entries()
    }

    /// The files the phone loads are these tables, to the letter. After a change to a table:
    /// `CRIS_WRITE_I18N=1 cargo test -p cris-app --lib i18n` writes them anew.
    #[test]
    fn the_language_files_hold_the_tables_of_this_folder() {
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::De) {
            let path = format!(
                "{}/../public/i18n/{}.json",
                env!("CARGO_MANIFEST_DIR"),
                lang.code()
            );
            let expected = to_json(compiled(lang));
            if std::env::var_os("CRIS_WRITE_I18N").is_some() {
                std::fs::write(&path, &expected).unwrap();
            }
            let found = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                found == expected,
                "{path} is not app/src/i18n/{}.rs: write it anew with CRIS_WRITE_I18N=1 cargo test -p cris-app --lib i18n",
                lang.code()
            );
            let loaded = Ui::from_json(&found).unwrap();
            assert_eq!(loaded.entries(), compiled(lang).entries());
        }
    }

    /// The login form the page shows before the app has started (public/start.js) says what
    /// the app's login page says, in every language.
    #[test]
    fn the_page_s_own_login_form_has_the_app_s_words() {
        let script = include_str!("../../../public/start.js");
        let table = script
            .lines()
            .find_map(|line| line.trim().strip_prefix("const WORDS = "))
            .and_then(|rest| rest.strip_suffix(';'))
            .expect("start.js has a line `const WORDS = {...};`");
        let words: std::collections::BTreeMap<String, [String; 4]> =
            serde_json::from_str(table).unwrap();
        assert_eq!(words.len(), Lang::ALL.len());
        for lang in Lang::ALL {
            let u = compiled(lang);
            assert_eq!(
                words[lang.code()],
                [u.login_title, u.login_name, u.password, u.login_submit],
                "{lang}"
            );
        }
    }

    #[test]
    fn a_language_file_lacking_a_string_is_refused_by_name() {
        let full = to_json(compiled(Lang::Tr));
        let lacking: String = full
            .lines()
            .filter(|line| !line.trim_start().starts_with("\"nav_review\""))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            Ui::from_json(&lacking).err().as_deref(),
            Some("the string nav_review is missing")
        );
        assert!(Ui::from_json("[1, 2]").is_err());
    }

    #[test]
    fn no_string_is_empty_or_padded() {
        for lang in Lang::ALL {
            let all = strings(ui(lang));
            for (name, value) in all {
                assert!(!value.trim().is_empty(), "{lang}.{name} is empty");
                assert_eq!(value, value.trim(), "{lang}.{name} has surrounding spaces");
            }
        }
    }

    /// Catches a string copied from English and never translated. The words that really are
    /// the same in a language are listed here, one by one.
    #[test]
    fn every_language_is_really_translated() {
        let same_as_english: &[(Lang, &str)] = &[
            (Lang::De, "online"),
            (Lang::De, "pin"),
            (Lang::De, "offline"),
            (Lang::Hu, "online"),
            (Lang::Hu, "offline"),
            (Lang::Sk, "online"),
            (Lang::Sk, "offline"),
            (Lang::De, "review_filter_status"),
            (Lang::Tr, "review_filter_form"),
            (Lang::De, "overview_team"),
            (Lang::Tr, "export_form"),
            // Only the order of the two counted parts, each translated.
            (Lang::De, "overview_overdue_count"),
            (Lang::Bg, "overview_overdue_count"),
            (Lang::Hu, "overview_overdue_count"),
            (Lang::Sk, "overview_overdue_count"),
        ];
        let english = strings(ui(Lang::En));
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::En) {
            for ((name, value), (_, en_value)) in strings(ui(lang)).into_iter().zip(&english) {
                if value == *en_value {
                    assert!(
                        same_as_english.contains(&(lang, name)),
                        "{lang}.{name} is the English text {value:?}"
                    );
                }
            }
        }
    }

    /// A translation fills in what the German string fills in: the same `{placeholders}`, no
    /// more and no fewer (a lost `{date}` would print a consent without its date).
    #[test]
    fn every_translation_keeps_the_placeholders_of_the_german_string() {
        fn placeholders(text: &str) -> std::collections::BTreeSet<&str> {
            text.split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
                .collect()
        }
        let german = strings(ui(Lang::De));
        for lang in Lang::ALL {
            for ((name, value), (_, de_value)) in strings(ui(lang)).into_iter().zip(&german) {
                assert_eq!(
                    placeholders(value),
                    placeholders(de_value),
                    "{lang}.{name}: {value:?} against the German {de_value:?}"
                );
            }
        }
    }

    /// A counted string has one form, or exactly as many as its language has.
    #[test]
    fn counted_strings_have_the_forms_of_their_language() {
        for lang in Lang::ALL {
            for (name, value) in strings(ui(lang)) {
                let forms = value.split('|').count();
                assert!(
                    forms == 1 || forms == plural_forms(lang),
                    "{lang}.{name} has {forms} forms, the language {}",
                    plural_forms(lang)
                );
                if forms > 1 {
                    for form in value.split('|') {
                        assert_eq!(form, form.trim(), "{lang}.{name}: a form has spaces around");
                    }
                }
            }
        }
    }

    fn overdue(lang: Lang, steps: usize, households: usize) -> String {
        overdue_count(lang, steps, households)
    }

    #[test]
    fn counts_follow_the_grammar_of_each_language() {
        let waiting = |lang, n| plural(lang, ui(lang).sync_waiting, n);
        assert_eq!(waiting(Lang::De, 1), "1 wartet auf Synchronisierung");
        assert_eq!(waiting(Lang::De, 3), "3 warten auf Synchronisierung");
        assert_eq!(waiting(Lang::Bg, 1), "1 чака синхронизиране");
        assert_eq!(waiting(Lang::Bg, 2), "2 чакат синхронизиране");
        assert_eq!(waiting(Lang::Sk, 1), "1 čaká na synchronizáciu");
        assert_eq!(waiting(Lang::Sk, 3), "3 čakajú na synchronizáciu");
        assert_eq!(waiting(Lang::Sk, 5), "5 čaká na synchronizáciu");
        assert_eq!(waiting(Lang::Tr, 7), "7 kayıt eşitlenmeyi bekliyor");
        let rows = |lang, n| plural(lang, ui(lang).export_rows, n);
        assert_eq!(rows(Lang::De, 1), "1 Zeile");
        assert_eq!(rows(Lang::De, 0), "0 Zeilen");
        assert_eq!(rows(Lang::Sk, 2), "2 riadky");
        assert_eq!(rows(Lang::Sk, 12), "12 riadkov");
        assert_eq!(
            overdue(Lang::De, 1, 1),
            "1 überfälliger Schritt in 1 Haushalt"
        );
        assert_eq!(
            overdue(Lang::De, 5, 3),
            "5 überfällige Schritte in 3 Haushalten"
        );
        assert_eq!(overdue(Lang::Tr, 5, 3), "3 hanede süresi geçmiş 5 adım");
    }

    /// Every language calls the intake by one name: the tab, the buttons and the form's own
    /// title (the form definition) agree.
    #[test]
    fn the_intake_has_one_name_in_every_language() {
        let intake: serde_json::Value =
            serde_json::from_str(include_str!("../../../forms/intake.json")).unwrap();
        for lang in Lang::ALL {
            let title = intake["title"][lang.code()].as_str().unwrap();
            let u = ui(lang);
            assert_eq!(u.nav_intake, title, "{lang}: the tab");
            for (name, text) in [
                ("start_intake", u.start_intake),
                ("intake_title", u.intake_title),
            ] {
                let fold = cris_core::duplicates::comparable;
                assert!(
                    fold(text).contains(&fold(title)),
                    "{lang}.{name} {text:?} does not say {title:?}"
                );
            }
        }
    }

    #[test]
    fn glossary_terms_are_used_in_german() {
        let de = ui(Lang::De);
        assert_eq!(de.visit_title, "Hausbesuch");
        assert_eq!(de.consent_title, "Einwilligung");
        assert!(de.intake_title.contains("Erstgespräch"));
        assert!(de.intake_body.contains("Kooperationsplan"));
    }
}
