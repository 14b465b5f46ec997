//! Forms as XLSForm spreadsheets: the shipped forms go out and come back the same; a form
//! written for ODK with what CRIS Field lacks is refused with every problem, each at its sheet,
//! row and column with what to write instead; the command line writes what the server serves.

use std::process::Command;

use cris_server::FormCatalog;
use cris_server::xlsform::{self, Problem};
use rust_xlsxwriter::Workbook;

#[test]
fn the_shipped_forms_go_out_to_xlsform_and_come_back_the_same() {
    for form in FormCatalog::embedded().unwrap().all() {
        let bytes = xlsform::write(&form).unwrap();
        let back = xlsform::read(&bytes).unwrap_or_else(|e| panic!("{}: {e}", form.id));
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&*form).unwrap(),
            "{}",
            form.id
        );
    }
}

/// A workbook of `sheets`: (name, rows of cells, the first the headings).
fn workbook(sheets: &[(&str, Vec<Vec<&str>>)]) -> Vec<u8> {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet().set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if !cell.is_empty() {
                    sheet.write_string(r as u32, c as u16, *cell).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

const LANGS: [&str; 6] = ["de", "tr", "bg", "en", "hu", "sk"];

fn settings() -> (&'static str, Vec<Vec<&'static str>>) {
    let mut headings = vec!["form_id", "version"];
    let mut row = vec!["odk_visit", "1"];
    for code in LANGS {
        headings.push(match code {
            "de" => "form_title::German (de)",
            "tr" => "form_title::tr",
            "bg" => "form_title::bg",
            "en" => "form_title::English (en)",
            "hu" => "form_title::hu",
            _ => "form_title::sk",
        });
        row.push("Besuch");
    }
    ("settings", vec![headings, row])
}

fn problems(bytes: &[u8]) -> Vec<Problem> {
    xlsform::read(bytes).expect_err("refused").0
}

#[test]
fn an_odk_form_with_what_we_lack_is_refused_with_every_problem_where_it_is() {
    let labels = "label::German (de)|label::Turkish (tr)|label::Bulgarian (bg)|label::English (en)|label::Hungarian (hu)|label::Slovak (sk)";
    let mut headings = vec!["type", "name"];
    headings.extend(labels.split('|'));
    headings.extend(["appearance", "choice_filter", "label::Klingon (tlh)"]);
    let six = |text| vec![text; 6];
    let row = |kind: &'static str, name: &'static str, appearance: &'static str| {
        let mut r = vec![kind, name];
        r.extend(six("Frage"));
        r.push(appearance);
        r
    };
    let mut english_only = vec!["text", "remarks", "", "", "", "Remarks", "", ""];
    english_only.push("");
    let survey = vec![
        headings,
        row("geopoint", "location", ""),
        row("select_one colours", "colour", "minimal"),
        english_only,
        row("begin repeat", "people", ""),
        row("text", "person", ""),
    ];
    let bytes = workbook(&[("survey", survey), settings()]);
    let found = problems(&bytes);
    let said: Vec<String> = found.iter().map(ToString::to_string).collect();
    let has = |part: &str| {
        assert!(
            said.iter().any(|p| p.contains(part)),
            "{part:?} not in {said:#?}"
        );
    };
    has(
        "sheet \"survey\", row 1, column J (choice_filter): CRIS Field has no column \"choice_filter\"",
    );
    has(
        "row 1, column K (label::Klingon (tlh)): \"Klingon (tlh)\" is not a language of CRIS Field",
    );
    has(
        "row 2, column A (type): CRIS Field has no question type \"geopoint\": locations are not recorded",
    );
    has("row 3, column A (type): there is no choice list \"colours\"");
    has("row 3, column I (appearance): the appearance \"minimal\" is not supported");
    has("row 4, column C (label::German (de)): label is missing in de, tr, bg, hu, sk");
    has("row 5, column A (type): this repeat is never ended: add end repeat");
    assert_eq!(found.len(), 7, "{said:#?}");

    // Not a spreadsheet, or no survey: said so.
    let junk = problems(b"not a workbook").remove(0).to_string();
    assert!(junk.contains("not an .xlsx spreadsheet"), "{junk}");
    let bare = problems(&workbook(&[settings()]));
    assert_eq!(
        bare[0].to_string(),
        "sheet \"survey\": the sheet is missing"
    );
}

#[test]
fn a_changed_question_goes_through_the_command_line_to_a_form_the_server_serves() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = dir.path().join("home_visit.xlsx");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cris-server"))
            .args(args)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        // What went wrong is logged (to standard output, as every command's log).
        let everything = format!("{said}{}", String::from_utf8_lossy(&out.stderr));
        (out.status.success(), said, everything)
    };
    let (ok, said, _) = run(&[
        "forms",
        "export",
        "home_visit",
        "--out",
        sheet.to_str().unwrap(),
    ]);
    assert!(ok && said.contains("home_visit version 3"), "{said}");

    // The agency changes a label in the spreadsheet and raises the version.
    let form = xlsform::read(&std::fs::read(&sheet).unwrap()).unwrap();
    let mut json = serde_json::to_value(&form).unwrap();
    json["version"] = 4.into();
    json["fields"][0]["fields"][5]["label"]["de"] = "Anwesende Personen (Vornamen)".into();
    let changed: cris_core::form::FormDef = serde_json::from_value(json).unwrap();
    std::fs::write(&sheet, xlsform::write(&changed).unwrap()).unwrap();

    let forms = dir.path().join("forms");
    let (ok, said, err) = run(&[
        "forms",
        "import",
        sheet.to_str().unwrap(),
        "--out",
        forms.to_str().unwrap(),
    ]);
    assert!(ok, "{said} {err}");
    assert!(said.contains("home_visit version 4"), "{said}");
    let served = FormCatalog::from_dir(&forms)
        .unwrap()
        .get("home_visit")
        .unwrap();
    assert_eq!(served.version, 4);
    assert_eq!(
        served
            .field("present")
            .unwrap()
            .label
            .get(cris_core::Lang::De),
        "Anwesende Personen (Vornamen)"
    );

    // A broken spreadsheet: said so, nothing written.
    std::fs::write(&sheet, b"broken").unwrap();
    let (ok, _, err) = run(&["forms", "import", sheet.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("not an .xlsx spreadsheet"), "{err}");
    let (ok, _, err) = run(&["forms", "export", "nothing", "--out", "/tmp/x.xlsx"]);
    assert!(!ok && err.contains("no form \"nothing\""), "{err}");
}

use crate::support::{
    PHONE_A, TEAM, TestServer, error, get_json, intake, kind, new_uuid, now, on_both, push_applied,
    submission_mut, submit_op,
};
use cris_core::api::{ErrorCode, FormSummary, Role};
use cris_core::form::FormDef;
use reqwest::StatusCode;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn publish(
    server: &TestServer,
    token: Option<&str>,
    kind: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut req = server
        .client
        .post(server.url("/api/v1/forms"))
        .header(reqwest::header::CONTENT_TYPE, kind)
        .body(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn an_admin_publishes_a_form_that_is_served_at_once_and_after_a_restart() {
    on_both(|server| async move {
        let anna = server.account("anna.a", Role::Admin, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let served: FormDef = get_json(&server, &ayse, "/api/v1/forms/home_visit").await;
        assert_eq!(served.version, 3);
        let mut json = serde_json::to_value(&served).unwrap();
        json["version"] = 4.into();
        json["fields"][0]["fields"][5]["label"]["de"] = "Anwesende (Vornamen)".into();
        let changed: FormDef = serde_json::from_value(json.clone()).unwrap();
        let sheet = xlsform::write(&changed).unwrap();

        // Only administrators publish; bad uploads are told what is wrong.
        for (token, status, code) in [
            (
                Some(ayse.as_str()),
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
            ),
            (
                Some(sara.as_str()),
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
            ),
            (None, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
        ] {
            let res = publish(&server, token, XLSX, sheet.clone()).await;
            error(res, status, code).await;
        }
        let res = publish(&server, Some(&anna), "text/csv", b"type,name".to_vec()).await;
        let said = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        assert!(said.contains("as an XLSForm"), "{said}");
        let res = publish(&server, Some(&anna), XLSX, b"broken".to_vec()).await;
        let said = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        assert!(said.contains("not an .xlsx spreadsheet"), "{said}");
        let res = publish(
            &server,
            Some(&anna),
            "application/json",
            b"{\"id\": 1".to_vec(),
        )
        .await;
        error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        let huge = vec![b'x'; 3 * 1024 * 1024];
        let res = publish(&server, Some(&anna), XLSX, huge).await;
        error(
            res,
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
        )
        .await;
        let forms: Vec<FormSummary> = get_json(&server, &ayse, "/api/v1/forms").await;
        assert!(forms.iter().any(|f| f.id == "home_visit" && f.version == 3));
        // Two more servers on the same store, started before the form is published.
        let started = async || {
            server
                .sharing_store(
                    FormCatalog::embedded()
                        .unwrap()
                        .remember_in(&server.store, 0)
                        .await
                        .unwrap(),
                )
                .await
        };
        let (listing, pushed_to) = (started().await, started().await);

        // Published: served at once, and again as it is.
        let res = publish(&server, Some(&anna), XLSX, sheet.clone()).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", kind(&server));
        let summary: FormSummary = res.json().await.unwrap();
        assert_eq!((summary.id.as_str(), summary.version), ("home_visit", 4));
        let now_served: FormDef = get_json(&server, &ayse, "/api/v1/forms/home_visit").await;
        assert_eq!(now_served.version, 4);
        assert_eq!(
            now_served
                .field("present")
                .unwrap()
                .label
                .get(cris_core::Lang::De),
            "Anwesende (Vornamen)"
        );
        let again = publish(&server, Some(&anna), XLSX, sheet.clone()).await;
        assert_eq!(again.status(), StatusCode::OK);
        // The other servers take it up at their next look: the list a phone asks for at
        // every sync, and a push of a visit in the new version.
        let serves_v4 = async |server: &TestServer| {
            let listed: Vec<FormSummary> = get_json(server, &ayse, "/api/v1/forms").await;
            assert!(
                listed
                    .iter()
                    .any(|f| f.id == "home_visit" && f.version == 4),
                "{listed:?}"
            );
        };
        serves_v4(&listing).await;
        let there: FormDef = get_json(&listing, &ayse, "/api/v1/forms/home_visit").await;
        assert_eq!(there.version, 4);

        // A form changed under a version that exists, or an older version: refused.
        json["fields"][0]["fields"][5]["label"]["de"] = "Anwesend".into();
        let res = publish(
            &server,
            Some(&anna),
            "application/json",
            json.to_string().into(),
        )
        .await;
        let said = error(res, StatusCode::CONFLICT, ErrorCode::BadRequest).await;
        assert!(said.contains("version 5 or higher"), "{said}");

        // Visits filled in version 3 (a phone offline meanwhile) and in version 4: both taken.
        let case_id = new_uuid();
        push_applied(&server, &ayse, &[intake(&case_id, PHONE_A)]).await;
        let old = submit_op("home_visit", &case_id, PHONE_A, now(), &[], &[]);
        let mut new = submit_op("home_visit", &case_id, PHONE_A, now() + 1, &[], &[]);
        submission_mut(&mut new).form_version = 4;
        crate::support::steps_due(submission_mut(&mut new), "2099-01-01");
        let mut old = old;
        crate::support::steps_due(submission_mut(&mut old), "2099-01-01");
        push_applied(&pushed_to, &ayse, &[old, new]).await;

        // Recorded, and served by a server started later on the same store.
        let trail = server
            .store
            .audit_entries(&Default::default())
            .await
            .unwrap();
        let published: Vec<_> = trail
            .iter()
            .filter(|e| e.action == "publish_form")
            .map(|e| (e.login.as_deref(), e.form.as_deref()))
            .collect();
        assert_eq!(published, [(Some("anna.a"), Some("home_visit@4"))]);
        let restarted = started().await;
        serves_v4(&restarted).await;
    })
    .await;
}
