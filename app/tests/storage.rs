//! The storage module in real IndexedDB, in headless Chromium (`make test` runs these with
//! wasm-bindgen's test runner). Every test uses a database of its own and deletes it.
#![cfg(target_arch = "wasm32")]

use cris_app::storage::{Draft, SCHEMA_VERSION, Storage, stores};
use cris_core::form::Answers;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn unique_name(test: &str) -> String {
    format!("cris-test-{test}-{}", js_sys::Math::random())
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
        updated_at_ms: saved_at,
    }
}

#[wasm_bindgen_test]
async fn a_new_database_has_every_store() {
    let name = unique_name("stores");
    let storage = Storage::open_named(&name).await.unwrap();
    let mut names = storage.store_names();
    names.sort();
    assert_eq!(
        names,
        [
            stores::CASES,
            stores::DRAFTS,
            stores::META,
            stores::OUTBOX,
            stores::SUBMISSIONS
        ]
    );
    assert_eq!(SCHEMA_VERSION, 1);
    storage.close();
    Storage::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_draft_comes_back_to_the_letter() {
    let name = unique_name("roundtrip");
    let storage = Storage::open_named(&name).await.unwrap();
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
        let storage = Storage::open_named(&name).await.unwrap();
        storage.put_draft(&saved).await.unwrap();
        storage.close();
    }
    let storage = Storage::open_named(&name).await.unwrap();
    assert_eq!(storage.drafts().await.unwrap(), vec![saved]);
    storage.close();
    Storage::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn saving_again_replaces_and_the_newest_comes_first() {
    let name = unique_name("list");
    let storage = Storage::open_named(&name).await.unwrap();
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
