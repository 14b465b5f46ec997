//! User Timing marks (`performance.mark` / `measure`) around what a worker waits for: opening
//! a form, finalizing it. They cost nothing when nobody looks; the browser's developer tools
//! and `tests/src/bin/bench-phone.rs` read them.

/// Marks the start of something.
pub fn start(name: &str) {
    if let Some(perf) = performance() {
        let _ = perf.mark(name);
    }
}

/// Records `name` from its start mark to now (nothing, if it was never started).
pub fn end(name: &str) {
    if let Some(perf) = performance() {
        let _ = perf.measure_with_start_mark(name, name);
        perf.clear_marks_with_mark_name(name);
    }
}

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}

/// From opening a form's address to the form laid out on screen.
pub const FORM_OPEN: &str = "cris:form-open";
/// From tapping "finalize" (answers already validated) to the transaction on disk.
pub const FINALIZE: &str = "cris:finalize";
/// From the app's start to its forms read and checked (from IndexedDB or the shipped copies).
pub const FORMS_LOAD: &str = "cris:forms-load";
/// From "unlock" with the password to the records open (the key derived and unwrapped).
pub const UNLOCK: &str = "cris:unlock";
/// From "unlock" with the PIN to the records open.
pub const UNLOCK_PIN: &str = "cris:unlock-pin";
/// From the caseload asked for to its households read (and decrypted) from IndexedDB.
pub const CASELOAD_LOAD: &str = "cris:caseload-load";
