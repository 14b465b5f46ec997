//! The storage module in real IndexedDB, in headless Chromium (`make test` runs these with
//! wasm-bindgen's test runner). Every test uses a database of its own and deletes it.
#![cfg(target_arch = "wasm32")]

use std::collections::BTreeMap;

use cris_app::storage::{
    Draft, Finalized, PullPosition, SCHEMA_VERSION, Storage, StorageError, StoredForm, Unlock,
    Write, crypto, encode, stores,
};
use cris_core::api::PhonePolicy;
use cris_core::form::Answers;
use cris_core::hlc::Clock;
use cris_core::record::{Case, Change, Operation, Submission};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn unique_name(test: &str) -> String {
    format!("cris-test-{test}-{}", js_sys::Math::random())
}

const LOGIN: &str = "test-worker";
const PASSWORD: &str = "correct horse battery staple";

/// A database of its own, with an invented account's key made and held: unlocked.
async fn open_unlocked(name: &str) -> Storage {
    let storage = Storage::open_named(name).await.unwrap();
    storage
        .create_key(LOGIN, PASSWORD, 1.0, PhonePolicy::default(), Vec::new())
        .await
        .unwrap();
    storage
}

fn draft(id: &str, household: &str, saved_at: f64) -> Draft {
    Draft {
        id: id.to_owned(),
        form_id: "intake".to_owned(),
        form_version: 1,
        case_id: None,
        answers: Answers::new()
            .with("household_name", household)
            .with("housing_situation", "shelter")
            .with_repeat(
                "members",
                vec![
                    Answers::new()
                        .with("member_name", "Ayşe Демирова")
                        .with("dob", "1990-02-03"),
                    Answers::new()
                        .with("member_name", "Emre")
                        .with("dob", "2015-07-01"),
                ],
            ),
        started_at_ms: saved_at,
        updated_at_ms: saved_at,
        corrects: None,
        reason: String::new(),
        team: String::new(),
    }
}

#[wasm_bindgen_test]
async fn a_new_database_has_every_store() {
    let name = unique_name("stores");
    let storage = open_unlocked(&name).await;
    let mut names = storage.store_names();
    names.sort();
    assert_eq!(
        names,
        [
            stores::CASES,
            stores::CONSENTS,
            stores::DEVICE,
            stores::DRAFTS,
            stores::FORM_VERSIONS,
            stores::FORMS,
            stores::META,
            stores::OUTBOX,
            stores::REJECTED,
            stores::SENT,
            stores::SUBMISSIONS
        ]
    );
    assert_eq!(storage.version(), SCHEMA_VERSION);
    storage.close();
    Storage::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_draft_comes_back_to_the_letter() {
    let name = unique_name("roundtrip");
    let storage = open_unlocked(&name).await;
    let saved = draft(
        "0192b3c4-0000-7000-8000-000000000001",
        "Familie Şahin-Петрова",
        1_764_150_000_000.0,
    );
    storage.put_draft(&saved).await.unwrap();
    assert_eq!(storage.draft(&saved.id).await.unwrap(), Some(saved.clone()));
    assert_eq!(storage.draft("no-such-draft").await.unwrap(), None);
    storage.close();
    Storage::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_draft_survives_closing_and_reopening() {
    let name = unique_name("reopen");
    let saved = draft("d-1", "Familie Kaya", 1.0);
    {
        let storage = open_unlocked(&name).await;
        storage.put_draft(&saved).await.unwrap();
        storage.close();
    }
    // The app was closed: the key is gone, and only the password brings it back.
    crypto::forget_key();
    let storage = Storage::open_named(&name).await.unwrap();
    assert_eq!(storage.drafts().await, Err(StorageError::Locked));
    assert_eq!(
        storage
            .unlock("correct horse battery stapler")
            .await
            .unwrap(),
        Unlock::WrongPassword
    );
    assert_eq!(storage.drafts().await, Err(StorageError::Locked));
    assert_eq!(storage.unlock(PASSWORD).await.unwrap(), Unlock::Opened);
    assert_eq!(storage.drafts().await.unwrap(), vec![saved]);
    storage.close();
    Storage::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn saving_again_replaces_and_the_newest_comes_first() {
    let name = unique_name("list");
    let storage = open_unlocked(&name).await;
    storage
        .put_draft(&draft("a", "Familie A", 10.0))
        .await
        .unwrap();
    storage
        .put_draft(&draft("b", "Familie B", 20.0))
        .await
        .unwrap();
    storage
        .put_draft(&draft("a", "Familie A, korrigiert", 30.0))
        .await
        .unwrap();
    let drafts = storage.drafts().await.unwrap();
    let listed: Vec<(&str, &str)> = drafts
        .iter()
        .map(|d| (d.id.as_str(), d.answers.text("household_name")))
        .collect();
    assert_eq!(listed, [("a", "Familie A, korrigiert"), ("b", "Familie B")]);

    storage.delete_draft("a").await.unwrap();
    let left: Vec<String> = storage
        .drafts()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(left, ["b"]);
    storage.close();
    Storage::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_database_of_an_old_version_gets_every_store() {
    let name = unique_name("upgrade");
    {
        let v1 = Storage::open_version(&name, 1).await.unwrap();
        assert_eq!(v1.version(), 1);
        assert!(!v1.store_names().iter().any(|s| s == stores::FORMS));
        v1.close();
    }
    let now = open_unlocked(&name).await;
    assert_eq!(now.version(), SCHEMA_VERSION);
    assert_eq!(now.store_names().len(), 11);
    let form = StoredForm {
        id: "intake".into(),
        version: 3,
        json: "{}".into(),
    };
    now.put_form(&form).await.unwrap();
    assert_eq!(now.form("intake").await.unwrap(), Some(form));
    now.close();
    Storage::delete(&name).await.unwrap();
}

/// A draft finishes on the version it was begun on: the version a newer one replaces is kept
/// while a draft names it, and let go once none does. Locked, the phone cannot read its
/// drafts, and keeps what it cannot tell about.
#[wasm_bindgen_test]
async fn an_older_form_version_is_kept_while_a_draft_was_begun_on_it() {
    let name = unique_name("versions");
    let storage = open_unlocked(&name).await;
    let form = |id: &str, version: u32| StoredForm {
        id: id.into(),
        version,
        json: format!("{{\"id\":\"{id}\",\"version\":{version}}}"),
    };
    // The draft was begun on intake version 1; home visit version 2 has no draft.
    let begun = draft("d-versions", "Familie Testova", 5.0);
    storage.put_draft(&begun).await.unwrap();
    storage
        .keep_forms_for_drafts(&[form("intake", 1), form("home_visit", 2)])
        .await
        .unwrap();
    assert_eq!(
        storage.kept_form_versions().await.unwrap(),
        [form("intake", 1)]
    );
    assert_eq!(
        storage.form_version("intake", 1).await.unwrap(),
        Some(form("intake", 1))
    );
    assert_eq!(storage.form_version("home_visit", 2).await.unwrap(), None);
    // Kept in clear, like the current definitions: forms load before an unlock.
    assert!(raw_dump(&name).await.iter().any(|r| r.contains("intake@1")));

    // Locked: nothing is let go, and what is replaced is kept.
    crypto::forget_key();
    storage
        .keep_forms_for_drafts(&[form("intake", 2)])
        .await
        .unwrap();
    assert_eq!(
        storage.kept_form_versions().await.unwrap(),
        [form("intake", 1), form("intake", 2)]
    );

    // Unlocked again, the draft finalized: no draft names either, both go.
    assert_eq!(storage.unlock(PASSWORD).await.unwrap(), Unlock::Opened);
    storage.delete_draft(&begun.id).await.unwrap();
    storage.keep_forms_for_drafts(&[]).await.unwrap();
    assert!(storage.kept_form_versions().await.unwrap().is_empty());
    storage.close();
    Storage::delete(&name).await.unwrap();
}

/// A record as a version before encryption wrote it: plain JSON.
fn legacy<T: serde::Serialize>(record: &T) -> wasm_bindgen::JsValue {
    js_sys::JSON::parse(&serde_json::to_string(record).unwrap()).unwrap()
}

/// Every stored value of every store of `name`, as JSON text, read without the key (as
/// anyone with a copy of the phone's storage could).
async fn raw_dump(name: &str) -> Vec<String> {
    let db = rexie::Rexie::builder(name).build().await.unwrap();
    let mut dump = Vec::new();
    for store in db.store_names() {
        let tx = db
            .transaction(&[store.as_str()], rexie::TransactionMode::ReadOnly)
            .unwrap();
        for value in tx.store(&store).unwrap().get_all(None, None).await.unwrap() {
            // Byte arrays are written out whole, as numbers, and as the text they would be.
            let text = String::from(js_sys::JSON::stringify(&value).unwrap());
            let bytes: Vec<u8> = ["iv", "ct"]
                .iter()
                .filter_map(|f| js_sys::Reflect::get(&value, &(*f).into()).ok())
                .filter_map(|v| v.dyn_into::<js_sys::Uint8Array>().ok())
                .flat_map(|a| a.to_vec())
                .collect();
            dump.push(format!(
                "{store}: {text} {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
    }
    db.close();
    dump
}

fn assert_nowhere(dump: &[String], secrets: &[&str]) {
    assert!(!dump.is_empty());
    for line in dump {
        for secret in secrets {
            assert!(!line.contains(secret), "{secret:?} in clear: {line}");
        }
    }
}

/// A phone from before encryption (schema 4, records in clear) is sealed in place at the
/// first login after the update: every record, draft and operation is still there, and
/// none of it is in clear any more.
#[wasm_bindgen_test]
async fn a_phone_from_before_encryption_is_sealed_in_place_without_loss() {
    let name = unique_name("seal-in-place");
    let device = "0192b3c4-0000-7000-8000-00000000d001";
    let kept = draft("d-old", "Familie Yılmaz-Стоянова", 5.0);
    let done = finalized("c-old", "s-old", "op-old");
    let mut clock = Clock::new(device);
    let stamped = clock.stamp(2_000_000_000_000);
    let signed = consent("k-old", "c-old", device);
    let refused = cris_app::storage::Rejection {
        op_id: "op-old".into(),
        reason: cris_core::sync::Reason::Invalid,
        message: "the answers do not pass".into(),
        detail: None,
        at_ms: 7.0,
    };
    {
        let v4 = Storage::open_version(&name, 4).await.unwrap();
        assert_eq!(v4.version(), 4);
        let plain = |store, value| Write::PutClear { store, value };
        v4.commit(vec![
            plain(stores::DRAFTS, legacy(&kept)),
            plain(stores::CASES, legacy(&done.case)),
            plain(stores::SUBMISSIONS, legacy(&done.submission)),
            plain(stores::OUTBOX, legacy(&done.operation)),
            plain(stores::REJECTED, legacy(&refused)),
            plain(
                stores::CONSENTS,
                legacy(&serde_json::json!({"id": "k-old", "case_id": "c-old", "consent": signed})),
            ),
            plain(
                stores::META,
                legacy(
                    &serde_json::json!({"key": "pull-cursor", "cursor": 41, "store": "store-a"}),
                ),
            ),
            plain(
                stores::META,
                legacy(&serde_json::json!({"key": "clock", "clock": clock})),
            ),
        ])
        .await
        .unwrap();
        v4.close();
    }
    crypto::forget_key();
    let now = Storage::open_named(&name).await.unwrap();
    assert_eq!(now.version(), SCHEMA_VERSION);
    assert_eq!(now.keyring().await.unwrap(), None);
    now.create_key(LOGIN, PASSWORD, 1.0, PhonePolicy::default(), Vec::new())
        .await
        .unwrap();
    assert_eq!(now.drafts().await.unwrap(), vec![kept]);
    assert_eq!(now.cases().await.unwrap(), vec![done.case.clone()]);
    assert_eq!(
        now.submissions_of("c-old").await.unwrap(),
        vec![done.submission.clone()]
    );
    assert_eq!(now.outbox().await.unwrap(), vec![done.operation.clone()]);
    assert_eq!(now.rejections().await.unwrap(), vec![refused]);
    assert_eq!(
        now.consents_of("c-old").await.unwrap(),
        vec![cris_core::consent::Record::Consent(Box::new(signed))]
    );
    assert_eq!(
        now.cursor().await.unwrap(),
        PullPosition {
            cursor: 41,
            store: "store-a".into()
        }
    );
    // The phone's clock goes on from where it was: stamps only grow.
    let mut after = now.clock(device).await.unwrap();
    assert!(after.stamp(1_000) > stamped);
    now.close();
    assert_nowhere(
        &raw_dump(&name).await,
        &[
            "Yılmaz",
            "Стоянова",
            "Ayşe",
            "Демирова",
            "shelter",
            "household_name",
            "Fatme",
            "school_contact",
        ],
    );
    // And after the app was closed, the password opens them again.
    crypto::forget_key();
    let again = Storage::open_named(&name).await.unwrap();
    assert_eq!(again.unlock(PASSWORD).await.unwrap(), Unlock::Opened);
    assert_eq!(again.outbox().await.unwrap(), vec![done.operation]);
    again.close();
    Storage::delete(&name).await.unwrap();
}

/// What the key binds a record to: a record moved under another key, altered, or put in
/// clear into a sealed store does not open (it is refused, not read).
#[wasm_bindgen_test]
async fn a_sealed_record_cannot_be_moved_altered_or_replaced_in_clear() {
    let name = unique_name("tamper");
    let storage = open_unlocked(&name).await;
    storage
        .put_draft(&draft("a", "Familie Öztürk", 1.0))
        .await
        .unwrap();
    let raw = rexie::Rexie::builder(&name).build().await.unwrap();
    let tx = raw
        .transaction(&[stores::DRAFTS], rexie::TransactionMode::ReadOnly)
        .unwrap();
    let sealed = tx
        .store(stores::DRAFTS)
        .unwrap()
        .get("a".into())
        .await
        .unwrap()
        .unwrap();
    raw.close();

    let moved = js_sys::Object::assign(&js_sys::Object::new(), sealed.unchecked_ref());
    js_sys::Reflect::set(&moved, &"id".into(), &"b".into()).unwrap();
    let altered = js_sys::Object::assign(&js_sys::Object::new(), sealed.unchecked_ref());
    let ct: js_sys::Uint8Array = js_sys::Reflect::get(&sealed, &"ct".into())
        .unwrap()
        .unchecked_into();
    let mut bytes = ct.to_vec();
    bytes[0] ^= 1;
    js_sys::Reflect::set(
        &altered,
        &"ct".into(),
        &js_sys::Uint8Array::from(bytes.as_slice()).into(),
    )
    .unwrap();
    let mut forged = draft("c", "Familie Fälschung", 2.0);
    forged.reason = "planted in clear".into();
    storage
        .commit(vec![
            Write::PutClear {
                store: stores::DRAFTS,
                value: moved.into(),
            },
            Write::PutClear {
                store: stores::DRAFTS,
                value: legacy(&forged),
            },
        ])
        .await
        .unwrap();
    assert!(matches!(
        storage.draft("b").await,
        Err(StorageError::Unreadable(_))
    ));
    assert!(matches!(
        storage.draft("c").await,
        Err(StorageError::Unreadable(_))
    ));
    storage
        .commit(vec![Write::PutClear {
            store: stores::DRAFTS,
            value: altered.into(),
        }])
        .await
        .unwrap();
    assert!(matches!(
        storage.draft("a").await,
        Err(StorageError::Unreadable(_))
    ));
    storage.close();
    Storage::delete(&name).await.unwrap();
}

/// A PIN unlocks only the key the running app still holds; five wrong PINs drop it, and then
/// only the password opens the records.
#[wasm_bindgen_test]
async fn five_wrong_pins_leave_only_the_password() {
    let name = unique_name("pin");
    let storage = open_unlocked(&name).await;
    let saved = draft("d-pin", "Familie Petrov", 1.0);
    storage.put_draft(&saved).await.unwrap();
    crypto::arm_pin(Some(crypto::PinCheck::new("4711").await.unwrap()));

    assert!(crypto::lock());
    assert_eq!(storage.draft("d-pin").await, Err(StorageError::Locked));
    assert_eq!(
        crypto::unlock_with_pin("1234").await.unwrap(),
        crypto::PinUnlock::Wrong(4)
    );
    assert_eq!(
        crypto::unlock_with_pin("4711").await.unwrap(),
        crypto::PinUnlock::Opened
    );
    assert_eq!(storage.draft("d-pin").await.unwrap(), Some(saved.clone()));

    assert!(crypto::lock());
    for left in (1..crypto::PIN_TRIES).rev() {
        assert_eq!(
            crypto::unlock_with_pin("0000").await.unwrap(),
            crypto::PinUnlock::Wrong(left)
        );
    }
    assert_eq!(
        crypto::unlock_with_pin("0000").await.unwrap(),
        crypto::PinUnlock::PasswordNeeded
    );
    // Even the right PIN does nothing now.
    assert_eq!(
        crypto::unlock_with_pin("4711").await.unwrap(),
        crypto::PinUnlock::PasswordNeeded
    );
    assert!(!crypto::pin_can_unlock());
    assert_eq!(storage.draft("d-pin").await, Err(StorageError::Locked));
    assert_eq!(storage.unlock(PASSWORD).await.unwrap(), Unlock::Opened);
    assert_eq!(storage.draft("d-pin").await.unwrap(), Some(saved));

    // Without a PIN, locking drops the key at once.
    crypto::arm_pin(None);
    assert!(!crypto::lock());
    assert_eq!(
        crypto::unlock_with_pin("4711").await.unwrap(),
        crypto::PinUnlock::PasswordNeeded
    );
    storage.close();
    Storage::delete(&name).await.unwrap();
}

/// After the account's password changed, the previous one moves the key under the new one.
#[wasm_bindgen_test]
async fn a_changed_password_takes_over_the_key() {
    let name = unique_name("rewrap");
    let storage = open_unlocked(&name).await;
    let saved = draft("d-1", "Familie Horváth", 1.0);
    storage.put_draft(&saved).await.unwrap();
    assert!(
        !storage
            .rewrap("not the password", "new secret")
            .await
            .unwrap()
    );
    assert!(storage.rewrap(PASSWORD, "new secret").await.unwrap());
    crypto::forget_key();
    assert_eq!(
        storage.unlock(PASSWORD).await.unwrap(),
        Unlock::WrongPassword
    );
    assert_eq!(storage.unlock("new secret").await.unwrap(), Unlock::Opened);
    assert!(storage.password_opens("new secret").await.unwrap());
    assert_eq!(storage.draft("d-1").await.unwrap(), Some(saved));
    storage.close();
    Storage::delete(&name).await.unwrap();
}

fn finalized(case_id: &str, submission_id: &str, op_id: &str) -> Finalized {
    let device = "0192b3c4-0000-7000-8000-00000000d001";
    let submission = Submission {
        id: submission_id.into(),
        form_id: "intake".into(),
        form_version: 1,
        case_id: case_id.into(),
        device: device.into(),
        answers: Answers::new().with("household_name", "Familie Demir"),
        started_at_ms: 1.0,
        finalized_at_ms: 2.0,
        corrects: None,
        team: None,
    };
    let mut case = Case::new(case_id, 2.0);
    let mut clock = Clock::new(device);
    let properties = BTreeMap::from([("household_name".to_owned(), "Familie Demir".to_owned())]);
    let operation = Operation {
        op_id: op_id.into(),
        device: device.into(),
        hlc: clock.stamp(2),
        created_at_ms: 2.0,
        case_id: case_id.into(),
        change: Change::Submit {
            submission: submission.clone(),
            properties: case.writes_for(&properties),
        },
    };
    case.apply(&operation);
    Finalized {
        case,
        operation,
        submission,
        clock,
    }
}

#[wasm_bindgen_test]
async fn finalizing_writes_submission_case_and_outbox_and_removes_the_draft() {
    let name = unique_name("finalize");
    let storage = open_unlocked(&name).await;
    let mut d = draft("s-1", "Familie Demir", 1.0);
    d.id = "s-1".into();
    storage.put_draft(&d).await.unwrap();
    let done = finalized("c-1", "s-1", "op-1");
    storage.finalize(&done).await.unwrap();

    assert_eq!(storage.draft("s-1").await.unwrap(), None);
    assert_eq!(storage.case("c-1").await.unwrap(), Some(done.case.clone()));
    assert_eq!(storage.cases().await.unwrap(), vec![done.case.clone()]);
    assert_eq!(
        storage.submissions_of("c-1").await.unwrap(),
        vec![done.submission.clone()]
    );
    assert_eq!(storage.submissions_of("c-other").await.unwrap(), vec![]);
    assert_eq!(
        storage.outbox().await.unwrap(),
        vec![done.operation.clone()]
    );
    storage.close();
    Storage::delete(&name).await.unwrap();
}

/// A form finalized once is never written again, whatever the screens do: a second finalize
/// under the same id (an empty form typed in again after Back) is refused with nothing
/// written, and the first household's form, case and outbox entry stay as they were.
#[wasm_bindgen_test]
async fn a_second_finalize_under_the_same_id_is_refused_and_changes_nothing() {
    let name = unique_name("finalize-twice");
    let storage = open_unlocked(&name).await;
    let first = finalized("c-1", "s-1", "op-1");
    storage.finalize(&first).await.unwrap();

    // The same submission id, typed in again as another household.
    let mut again = finalized("c-2", "s-1", "op-2");
    again.submission.answers = Answers::new().with("household_name", "Familie Zweimal");
    let retyped = draft("s-1", "Familie Zweimal", 3.0);
    storage.put_draft(&retyped).await.unwrap();
    let result = storage.finalize(&again).await;
    assert_eq!(result, Err(StorageError::Exists));

    assert_eq!(
        storage.submission("s-1").await.unwrap(),
        Some(first.submission.clone())
    );
    assert_eq!(storage.cases().await.unwrap(), vec![first.case.clone()]);
    assert_eq!(
        storage.outbox().await.unwrap(),
        vec![first.operation.clone()]
    );
    // What was typed the second time is not lost either.
    assert_eq!(storage.draft("s-1").await.unwrap(), Some(retyped.clone()));

    // Kept under an id of its own, it can be finalized as the new form it is.
    let moved = storage.move_draft(&retyped, "s-3").await.unwrap();
    assert_eq!(moved.id, "s-3");
    assert_eq!(storage.draft("s-1").await.unwrap(), None);
    assert_eq!(storage.draft("s-3").await.unwrap(), Some(moved));
    storage
        .finalize(&finalized("c-2", "s-3", "op-3"))
        .await
        .unwrap();
    assert_eq!(storage.submissions().await.unwrap().len(), 2);
    assert_eq!(
        storage.submission("s-1").await.unwrap(),
        Some(first.submission)
    );
    storage.close();
    Storage::delete(&name).await.unwrap();
}

/// One write that IndexedDB refuses (a record without its key) takes the whole transaction
/// down: nothing before it is written, and the draft is still there.
#[wasm_bindgen_test]
async fn a_failing_write_leaves_nothing_half_written() {
    let name = unique_name("atomic");
    let storage = open_unlocked(&name).await;
    let kept = draft("s-2", "Familie Arslan", 1.0);
    storage.put_draft(&kept).await.unwrap();
    let done = finalized("c-2", "s-2", "op-2");

    let no_key = js_sys::Object::new();
    let result = storage
        .commit(vec![
            Write::Put {
                store: stores::CASES,
                value: encode(&done.case).unwrap(),
            },
            Write::Delete {
                store: stores::DRAFTS,
                key: "s-2".into(),
            },
            Write::PutClear {
                store: stores::OUTBOX,
                value: no_key.into(),
            },
        ])
        .await;
    assert!(
        matches!(result, Err(StorageError::Failed(ref why)) if why.contains("DataError")),
        "{result:?}"
    );
    assert_eq!(storage.cases().await.unwrap(), vec![]);
    assert_eq!(storage.draft("s-2").await.unwrap(), Some(kept));

    // The failed attempt leaves the database usable: the same finalize then goes through.
    storage.finalize(&done).await.unwrap();
    assert_eq!(storage.cases().await.unwrap().len(), 1);
    storage.close();
    Storage::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_pulled_page_merges_into_the_phone_once_and_moves_the_cursor() {
    let name = unique_name("pull");
    let storage = open_unlocked(&name).await;
    let mine = finalized("case-1", "sub-1", "op-1");
    storage.finalize(&mine).await.unwrap();
    assert_eq!(storage.cursor().await.unwrap(), PullPosition::default());

    // Another phone's visit on the same case, and a case this phone has never seen.
    let mut theirs = finalized("case-1", "sub-2", "op-2").operation;
    theirs.device = "0192b3c4-0000-7000-8000-00000000d002".into();
    theirs.hlc = cris_core::hlc::Hlc {
        wall_ms: 9_000,
        counter: 0,
        device: theirs.device.clone(),
    };
    let Change::Submit {
        submission,
        properties,
    } = &mut theirs.change
    else {
        unreachable!("made as a submission")
    };
    submission.id = "sub-2".into();
    properties.insert(
        "household_name".into(),
        cris_core::record::FieldWrite {
            value: "Familie Demir-Kaya".into(),
            seen: vec![mine.operation.hlc.clone()],
        },
    );
    let new_case = finalized("case-2", "sub-3", "op-3").operation;
    let page = [mine.operation.clone(), theirs.clone(), new_case];
    let device = "0192b3c4-0000-7000-8000-00000000d001";

    let at = |cursor| PullPosition {
        cursor,
        store: "store-a".into(),
    };
    let changed = storage
        .apply_pulled(&page, Some(&at(17)), device, 3.0, false)
        .await
        .unwrap();
    assert_eq!(changed, 2, "case-1 renamed, case-2 new");
    assert_eq!(storage.cursor().await.unwrap(), at(17));
    let case = storage.case("case-1").await.unwrap().unwrap();
    assert_eq!(case.household_name(), "Familie Demir-Kaya");
    assert!(storage.case("case-2").await.unwrap().is_some());
    assert_eq!(storage.submissions().await.unwrap().len(), 3);
    assert!(
        storage.outbox().await.unwrap().is_empty(),
        "the server has this phone's own operation: it leaves the outbox"
    );
    let clock = storage.clock(device).await.unwrap();
    assert!(
        clock.last().wall_ms >= 9_000,
        "stamps from now on sort after what was seen"
    );

    // The same page again (a retried pull) changes nothing.
    assert_eq!(
        storage
            .apply_pulled(&page, Some(&at(17)), device, 4.0, false)
            .await
            .unwrap(),
        0
    );
    assert_eq!(storage.case("case-1").await.unwrap().unwrap(), case);
    storage.close();
    Storage::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn refused_operations_stay_with_their_reason_until_accepted() {
    use cris_app::storage::Rejection;
    use cris_core::sync::Reason;
    let name = unique_name("push");
    let storage = open_unlocked(&name).await;
    for (case, sub, op) in [("c1", "s1", "o1"), ("c2", "s2", "o2"), ("c3", "s3", "o3")] {
        storage.finalize(&finalized(case, sub, op)).await.unwrap();
    }
    let refusal = Rejection {
        op_id: "o2".into(),
        reason: Reason::Invalid,
        message: "field \"household_name\": required".into(),
        detail: Some(cris_core::sync::Detail::Answers {
            field: "household_name".into(),
            problems: 1,
        }),
        at_ms: 5.0,
    };
    let batch = storage.outbox().await.unwrap();
    storage
        .record_push(
            &batch,
            &["o1".into(), "o3".into()],
            std::slice::from_ref(&refusal),
            "store-a",
            5.0,
        )
        .await
        .unwrap();
    let left: Vec<String> = storage
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.op_id)
        .collect();
    assert_eq!(left, ["o2"], "the refused one is kept");
    assert_eq!(storage.rejections().await.unwrap(), [refusal]);

    // Sent again later and accepted: gone, with its reason.
    let batch = storage.outbox().await.unwrap();
    storage
        .record_push(&batch, &["o2".into()], &[], "store-a", 6.0)
        .await
        .unwrap();
    assert!(storage.outbox().await.unwrap().is_empty());
    assert!(storage.rejections().await.unwrap().is_empty());
    storage.close();
    Storage::delete(&name).await.unwrap();
}

/// A form the server refused is taken back into a draft to correct: its answers in the draft,
/// its writes out of the household, and nothing of it left to send or to show as refused.
#[wasm_bindgen_test]
async fn a_refused_form_reopens_as_a_draft_with_its_answers() {
    use cris_app::storage::Rejection;
    use cris_core::sync::Reason;
    let name = unique_name("reopen");
    let storage = open_unlocked(&name).await;
    let done = finalized("c1", "s1", "o1");
    storage.finalize(&done).await.unwrap();
    let refusal = Rejection {
        op_id: "o1".into(),
        reason: Reason::Invalid,
        message: "field \"household_name\": required".into(),
        detail: Some(cris_core::sync::Detail::Answers {
            field: "household_name".into(),
            problems: 1,
        }),
        at_ms: 5.0,
    };
    let batch = storage.outbox().await.unwrap();
    storage
        .record_push(&batch, &[], std::slice::from_ref(&refusal), "store-a", 5.0)
        .await
        .unwrap();

    let reopened = storage
        .reopen_refused("o1", 9.0, "s-fresh")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reopened.id, "s1", "the same form, finalized again later");
    assert_eq!(reopened.case_id.as_deref(), Some("c1"));
    assert_eq!(reopened.answers, done.submission.answers);
    assert_eq!((reopened.started_at_ms, reopened.updated_at_ms), (1.0, 9.0));
    assert_eq!(storage.draft("s1").await.unwrap(), Some(reopened));
    assert!(storage.outbox().await.unwrap().is_empty());
    assert!(storage.rejections().await.unwrap().is_empty());
    assert!(storage.submissions_of("c1").await.unwrap().is_empty());
    let case = storage.case("c1").await.unwrap().unwrap();
    assert_eq!(case.household_name(), "", "its name goes with the form");
    // Gone from the outbox already: nothing more to reopen.
    assert_eq!(
        storage.reopen_refused("o1", 10.0, "s-fresh").await.unwrap(),
        None
    );
    // Discarded after all: nothing is left of the household either.
    storage.delete_draft("s1").await.unwrap();
    assert_eq!(storage.case("c1").await.unwrap(), None);
    // A household with a form keeps it when a draft for it is discarded.
    storage
        .finalize(&finalized("c2", "s2", "o2"))
        .await
        .unwrap();
    let mut visit = draft("s3", "Familie Demir", 11.0);
    visit.case_id = Some("c2".into());
    storage.put_draft(&visit).await.unwrap();
    storage.delete_draft("s3").await.unwrap();
    assert!(storage.case("c2").await.unwrap().is_some());

    // Refused because the server holds another form under its id: it comes back under a
    // new id, to be sent as the new form it is.
    storage
        .finalize(&finalized("c4", "s4", "o4"))
        .await
        .unwrap();
    let taken = Rejection {
        op_id: "o4".into(),
        reason: Reason::Invalid,
        message: "came already".into(),
        detail: Some(cris_core::sync::Detail::SubmissionTaken),
        at_ms: 12.0,
    };
    let batch = storage.outbox().await.unwrap();
    storage
        .record_push(&batch, &[], &[taken], "store-a", 12.0)
        .await
        .unwrap();
    let renamed = storage
        .reopen_refused("o4", 13.0, "s-fresh")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.id, "s-fresh");
    assert_eq!(storage.draft("s-fresh").await.unwrap(), Some(renamed));
    assert_eq!(storage.submission("s4").await.unwrap(), None);
    storage.close();
    Storage::delete(&name).await.unwrap();
}

/// The account leaves the phone (or another logs in): its households, records and key are
/// gone, in one go; the forms and the phone's clock stay.
/// What the server acknowledged is kept, sealed, for a while: sent again to a store of
/// another id (one restored from a backup), kept anew when acknowledged there, back in the
/// outbox with the reason when refused, and forgotten after its time.
#[wasm_bindgen_test]
async fn acknowledged_operations_are_kept_to_send_again_to_a_restored_store() {
    use cris_app::storage::Rejection;
    use cris_core::sync::Reason;
    let name = unique_name("sent");
    let storage = open_unlocked(&name).await;
    for (case, sub, op) in [("c1", "s1", "o1"), ("c2", "s2", "o2"), ("c3", "s3", "o3")] {
        storage.finalize(&finalized(case, sub, op)).await.unwrap();
    }
    let batch = storage.outbox().await.unwrap();
    let ids: Vec<String> = batch.iter().map(|o| o.op_id.clone()).collect();
    storage
        .record_push(&batch, &ids, &[], "store-a", 1_000.0)
        .await
        .unwrap();
    assert!(storage.outbox().await.unwrap().is_empty());
    assert!(storage.sent_elsewhere("store-a").await.unwrap().is_empty());
    // Sealed like every record: no household name in clear.
    assert_nowhere(&raw_dump(&name).await, &["Familie"]);

    // A store of another id: all three are to be sent again, oldest first.
    let kept = storage.sent_elsewhere("store-b").await.unwrap();
    let again: Vec<&str> = kept.iter().map(|(_, op)| op.op_id.as_str()).collect();
    assert_eq!(again, ["o1", "o2", "o3"]);
    assert_eq!(kept[0].1, batch[0], "the operation as it was sent");
    let refusal = Rejection {
        op_id: "o2".into(),
        reason: Reason::UnknownForm,
        message: "unknown form".into(),
        detail: None,
        at_ms: 2_000.0,
    };
    storage
        .record_resend(
            &kept,
            &["o1".into(), "o3".into()],
            std::slice::from_ref(&refusal),
            "store-b",
            2_000.0,
        )
        .await
        .unwrap();
    assert!(storage.sent_elsewhere("store-b").await.unwrap().is_empty());
    let outbox: Vec<String> = storage
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.op_id)
        .collect();
    assert_eq!(
        outbox,
        ["o2"],
        "the refused one is back, for the worker to see"
    );
    assert_eq!(storage.rejections().await.unwrap(), [refusal]);

    // Forgotten after their time: none left to send anywhere.
    assert_eq!(storage.forget_sent(1_500.0).await.unwrap(), 0);
    assert_eq!(storage.forget_sent(2_001.0).await.unwrap(), 2);
    assert!(storage.sent_elsewhere("store-c").await.unwrap().is_empty());
    storage.close();
    Storage::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn erasing_leaves_nothing_of_the_account_but_keeps_the_clock() {
    let name = unique_name("forget");
    let storage = open_unlocked(&name).await;
    let device = "0192b3c4-0000-7000-8000-00000000d001";
    let done = finalized("c-1", "s-1", "op-1");
    storage.finalize(&done).await.unwrap();
    let sent = finalized("c-3", "s-3", "op-3");
    storage.finalize(&sent).await.unwrap();
    storage
        .record_push(
            std::slice::from_ref(&sent.operation),
            &["op-3".into()],
            &[],
            "store-a",
            2.0,
        )
        .await
        .unwrap();
    let other = finalized("c-2", "s-2", "op-2");
    assert_eq!(
        storage
            .apply_pulled(
                std::slice::from_ref(&other.operation),
                Some(&PullPosition {
                    cursor: 9,
                    store: "store-a".into(),
                }),
                device,
                3.0,
                false,
            )
            .await
            .unwrap(),
        1
    );
    let form = StoredForm {
        id: "intake".into(),
        version: 1,
        json: "{}".into(),
    };
    storage.put_form(&form).await.unwrap();
    let clock = storage.clock(device).await.unwrap();

    storage.erase().await.unwrap();
    assert_eq!(storage.keyring().await.unwrap(), None);
    assert_eq!(storage.waiting_counts().await.unwrap(), (0, 0));
    assert_eq!(storage.cases().await, Err(StorageError::Locked));
    storage
        .create_key(
            "next-worker",
            "another password",
            4.0,
            PhonePolicy::default(),
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(storage.cases().await.unwrap(), vec![]);
    assert_eq!(storage.submissions_of("c-1").await.unwrap(), vec![]);
    assert_eq!(storage.submissions_of("c-2").await.unwrap(), vec![]);
    assert_eq!(storage.outbox().await.unwrap(), vec![]);
    assert!(storage.sent_elsewhere("store-b").await.unwrap().is_empty());
    assert_eq!(storage.rejections().await.unwrap().len(), 0);
    assert_eq!(
        storage.cursor().await.unwrap(),
        PullPosition::default(),
        "the next pull starts over"
    );
    assert_eq!(storage.form("intake").await.unwrap(), Some(form));
    assert_eq!(storage.clock(device).await.unwrap(), clock);
    storage.close();
    Storage::delete(&name).await.unwrap();
}

/// A consent as the phone keeps it (sealing is core's business; here it is only stored).
fn consent(id: &str, case_id: &str, device: &str) -> cris_core::consent::Consent {
    use cris_core::consent::*;
    let shown = |id: &str| ShownText {
        id: id.into(),
        version: 1,
        lang: cris_core::Lang::Bg,
        sha256: sha256_hex(id.as_bytes()),
    };
    Consent {
        id: id.into(),
        case_id: case_id.into(),
        notice: shown("notice"),
        text: shown("consent"),
        purposes: vec!["school_contact".into()],
        releases: vec![],
        signer: Signer {
            name: "Fatme Testova".into(),
            role: SignerRole::Themselves,
        },
        signature: Signature {
            width: 3000,
            height: 1000,
            strokes: vec![vec![
                Point {
                    x: 10,
                    y: 20,
                    t_ms: 0,
                    pressure: Some(500),
                },
                Point {
                    x: 2000,
                    y: 600,
                    t_ms: 16,
                    pressure: None,
                },
            ]],
        },
        witness: "ayse.w".into(),
        witness_name: None,
        interpreter: None,
        identity_check: IdentityCheck::IdCard,
        signed_at_ms: 5,
        device: device.into(),
        hlc: cris_core::hlc::Hlc {
            wall_ms: 5,
            counter: 0,
            device: device.into(),
        },
        binding: "b".repeat(64),
    }
}

fn consent_op(op_id: &str, c: &cris_core::consent::Consent) -> Operation {
    Operation {
        op_id: op_id.into(),
        device: c.device.clone(),
        hlc: c.hlc.clone(),
        created_at_ms: 5.0,
        case_id: c.case_id.clone(),
        change: Change::Consent {
            consent: Box::new(c.clone()),
        },
    }
}

#[wasm_bindgen_test]
async fn consents_are_kept_by_household_with_their_operations_and_arrive_by_pull() {
    use cris_app::storage::{ConsentDraft, ReleaseDraft, SavedConsent};
    use cris_core::consent::Record;
    let name = unique_name("consents");
    let storage = open_unlocked(&name).await;
    let device = "0192b3c4-0000-7000-8000-00000000d001";
    let mine = consent("k-1", "c-1", device);
    // Half-signed, the draft is kept; saving the consent removes it in the same transaction.
    let draft = ConsentDraft {
        case_id: "c-1".into(),
        lang: cris_core::Lang::Bg,
        step: 3,
        purposes: vec!["school_contact".into()],
        releases: vec![ReleaseDraft {
            recipient: "housing_office".into(),
            records: vec!["housing".into()],
            purpose: "housing_search".into(),
            until: "until".into(),
            date: "2030-06-30".into(),
        }],
        signature: mine.signature.clone(),
        signer: "Fatme".into(),
        role: cris_core::consent::SignerRole::Parent,
        interpreter: String::new(),
        identity: None,
    };
    storage.put_consent_draft(&draft).await.unwrap();
    assert_eq!(storage.consent_draft("c-1").await.unwrap(), Some(draft));
    assert_eq!(storage.consent_draft("c-2").await.unwrap(), None);
    let mut clock = storage.clock(device).await.unwrap();
    clock.stamp(10);
    storage
        .save_consents(
            &[SavedConsent {
                record: Record::Consent(Box::new(mine.clone())),
                operation: consent_op("op-k1", &mine),
            }],
            clock.clone(),
            Some("c-1"),
        )
        .await
        .unwrap();
    assert_eq!(storage.consent_draft("c-1").await.unwrap(), None);
    assert_eq!(
        storage.consents_of("c-1").await.unwrap(),
        vec![Record::Consent(Box::new(mine.clone()))],
        "read back to the last point of the signature"
    );
    assert_eq!(storage.consents_of("c-2").await.unwrap(), vec![]);
    assert_eq!(
        storage.outbox().await.unwrap(),
        vec![consent_op("op-k1", &mine)]
    );
    assert_eq!(storage.clock(device).await.unwrap(), clock);

    // Another phone's consent for another household comes with a pull; the phone's own
    // leaves the outbox when it comes back.
    let theirs = consent("k-2", "c-2", "0192b3c4-0000-7000-8000-00000000d002");
    storage
        .apply_pulled(
            &[consent_op("op-k1", &mine), consent_op("op-k2", &theirs)],
            Some(&PullPosition {
                cursor: 2,
                store: "s".into(),
            }),
            device,
            20.0,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        storage.consents_of("c-2").await.unwrap(),
        vec![Record::Consent(Box::new(theirs))]
    );
    assert_eq!(storage.outbox().await.unwrap(), vec![]);
    assert_eq!(
        storage.submissions().await.unwrap(),
        vec![],
        "no submission"
    );

    storage.close();
    // Who signed, and the signature's points, are nowhere in clear.
    let points = serde_json::to_string(&mine.signature.strokes).unwrap();
    assert_nowhere(
        &raw_dump(&name).await,
        &["Fatme", "housing_office", "school_contact", &points[..24]],
    );
    let storage = Storage::open_named(&name).await.unwrap();
    storage.erase().await.unwrap();
    storage
        .create_key(
            "next-worker",
            "another password",
            4.0,
            PhonePolicy::default(),
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(storage.consents_of("c-1").await.unwrap(), vec![]);
    assert_eq!(storage.consents_of("c-2").await.unwrap(), vec![]);
    storage.close();
    Storage::delete(&name).await.unwrap();
}

/// The texts kept on the phone must render to the very bytes they rendered to before: a
/// consent's hash is taken over them.
#[wasm_bindgen_test]
async fn the_consent_texts_come_back_rendering_the_same_words() {
    use cris_core::api::ConsentSetup;
    use cris_core::consent::text::ConsentText;
    let name = unique_name("setup");
    let storage = open_unlocked(&name).await;
    assert!(storage.consent_setup().await.unwrap().is_none());
    use cris_core::consent::text::{Agency, Detail, PLACEHOLDERS, PROSE};
    // Names one text for all languages, prose one per language: both come back as they were.
    let agency: Agency = PLACEHOLDERS
        .iter()
        .map(|p| {
            let detail = if PROSE.contains(p) {
                Detail::PerLang(
                    cris_core::Lang::ALL
                        .into_iter()
                        .map(|l| (l, format!("{p} in {l} – Ünïcödé")))
                        .collect(),
                )
            } else {
                Detail::Same(format!("Beispiel {p} – Ünïcödé"))
            };
            ((*p).to_owned(), detail)
        })
        .collect();
    let texts: Vec<ConsentText> = [
        include_str!("../../forms/consent/notice.json"),
        include_str!("../../forms/consent/consent.json"),
    ]
    .into_iter()
    .map(|json| ConsentText::from_json(json).unwrap())
    .collect();
    let setup = ConsentSetup {
        agency: agency.clone(),
        texts: texts.clone(),
    };
    storage.put_consent_setup(&setup).await.unwrap();
    let back = storage.consent_setup().await.unwrap().unwrap();
    assert_eq!(back.agency, agency);
    for (before, after) in texts.iter().zip(&back.texts) {
        for lang in cris_core::Lang::ALL {
            assert_eq!(
                before.shown(lang, &agency).unwrap(),
                after.shown(lang, &back.agency).unwrap(),
                "{} in {lang}",
                before.id
            );
        }
    }
    storage.close();
    Storage::delete(&name).await.unwrap();
}

/// The date of the last contact with the server, which decides whether the phone may still
/// open offline, is sealed: deleting it or putting another in clear does not extend the limit.
#[wasm_bindgen_test]
async fn the_offline_limit_cannot_be_moved_on_the_phone() {
    const DAY: f64 = 86_400_000.0;
    let name = unique_name("reached");
    let storage = Storage::open_named(&name).await.unwrap();
    let at = 1_800_000_000_000.0;
    storage
        .create_key(LOGIN, PASSWORD, at, PhonePolicy::default(), Vec::new())
        .await
        .unwrap();
    assert_eq!(storage.away_too_long(at + 29.0 * DAY).await.unwrap(), None);
    assert_eq!(
        storage.away_too_long(at + 31.0 * DAY).await.unwrap(),
        Some(30)
    );
    // Reaching the server again moves it, by the rules the server sent.
    let strict = PhonePolicy {
        lock_after_s: 60,
        offline_days: 7,
    };
    storage
        .reached_server(at + 31.0 * DAY, Some(strict))
        .await
        .unwrap();
    assert_eq!(storage.away_too_long(at + 37.0 * DAY).await.unwrap(), None);
    assert_eq!(
        storage.away_too_long(at + 39.0 * DAY).await.unwrap(),
        Some(7)
    );

    // Replaced in clear, claiming a recent contact and a generous limit: it does not open.
    let forged = serde_json::json!({
        "key": "reached",
        "value": {"at_ms": at + 38.0 * DAY, "policy": {"lock_after_s": 300, "offline_days": 3650}}
    });
    storage
        .commit(vec![Write::PutClear {
            store: stores::META,
            value: legacy(&forged),
        }])
        .await
        .unwrap();
    assert!(matches!(
        storage.away_too_long(at + 39.0 * DAY).await,
        Err(StorageError::Unreadable(_))
    ));
    // Deleted: the phone counts as away.
    storage
        .commit(vec![Write::Delete {
            store: stores::META,
            key: "reached".into(),
        }])
        .await
        .unwrap();
    assert_eq!(storage.away_too_long(at + 1.0).await.unwrap(), Some(30));
    storage.close();
    Storage::delete(&name).await.unwrap();
}

const DEVICE: &str = "0192b3c4-0000-7000-8000-00000000d001";

fn at_store_a(cursor: i64) -> PullPosition {
    PullPosition {
        cursor,
        store: "store-a".into(),
    }
}

/// A phone holding the household `case-1`: its intake (`op-1`) sent, kept as sent and
/// pulled back with another phone's consent (`k-1`), a form finalized offline since (`op-3`,
/// in the outbox) and a visit begun (the draft `d-1`); and the household `case-2`, whose
/// intake (`op-2`) waits in the outbox.
async fn holding_case_1(storage: &Storage) -> (Finalized, Finalized, Draft) {
    let first = finalized("case-1", "sub-1", "op-1");
    storage.finalize(&first).await.unwrap();
    storage
        .record_push(
            std::slice::from_ref(&first.operation),
            &["op-1".to_owned()],
            &[],
            "store-a",
            5.0,
        )
        .await
        .unwrap();
    storage
        .finalize(&finalized("case-2", "sub-2", "op-2"))
        .await
        .unwrap();
    let theirs = consent("k-1", "case-1", "0192b3c4-0000-7000-8000-00000000d002");
    storage
        .apply_pulled(
            &[first.operation.clone(), consent_op("op-k1", &theirs)],
            Some(&at_store_a(2)),
            DEVICE,
            10.0,
            false,
        )
        .await
        .unwrap();
    let mut waiting = finalized("case-1", "sub-3", "op-3");
    waiting.case = storage.case("case-1").await.unwrap().unwrap();
    storage.finalize(&waiting).await.unwrap();
    let mut begun = draft("d-1", "Familie Demir", 20.0);
    begun.case_id = Some("case-1".into());
    storage.put_draft(&begun).await.unwrap();
    (first, waiting, begun)
}

/// An operation of another device on `case_id` that is no form.
fn change_op(op_id: &str, case_id: &str, change: Change) -> Operation {
    let device = "0192b3c4-0000-7000-8000-00000000d002";
    Operation {
        op_id: op_id.into(),
        device: device.into(),
        hlc: cris_core::hlc::Hlc {
            wall_ms: 50,
            counter: 0,
            device: device.into(),
        },
        created_at_ms: 50.0,
        case_id: case_id.into(),
        change,
    }
}

#[wasm_bindgen_test]
async fn a_closed_household_leaves_a_workers_phone_but_what_waits_to_be_sent() {
    use cris_core::record::CloseReason;
    let name = unique_name("closed");
    let storage = open_unlocked(&name).await;
    let device = DEVICE;
    let at = at_store_a;
    // Made offline before the phone heard of the closing: a form and a draft.
    let (first, waiting, begun) = holding_case_1(&storage).await;

    let closing = change_op(
        "op-close",
        "case-1",
        Change::Close {
            reason: CloseReason::MovedAway,
        },
    );
    storage
        .apply_pulled(
            std::slice::from_ref(&closing),
            Some(&at(3)),
            device,
            30.0,
            false,
        )
        .await
        .unwrap();
    assert_eq!(storage.case("case-1").await.unwrap(), None);
    let ids = |subs: Vec<Submission>| subs.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(storage.submissions_of("case-1").await.unwrap()),
        ["sub-3"],
        "what waits to be sent stays"
    );
    assert!(storage.consents_of("case-1").await.unwrap().is_empty());
    assert_eq!(storage.draft("d-1").await.unwrap(), Some(begun));
    let shown: Vec<String> = storage
        .households()
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(shown, ["case-2"]);
    let departed = storage.departed().await.unwrap();
    assert!(departed.closed.contains("case-1"));
    assert_eq!(departed.untold, 1);

    // Sent and the draft dropped: the rest goes at the next pull, and the phone forgets it.
    storage
        .record_push(
            std::slice::from_ref(&waiting.operation),
            &["op-3".to_owned()],
            &[],
            "store-a",
            40.0,
        )
        .await
        .unwrap();
    storage.delete_draft("d-1").await.unwrap();
    storage
        .apply_pulled(&[], Some(&at(3)), device, 50.0, false)
        .await
        .unwrap();
    assert!(storage.submissions_of("case-1").await.unwrap().is_empty());
    assert!(storage.departed().await.unwrap().closed.is_empty());
    storage.departures_told().await.unwrap();
    assert_eq!(storage.departed().await.unwrap().untold, 0);

    // A supervisor's device keeps a closed household.
    let closing_2 = change_op(
        "op-close-2",
        "case-2",
        Change::Close {
            reason: CloseReason::GoalsReached,
        },
    );
    storage
        .apply_pulled(
            std::slice::from_ref(&closing_2),
            Some(&at(4)),
            device,
            60.0,
            true,
        )
        .await
        .unwrap();
    let kept = storage.case("case-2").await.unwrap().unwrap();
    assert_eq!(
        kept.closed(),
        Some(("op-close-2", CloseReason::GoalsReached))
    );

    // Reopened: the phone notes that it must read the household's history.
    let reopening = change_op(
        "op-reopen",
        "case-1",
        Change::Reopen {
            close: "op-close".into(),
        },
    );
    storage
        .apply_pulled(
            std::slice::from_ref(&reopening),
            Some(&at(5)),
            device,
            70.0,
            false,
        )
        .await
        .unwrap();
    assert!(
        storage
            .departed()
            .await
            .unwrap()
            .reopened
            .contains("case-1")
    );
    storage
        .apply_pulled(
            &[first.operation.clone(), closing, reopening],
            None,
            device,
            80.0,
            false,
        )
        .await
        .unwrap();
    storage.history_read("case-1").await.unwrap();
    assert_eq!(storage.departed().await.unwrap(), Default::default());
    assert_eq!(
        ids(storage.submissions_of("case-1").await.unwrap()),
        ["sub-1"]
    );
    assert_eq!(
        storage.cursor().await.unwrap(),
        at(5),
        "a history moves no cursor"
    );
    storage.close();
    Storage::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn an_erased_household_leaves_the_phone_whole_drafts_and_unsent_entries_too() {
    let name = unique_name("erased");
    let storage = open_unlocked(&name).await;
    let (device, at) = (DEVICE, at_store_a);
    holding_case_1(&storage).await;

    let erasure = change_op("op-erase", "case-1", Change::Erase {});
    storage
        .apply_pulled(
            std::slice::from_ref(&erasure),
            Some(&at(3)),
            device,
            30.0,
            false,
        )
        .await
        .unwrap();
    assert_eq!(storage.case("case-1").await.unwrap(), None);
    assert!(storage.submissions_of("case-1").await.unwrap().is_empty());
    assert!(storage.consents_of("case-1").await.unwrap().is_empty());
    assert_eq!(storage.draft("d-1").await.unwrap(), None);
    let outbox: Vec<String> = storage
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|op| op.op_id)
        .collect();
    assert_eq!(outbox, ["op-2"], "only the other household's form waits");
    assert!(
        storage.sent_elsewhere("store-b").await.unwrap().is_empty(),
        "nothing of it is kept to send again"
    );
    let departed = storage.departed().await.unwrap();
    assert_eq!(departed.erased_untold, 1);
    assert!(departed.erased.is_empty(), "done");
    assert!(storage.case("case-2").await.unwrap().is_some());
    storage.close();
    Storage::delete(&name).await.unwrap();
}
