//! End to end in a real browser (headless Chromium driven over WebDriver): an
//! admin deploys the demo and creates the people of both lanes, who start it
//! and complete their tasks from their inboxes; the instance page then shows
//! it completed with its history. Screenshots of the inbox and the instance
//! page are saved under `target/screenshots/` for review.
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
        .for_element(Locator::Css("form.task-form"))
        .await
        .unwrap();
    if let Some(v) = option {
        fill(c, "#f-option", v).await;
    }
    click(c, "form.task-form button.primary").await;
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
    assert!(page.contains("Instance completed"));
    assert!(page.contains("Set option = 2"));
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
    for _ in 0..2 {
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

    // The plan names the problem, then the mapping fixes it and the batch moves.
    c.goto(&format!("{base}/definitions/p/migrate"))
        .await
        .unwrap();
    click(&c, "button[name=plan]").await;
    c.wait().for_element(Locator::Css("#report")).await.unwrap();
    let page = text(&c).await;
    assert!(page.contains("0 of 2 instance(s) can move"), "{page}");
    assert!(page.contains("\"a\""), "{page}");
    fill(&c, "#mapping", "a=a2").await;
    click(&c, "button[name=run]").await;
    c.wait().for_element(Locator::Css("#report")).await.unwrap();
    let page = text(&c).await;
    assert!(page.contains("2 of 2 instance(s) moved"), "{page}");
    std::fs::write(
        screenshots().join("migrate.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    for id in &ids {
        assert!(rt.open_task_for(*id, "a2").await.unwrap().is_some());
    }

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
