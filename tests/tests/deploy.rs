//! The app as an agency deploys it: over HTTPS at a name that is not `localhost` (where a
//! phone installs it and works without signal), with a certificate renewed while it runs,
//! plain HTTP sent to HTTPS, and a Content-Security-Policy that stops what is injected.

use std::sync::Arc;

use cris_core::api::Role;
use cris_e2e::https::{self, HOST, TestCa};
use cris_e2e::phone::{self, PASSWORD, TEAM};
use cris_e2e::{Browser, Chromedriver, TestServer, built_app_dir, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_at_a_real_name_the_app_installs_and_works_without_signal() {
    let ca = TestCa::new();
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    let issued = ca.issue(HOST, &cert, &key);
    let tls = Arc::new(cris_server::Tls::load(&cert, &key).unwrap());
    let server = TestServer::start_https(&built_app_dir(), tls, HOST).await;
    server
        .add_account("ayse.w", "Ayşe Testfrau", Role::Worker, TEAM, PASSWORD)
        .await;
    assert!(server.url("/").starts_with("https://cris-field.test:"));

    let driver = Chromedriver::start().await;
    let b = Browser::open_with_args(
        &driver,
        412,
        915,
        "de",
        &https::chromium_args(HOST, &issued),
    )
    .await;
    phone::first_login(&b, &server, "ayse.w").await;
    let page = b
        .eval("return [location.protocol, location.hostname, window.isSecureContext];")
        .await;
    assert_eq!(page, serde_json::json!(["https:", HOST, true]));
    phone::record_synced_household(&b, "Kaya").await;
    b.wait_for_service_worker().await;

    // No signal: the app starts from the service worker, unlocks and shows the household.
    b.set_offline(true).await;
    phone::reload(&b).await;
    b.wait_for_xpath("//*[contains(normalize-space(), 'Kaya')]")
        .await;
    phone::open_case(&b, "Kaya").await;
    b.set_offline(false).await;
    b.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_renewed_certificate_is_used_without_a_restart() {
    let ca = TestCa::new();
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    let first = ca.issue(HOST, &cert, &key);
    let tls = Arc::new(cris_server::Tls::load(&cert, &key).unwrap());
    let server = TestServer::start_https(&built_app_dir(), tls, HOST).await;

    let answer = https::get(&ca, server.addr, HOST, "/api/health")
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.certificate, first.der);
    assert_eq!(
        answer.header("strict-transport-security"),
        Some("max-age=31536000")
    );

    let renewed = ca.issue(HOST, &cert, &key);
    assert_ne!(renewed.der, first.der);
    wait_until("the renewed certificate to be shown", || async {
        let answer = https::get(&ca, server.addr, HOST, "/api/health")
            .await
            .ok()?;
        (answer.certificate == renewed.der).then_some(())
    })
    .await;

    // A renewal written wrong keeps the certificate in use: nobody is locked out.
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
    let broken = std::time::Instant::now();
    wait_until(
        "the broken files to be looked at and passed over",
        || async {
            let answer = https::get(&ca, server.addr, HOST, "/api/health")
                .await
                .ok()?;
            assert_eq!(answer.certificate, renewed.der);
            // The files are looked at once a second at most: answers for over two seconds after
            // the breakage have surely seen it.
            (broken.elapsed().as_millis() > 2_500).then_some(())
        },
    )
    .await;

    // Plain HTTP on the HTTPS port gets no page.
    let plain = reqwest::get(format!("http://{}/api/health", server.addr)).await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
    server.stop().await;
}

#[tokio::test]
async fn plain_http_is_sent_to_https() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(cris_server::redirect_to_https(listener, 8443, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .get(format!("http://{addr}/cases/0192b3c4?tab=history"))
        .header("host", format!("{HOST}:80"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(
        res.headers()["location"],
        format!("https://{HOST}:8443/cases/0192b3c4?tab=history")
    );
    // A Host that is not a name is refused, not echoed into a Location.
    let res = client
        .get(format!("http://{addr}/"))
        .header("host", "evil.example/\"><script>")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

/// What an injected script would do (a form value shown as HTML, a poisoned form definition)
/// is blocked by the browser under the server's policy, and reported to the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_blocks_injected_script_and_the_browser_reports_it() {
    let server = phone::team_server().await;
    let driver = Chromedriver::start().await;
    let b = Browser::open(&driver, 412, 915, "de").await;
    phone::first_login(&b, &server, "ayse.w").await;
    let ran = b
        .eval(
            "window.__injected = [];
             document.body.insertAdjacentHTML('beforeend',
               '<img id=\"injected\" src=\"/nothing.png\" onerror=\"window.__injected.push(1)\">');
             const failed = new Promise((r) => document.getElementById('injected').addEventListener('error', r));
             const s = document.createElement('script');
             s.textContent = 'window.__injected.push(2)';
             document.body.appendChild(s);
             const a = document.createElement('a');
             a.setAttribute('href', 'javascript:window.__injected.push(3)');
             document.body.appendChild(a);
             a.click();
             // A string run by the page's own timer (this test's script itself, run by the
             // driver, is exempt from the policy).
             setTimeout('window.__injected.push(4)', 0);
             const framed = document.createElement('div');
             framed.setAttribute('style', 'display:none');
             document.body.appendChild(framed);
             await failed;
             await new Promise((r) => setTimeout(r, 0));
             return [window.__injected, getComputedStyle(framed).display];",
        )
        .await;
    assert_eq!(
        ran,
        serde_json::json!([[], "block"]),
        "no injected script ran, no style attribute applied"
    );
    wait_until("the browser's reports to reach the server", || async {
        (server.csp_reports() >= 3).then_some(())
    })
    .await;
    b.close().await;
    // Late reports of the same attack are not the app's own violations.
    server.take_csp_reports();
    server.stop().await;
}
