//! End to end in a real browser (headless Chromium driven over WebDriver): an
//! admin deploys the demo and creates the people of both lanes, who start it
//! and complete their tasks from their inboxes; the instance page then shows
//! it completed with its history. Screenshots of the inbox and the instance
//! page are saved under `target/screenshots/` for review. A second test
//! changes a password, meets a refused task form, tells instances apart in
//! the list and travels back in an instance's history (screenshots of a task,
//! the list and a past view).
//!
//! Skips with a note when Chromium or chromedriver is not installed (`.ci/run`
//! installs them).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::common::app::TestApp;
use crate::common::db::TestDb;
use crate::common::rt::Shorthand;

const CHROME: &str = "/usr/bin/chromium";
const DRIVER: &str = "/usr/bin/chromedriver";

struct Driver {
    child: Child,
    _tmp: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_browser() -> Option<(Client, Driver)> {
    if !Path::new(CHROME).exists() || !Path::new(DRIVER).exists() {
        eprintln!(
            "note: {CHROME} or {DRIVER} is missing; skipping the browser test (.ci/run installs them)"
        );
        return None;
    }
    // Chromium leaves scoped directories in TMPDIR: give it its own.
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(DRIVER)
        .arg(format!("--port={port}"))
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver { child, _tmp: tmp };
    let profile = driver._tmp.path().join("profile");
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": CHROME,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    for _ in 0..50 {
        let connected =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.as_object().unwrap().clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
        if let Ok(c) = connected {
            return Some((c, driver));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not come up");
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn fill(c: &Client, css: &str, text: &str) {
    let el = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// The text of the page's `main`; a page still loading after a click is
/// read again once it has settled.
async fn text(c: &Client) -> String {
    let mut last = None;
    for _ in 0..50 {
        match c.find(Locator::Css("main")).await {
            Ok(el) => match el.text().await {
                Ok(t) => return t,
                Err(e) => last = Some(e),
            },
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("cannot read the page: {last:?}")
}

async fn login(c: &Client, base: &str, name: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "#name", name).await;
    fill(c, "#password", password).await;
    click(c, "form button[type=submit]").await;
    // The login page has a heading too: wait for the inbox's.
    c.wait()
        .for_element(Locator::XPath("//h1[contains(., 'Inbox')]"))
        .await
        .unwrap();
    assert!(text(c).await.contains("Inbox"), "{name} is logged in");
}

async fn logout(c: &Client) {
    click(c, "form.who button").await;
    c.wait()
        .for_element(Locator::Css("#password"))
        .await
        .unwrap();
}

/// Opens the first task of the inbox whose name is `name`, completes it with
/// `option` (if the form has that field), and returns to the inbox.
async fn complete(c: &Client, base: &str, name: &str, option: Option<&str>) {
    c.goto(&format!("{base}/tasks")).await.unwrap();
    c.find(Locator::LinkText(name))
        .await
        .unwrap_or_else(|e| panic!("task {name} in the inbox: {e}"))
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form[novalidate] button.primary"))
        .await
        .unwrap();
    if let Some(v) = option {
        fill(c, "#f-option", v).await;
    }
    click(c, "form[novalidate] button.primary").await;
    c.wait().for_element(Locator::Css("p.flash")).await.unwrap();
    assert!(text(c).await.contains(&format!("Completed \"{name}\"")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_in_a_real_browser() {
    let Some((c, _driver)) = start_browser().await else {
        return;
    };
    let app = TestApp::start(TestDb::sqlite().await).await;
    let base = app.base.clone();

    // The admin deploys the demo and creates the people of both lanes.
    login(&c, &base, "admin", "admin-password").await;
    c.goto(&format!("{base}/definitions")).await.unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpmn/demo.bpmn");
    c.find(Locator::Css("input[type=file]"))
        .await
        .unwrap()
        .send_keys(&demo.display().to_string())
        .await
        .unwrap();
    click(&c, "form.upload button").await;
    c.wait()
        .for_element(Locator::Css("section.report"))
        .await
        .unwrap();
    assert!(text(&c).await.contains("demo.bpmn deployed"));
    for (name, group) in [("marko", "Marko"), ("pero", "Pero")] {
        c.goto(&format!("{base}/users")).await.unwrap();
        fill(&c, "#new-name", name).await;
        fill(&c, "#new-password", &format!("{name}-password")).await;
        fill(&c, "#new-groups", group).await;
        click(&c, "form.new-user button").await;
        c.wait().for_element(Locator::Css("p.flash")).await.unwrap();
    }
    logout(&c).await;

    // Marko starts an instance and chooses option 2.
    login(&c, &base, "marko", "marko-password").await;
    c.goto(&format!("{base}/definitions/demo")).await.unwrap();
    fill(&c, "#business_key", "ORDER-7").await;
    click(&c, "form[action='/definitions/demo/start'] button.primary").await;
    c.wait().for_element(Locator::Css("p.flash")).await.unwrap();
    let instance_url = c.current_url().await.unwrap().to_string();
    assert!(instance_url.contains("/instances/"), "{instance_url}");
    complete(&c, &base, "Which option?", Some("2")).await;
    c.goto(&format!("{base}/tasks")).await.unwrap();
    c.wait().for_element(Locator::LinkText("Up")).await.unwrap();
    std::fs::write(
        screenshots().join("inbox.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    complete(&c, &base, "Up", None).await;
    logout(&c).await;

    // Pero, in the other lane, finishes.
    login(&c, &base, "pero", "pero-password").await;
    complete(&c, &base, "Down", None).await;
    complete(&c, &base, "Task down", None).await;

    // The instance page: completed, with its full history.
    c.goto(&instance_url).await.unwrap();
    let page = text(&c).await;
    assert!(page.contains("completed"), "{page}");
    assert!(page.contains("the instance completed"), "{page}");
    assert!(page.contains("marko completed Which option? with option = 2"));
    assert!(page.contains("ORDER-7"));
    for who in ["marko", "pero"] {
        assert!(page.contains(who), "the history names {who}");
    }
    std::fs::write(
        screenshots().join("instance.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    c.close().await.unwrap();
    // No page broke the content security policy (Chromium reports every
    // violation to /csp-report, which counts them).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("bpmn_csp_violations_total 0"),
        "the pages keep to their content security policy"
    );
    app.stop().await;
}

/// The `id` of the focused element.
async fn focused(c: &Client) -> Option<String> {
    c.active_element().await.ok()?.attr("id").await.ok()?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_time_travel_and_distinct_ids_in_a_real_browser() {
    let Some((c, _driver)) = start_browser().await else {
        return;
    };
    let app = TestApp::start(TestDb::sqlite().await).await;
    let base = app.base.clone();
    app.user("ann", &["Marko"]).await;
    let def = app.deploy_demo().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            app.runtime
                .start(def, Default::default(), None, Some("ann"))
                .await
                .unwrap()
                .instance_id,
        );
    }

    // Ann changes her password: a wrong current one is refused with the focus
    // on the message; then it works, and the new one logs her in.
    login(&c, &base, "ann", "ann-password").await;
    c.goto(&format!("{base}/account")).await.unwrap();
    fill(&c, "#pw-current", "not-my-password").await;
    fill(&c, "#pw-new", "ann-new-password").await;
    fill(&c, "#pw-repeated", "ann-new-password").await;
    click(&c, "form.password-form button.primary").await;
    c.wait()
        .for_element(Locator::Css("#password-errors"))
        .await
        .unwrap();
    assert!(
        text(&c)
            .await
            .contains("This is not your current password.")
    );
    assert_eq!(focused(&c).await.as_deref(), Some("password-errors"));
    fill(&c, "#pw-current", "ann-password").await;
    fill(&c, "#pw-new", "ann-new-password").await;
    fill(&c, "#pw-repeated", "ann-new-password").await;
    click(&c, "form.password-form button.primary").await;
    c.wait().for_element(Locator::Css("p.flash")).await.unwrap();
    assert!(text(&c).await.contains("Your password was changed."));
    logout(&c).await;
    login(&c, &base, "ann", "ann-new-password").await;

    // A task page, and her answer.
    let task = app
        .runtime
        .open_task_for(ids[0], "t0")
        .await
        .unwrap()
        .unwrap()
        .id;
    c.goto(&format!("{base}/tasks/{task}")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("#f-option"))
        .await
        .unwrap();
    fill(&c, "#f-option", "7").await;
    click(&c, "form[novalidate] button.primary").await;
    c.wait().for_element(Locator::Css("#errors")).await.unwrap();
    assert_eq!(
        focused(&c).await.as_deref(),
        Some("errors"),
        "focus on the errors"
    );
    std::fs::write(
        screenshots().join("task.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    fill(&c, "#f-option", "2").await;
    click(&c, "form[novalidate] button.primary").await;
    c.wait().for_element(Locator::Css("p.flash")).await.unwrap();

    // The instance list tells the three apart.
    c.goto(&format!("{base}/instances")).await.unwrap();
    let mut shown = Vec::new();
    for id in &ids {
        let link = c
            .find(Locator::Css(&format!("a[href='/instances/{id}']")))
            .await
            .unwrap();
        assert_eq!(link.attr("title").await.unwrap(), Some(id.to_string()));
        shown.push(link.text().await.unwrap());
    }
    shown.sort();
    shown.dedup();
    assert_eq!(shown.len(), 3, "{shown:?}");
    std::fs::write(
        screenshots().join("instances.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // Her instance's history, and the diagram as it stood after her start.
    c.goto(&format!("{base}/instances/{}", ids[0]))
        .await
        .unwrap();
    let page = text(&c).await;
    assert!(
        page.contains("ann completed Which option? with option = 2"),
        "{page}"
    );
    let entries = c.find_all(Locator::Css("ol.story a.when")).await.unwrap();
    let oldest = entries.last().unwrap().clone();
    oldest.click().await.unwrap();
    c.wait()
        .for_element(Locator::Css("section.past"))
        .await
        .unwrap();
    let past = text(&c).await;
    assert!(past.contains("This is the past:"), "{past}");
    assert!(past.contains("ann started the instance at Start"));
    let then = "//h2[contains(., 'Variables then')]/following-sibling::*[1]";
    let vars = c.find(Locator::XPath(then)).await.unwrap();
    assert_eq!(vars.text().await.unwrap(), "None.", "no answer yet then");
    std::fs::write(
        screenshots().join("time-travel.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    click(&c, "a[rel=next]").await;
    c.wait()
        .for_element(Locator::XPath(
            "//section[contains(@class,'past')]//p[contains(., 'with option = 2')]",
        ))
        .await
        .unwrap();
    assert!(
        text(&c).await.contains("option"),
        "the answer is there then"
    );
    c.close().await.unwrap();
    app.stop().await;
}

/// The example Camunda Form (`bpmn/expense-claim.form`) in a real browser:
/// the justification appears once the amount is large (the page's script asks
/// the server), a wrong IBAN is refused with the form's own message beside the
/// field, and the corrected form completes the task with typed, nested values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camunda_form_in_a_real_browser() {
    use crate::common::Shorthand;
    let Some((c, _driver)) = start_browser().await else {
        return;
    };
    let app = TestApp::start(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpmn");
    for file in ["expense-claim.form", "expense-claim.bpmn"] {
        app.runtime
            .deploy(file, &std::fs::read(dir.join(file)).unwrap(), None)
            .await
            .unwrap();
    }
    let d = app
        .runtime
        .deployments()
        .get(
            &bpmn_engine::runtime::Principal::operator("admin"),
            "expense-claim",
            None,
        )
        .await
        .unwrap();
    let started = app
        .runtime
        .start(d.definition.id, Default::default(), None, None)
        .await
        .unwrap();
    login(&c, &base, "admin", "admin-password").await;
    complete_claim(&c, &base).await;
    let (_, state) = app.runtime.instance(started.instance_id).await.unwrap();
    let vars = state.root_variables();
    assert_eq!(vars["amount"], serde_json::json!(2500.5));
    assert_eq!(vars["spentOn"], serde_json::json!("2026-12-01"));
    assert_eq!(
        vars["payout"],
        serde_json::json!({"iban": "DE89370400440532013000", "urgent": true})
    );
    assert_eq!(
        vars["justification"],
        serde_json::json!("Flights to the customer")
    );
    c.close().await.unwrap();
    app.stop().await;
}

async fn complete_claim(c: &Client, base: &str) {
    c.goto(&format!("{base}/tasks")).await.unwrap();
    c.find(Locator::LinkText("Fill in the claim"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("#cf-Name"))
        .await
        .unwrap();
    let hidden_why = "[data-cf-cond='cf-Justification'][hidden]";
    c.find(Locator::Css(hidden_why)).await.unwrap();
    fill(c, "#cf-Name", "Ada Lovelace").await;
    fill(c, "#cf-Email", "ada@example.com").await;
    fill(c, "#cf-Amount", "2500.50").await;
    // The script asks the server; the justification shows up.
    c.wait()
        .for_element(Locator::Css(
            "[data-cf-cond='cf-Justification']:not([hidden])",
        ))
        .await
        .unwrap();
    c.execute(
        "document.getElementById('cf-SpentOn').value = '2026-12-01';",
        Vec::new(),
    )
    .await
    .unwrap();
    fill(c, "#cf-Justification", "Flights to the customer").await;
    fill(c, "#cf-Iban", "not an iban").await;
    click(c, "#cf-Urgent").await;
    click(c, "form.task-form button.primary").await;
    c.wait()
        .for_element(Locator::Css("#cf-Iban-err"))
        .await
        .unwrap();
    let page = text(c).await;
    assert!(
        page.contains("Enter an IBAN such as DE89370400440532013000, without spaces."),
        "{page}"
    );
    let iban = c.find(Locator::Css("#cf-Iban")).await.unwrap();
    assert_eq!(
        iban.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    // What was typed is kept; only the IBAN needs fixing.
    assert_eq!(
        c.find(Locator::Css("#cf-Name"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Ada Lovelace")
    );
    fill(c, "#cf-Iban", "DE89370400440532013000").await;
    c.screenshot()
        .await
        .map(|png| std::fs::write(screenshots().join("camunda-form.png"), png))
        .unwrap()
        .unwrap();
    click(c, "form.task-form button.primary").await;
    c.wait().for_element(Locator::Css("p.flash")).await.unwrap();
    assert!(text(c).await.contains("Completed \"Fill in the claim\""));
}

/// The document's scroll width and the viewport's: equal when nothing makes
/// the page scroll sideways.
async fn widths(c: &Client) -> (i64, i64) {
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
            vec![],
        )
        .await
        .unwrap();
    (v[0].as_i64().unwrap(), v[1].as_i64().unwrap())
}

async fn js_number(c: &Client, script: &str) -> f64 {
    c.execute(script, vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap_or_else(|| panic!("{script}: not a number"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_fit_a_phone_and_diagrams_zoom() {
    use crate::common::Shorthand;
    let Some((c, _driver)) = start_browser().await else {
        return;
    };
    let app = TestApp::start(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let demo_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpmn/demo.bpmn");
    let demo = std::fs::read(&demo_path).unwrap();
    // Set up over HTTP: the demo, its two lane users, an instance at Up/Down.
    let admin = app.login("admin", "admin-password").await;
    admin.upload("demo.bpmn", demo.clone()).await;
    for (name, group) in [("marko", "Marko"), ("pero", "Pero")] {
        let pw = format!("{name}-password");
        admin
            .post(
                "/users",
                &[("name", name), ("password", &pw), ("groups", group)],
            )
            .await;
    }
    let marko = app.login("marko", "marko-password").await;
    let instance = marko
        .post("/definitions/demo/start", &[("business_key", "PHONE-1")])
        .await
        .location
        .unwrap();
    let ids = crate::common::app::task_links(&marko.get("/tasks").await.body);
    marko
        .post(&format!("/tasks/{}/complete", ids[0]), &[("f.option", "2")])
        .await;

    login(&c, &base, "marko", "marko-password").await;
    // Wide: the diagram at its natural size (1400 px is wider than the page,
    // so it is fitted), zoomed in place by the + link, and full screen.
    c.goto(&format!("{base}{instance}")).await.unwrap();
    c.wait()
        .for_element(Locator::Css(".diagram svg"))
        .await
        .unwrap();
    std::fs::write(
        screenshots().join("instance-wide.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    let fitted = js_number(
        &c,
        "return document.querySelector('.diagram svg').getBoundingClientRect().width;",
    )
    .await;
    let frame = js_number(
        &c,
        "return document.querySelector('.diagram .canvas').clientWidth;",
    )
    .await;
    assert!(
        fitted <= frame + 1.0 && fitted < 1400.0,
        "fitted: {fitted} in {frame}"
    );
    click(&c, ".zoom a[data-zoom=in]").await;
    let zoomed = js_number(
        &c,
        "return document.querySelector('.diagram svg').getBoundingClientRect().width;",
    )
    .await;
    assert!(zoomed > fitted, "zoomed in place: {zoomed} > {fitted}");
    assert!(
        c.current_url().await.unwrap().as_str().ends_with(&instance),
        "no reload"
    );
    let now = c
        .find(Locator::Css(".zoom-now"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(now.ends_with('%'), "{now}");
    c.find(Locator::LinkText("Full screen"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("body.full-screen .diagram svg"))
        .await
        .unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/diagram")
    );
    std::fs::write(
        screenshots().join("instance-full-screen.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // Phone width: no page scrolls sideways; the header stays short.
    c.set_window_size(390, 844).await.unwrap();
    let up = app
        .runtime
        .open_task_for(
            instance.trim_start_matches("/instances/").parse().unwrap(),
            "tup",
        )
        .await
        .unwrap()
        .unwrap()
        .id;
    for path in [
        "/tasks".to_string(),
        "/instances".to_string(),
        format!("/tasks/{up}"),
        instance.clone(),
        "/definitions".to_string(),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        c.wait().for_element(Locator::Css("main h1")).await.unwrap();
        let (scroll, view) = widths(&c).await;
        assert!(view <= 420, "a phone-sized viewport: {view}");
        assert_eq!(scroll, view, "{path} scrolls sideways at {view} px");
        let header = js_number(
            &c,
            "return document.querySelector('header.top').getBoundingClientRect().height;",
        )
        .await;
        assert!(header < 120.0, "{path}: the header is {header} px high");
        eprintln!("{path}: scroll width {scroll} = viewport {view} px, header {header} px");
    }
    // Table cells say what they are.
    c.goto(&format!("{base}/tasks")).await.unwrap();
    let label = c
        .execute(
            "return getComputedStyle(document.querySelector('td[data-label=Process]'), '::before').content;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(label.as_str(), Some("\"Process: \""), "{label}");
    std::fs::write(
        screenshots().join("inbox-phone.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    c.goto(&format!("{base}{instance}")).await.unwrap();
    c.wait()
        .for_element(Locator::Css(".diagram svg"))
        .await
        .unwrap();
    let drawn = js_number(
        &c,
        "return document.querySelector('.diagram svg').getBoundingClientRect().width;",
    )
    .await;
    assert!(
        drawn >= 1400.0 * 0.75 - 1.0,
        "readable on a phone: {drawn} px wide, scrolled in its frame"
    );
    std::fs::write(
        screenshots().join("instance-phone.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    logout(&c).await;

    // A refused upload is drawn beside its problems.
    c.set_window_size(1400, 1000).await.unwrap();
    login(&c, &base, "admin", "admin-password").await;
    let broken = String::from_utf8(demo).unwrap().replacen(
        "<bpmn:endEvent ",
        "<bpmn:choreographyTask id=\"Choreo\" name=\"Talk it over\"/><bpmn:endEvent ",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo-broken.bpmn");
    std::fs::write(&file, broken).unwrap();
    c.goto(&format!("{base}/definitions")).await.unwrap();
    c.find(Locator::Css("input[type=file]"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    click(&c, "form.upload button").await;
    c.wait()
        .for_element(Locator::Css("section.report.failed .diagram svg"))
        .await
        .unwrap();
    let width = js_number(&c, "return document.querySelector('section.report .diagram svg').getBoundingClientRect().width;").await;
    assert!(width > 300.0, "the refused file is drawn: {width}");
    assert!(text(&c).await.contains("choreographyTask \"Talk it over\""));
    std::fs::write(
        screenshots().join("refused-upload.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    c.close().await.unwrap();
    app.stop().await;
}

/// A process whose task "a" becomes "a2" in the second version.
fn operated(second: bool) -> String {
    let a = if second { "a2" } else { "a" };
    crate::common::process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="{a}" name="Check"/><bpmn:userTask id="b" name="Approve"/><bpmn:endEvent id="e"/>{}{}{}"#,
        crate::common::flow("f0", "s", a),
        crate::common::flow("f1", a, "b"),
        crate::common::flow("f2", "b", "e")
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_migrates_a_batch_and_modifies_an_instance_in_a_real_browser() {
    use crate::common::Shorthand;
    let Some((c, _driver)) = start_browser().await else {
        return;
    };
    let app = TestApp::start(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let rt = &app.runtime;
    let v1 = rt
        .deploy("ops.bpmn", operated(false).as_bytes(), Some("admin"))
        .await
        .unwrap()
        .definitions[0]
        .id;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            rt.start(v1, Default::default(), None, None)
                .await
                .unwrap()
                .instance_id,
        );
    }
    rt.deploy("ops.bpmn", operated(true).as_bytes(), Some("admin"))
        .await
        .unwrap();
    login(&c, &base, "admin", "admin-password").await;

    // Every running instance is listed and picked; leave the last one out.
    c.goto(&format!("{base}/definitions/p/migrate"))
        .await
        .unwrap();
    let page = text(&c).await;
    assert!(page.contains("3 of 3 picked"), "{page}");
    c.find(Locator::Css(&format!(
        "input[name=instance][value='{}']",
        ids[2]
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let page = text(&c).await;
    assert!(page.contains("2 of 3 picked"), "{page}");
    // The plan names the problem, then the mapping fixes it and the picked ones move.
    click(&c, "button[name=plan]").await;
    c.wait().for_element(Locator::Css("#report")).await.unwrap();
    let page = text(&c).await;
    assert!(page.contains("0 of 2 instance(s) can move"), "{page}");
    assert!(page.contains("\"a\""), "{page}");
    assert!(page.contains("2 of 3 picked"), "{page}: the pick is kept");
    fill(&c, "#mapping", "a=a2").await;
    click(&c, "button[name=run]").await;
    c.wait().for_element(Locator::Css("#report")).await.unwrap();
    let page = text(&c).await;
    assert!(page.contains("2 of 2 instance(s) moved"), "{page}");
    assert!(
        page.contains("0 of 1 picked"),
        "{page}: the one left out is still listed"
    );
    std::fs::write(
        screenshots().join("migrate.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    for id in &ids[..2] {
        assert!(rt.open_task_for(*id, "a2").await.unwrap().is_some());
    }
    assert!(
        rt.open_task_for(ids[2], "a").await.unwrap().is_some(),
        "the instance left out stays on version 1"
    );

    // The first instance skips its check: cancel it, start before the approval.
    c.goto(&format!("{base}/instances/{}", ids[0]))
        .await
        .unwrap();
    click(&c, "#modify").await;
    c.wait().for_element(Locator::Css("#modify")).await.unwrap();
    c.find(Locator::Css("select[name=action0] option[value=cancel]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("select[name=element0] option[value=a2]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css(
        "select[name=action1] option[value=start_before]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.find(Locator::Css("select[name=element1] option[value=b]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&c, "#reason", "checked by phone").await;
    click(&c, "#modify button.primary").await;
    c.wait().for_element(Locator::Css("p.flash")).await.unwrap();
    let page = text(&c).await;
    assert!(page.contains("The instance was modified."), "{page}");
    assert!(
        page.contains("Instance modified: cancel UserTask \"Check\", start before UserTask \"Approve\" (checked by phone)"),
        "{page}"
    );
    std::fs::write(
        screenshots().join("modified.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    assert!(rt.open_task_for(ids[0], "b").await.unwrap().is_some());
    c.close().await.unwrap();
    app.stop().await;
}
