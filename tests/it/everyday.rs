//! The pages people use every day: passwords (change, one-time reset, the
//! command line), the history as a story, time travel, incidents fixed from
//! the instance page, and the task page after completion or a refusal — on
//! SQLite, and on PostgreSQL when `BPMN_TEST_DATABASE_URL` is set.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::app::{TestApp, task_links};
use crate::common::*;

/// The user `ann` with a browser, and a second session and an API token of hers.
async fn ann(
    app: &TestApp,
) -> (
    crate::common::app::Browser,
    crate::common::app::Browser,
    String,
) {
    app.user("ann", &[]).await;
    let user = app.runtime.user_named("ann").await.unwrap().unwrap();
    let (_, token) = app
        .runtime
        .accounts()
        .create_token(&user, "script")
        .await
        .unwrap();
    let here = app.login("ann", "ann-password").await;
    let elsewhere = app.login("ann", "ann-password").await;
    (here, elsewhere, token)
}

async fn api_status(app: &TestApp, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/api/v1/tasks", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_a_password_ends_the_other_sessions_and_nothing_else() {
    for app in TestApp::each().await {
        let (here, elsewhere, token) = ann(&app).await;
        let form = |current: &'static str, new: &'static str, repeated: &'static str| {
            [("current", current), ("new", new), ("repeated", repeated)]
        };
        let wrong = here
            .post(
                "/account/password",
                &form("not-it-at-all", "brand-new-1", "brand-new-1"),
            )
            .await;
        assert_eq!(
            wrong.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            app.backend
        );
        assert!(wrong.body.contains("This is not your current password."));
        assert!(wrong.body.contains("id=\"password-errors\" autofocus"));
        let refused = here
            .post(
                "/account/password",
                &form("ann-password", "short", "shorter"),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused
                .body
                .contains("The password needs at least 8 characters."),
            "{}",
            refused.body
        );
        assert!(
            refused
                .body
                .contains("This differs from the new password above.")
        );
        let same = here
            .post(
                "/account/password",
                &form("ann-password", "ann-password", "ann-password"),
            )
            .await;
        assert!(
            same.body
                .contains("The new password must differ from the current one.")
        );
        // Nothing changed so far: both sessions live, the old password works.
        assert_eq!(elsewhere.get("/tasks").await.status, StatusCode::OK);
        app.login("ann", "ann-password").await;

        let done = here
            .post(
                "/account/password",
                &form("ann-password", "brand-new-1", "brand-new-1"),
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location.as_deref(), Some("/account"));
        let account = here.get("/account").await;
        assert_eq!(account.status, StatusCode::OK, "this session goes on");
        assert!(account.body.contains("Your password was changed."));
        let ended = elsewhere.get("/tasks").await;
        assert_eq!(
            ended.status,
            StatusCode::SEE_OTHER,
            "the other session ended"
        );
        assert!(ended.location.unwrap().starts_with("/login"));
        assert_eq!(
            api_status(&app, &token).await,
            StatusCode::OK,
            "tokens stay"
        );
        assert_eq!(
            app.browser().login("ann", "ann-password").await.status,
            StatusCode::UNAUTHORIZED
        );
        app.login("ann", "brand-new-1").await;
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_time_password_from_an_admin_must_be_changed_before_anything_else() {
    for app in TestApp::each().await {
        let (before, _, token) = ann(&app).await;
        let admin = app.login("admin", "admin-password").await;
        let id = app.runtime.user_named("ann").await.unwrap().unwrap().id;
        let users = admin.get("/users").await;
        assert!(
            users
                .body
                .contains(&format!("action=\"/users/{id}/password\""))
        );
        let reset = admin.post(&format!("/users/{id}/password"), &[]).await;
        assert_eq!(reset.status, StatusCode::OK, "{}", app.backend);
        let at = reset
            .body
            .find("<code class=\"secret\">")
            .expect("shown once")
            + "<code class=\"secret\">".len();
        let one_time = reset.body[at..at + 20].to_string();
        assert!(
            one_time.chars().all(|c| c.is_ascii_alphanumeric()),
            "{one_time}"
        );
        assert!(
            !admin.get("/users").await.body.contains(&one_time),
            "shown only once"
        );
        assert_eq!(
            before.get("/tasks").await.status,
            StatusCode::SEE_OTHER,
            "her sessions ended"
        );
        assert_eq!(
            api_status(&app, &token).await,
            StatusCode::OK,
            "tokens stay"
        );
        assert_eq!(
            app.browser().login("ann", "ann-password").await.status,
            StatusCode::UNAUTHORIZED
        );

        let ann = app.login("ann", &one_time).await;
        for path in ["/tasks", "/instances", "/definitions"] {
            let p = ann.get(path).await;
            assert_eq!(p.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(p.location.as_deref(), Some("/account#password"), "{path}");
        }
        let refused = ann.post("/account/tokens", &[("name", "x")]).await;
        assert_eq!(refused.location.as_deref(), Some("/account#password"));
        let api = ann.get("/api/v1/tasks").await;
        assert_eq!(
            api.status,
            StatusCode::FORBIDDEN,
            "nor the API by the session"
        );
        assert!(api.body.contains("choose a new password on /account first"));
        let rest = reqwest::Client::new()
            .get(format!("{}/engine-rest/external-task", app.base))
            .basic_auth("ann", Some(&one_time))
            .send()
            .await
            .unwrap();
        assert_eq!(
            rest.status(),
            StatusCode::FORBIDDEN,
            "nor Camunda's REST API"
        );
        let account = ann.get("/account").await;
        assert_eq!(account.status, StatusCode::OK);
        assert!(
            account
                .body
                .contains("You logged in with a one-time password.")
        );
        assert!(
            account
                .body
                .contains("Choose a new password before going on.")
        );
        let changed = ann
            .post(
                "/account/password",
                &[
                    ("current", one_time.as_str()),
                    ("new", "ann-chose-this"),
                    ("repeated", "ann-chose-this"),
                ],
            )
            .await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
        assert_eq!(ann.get("/tasks").await.status, StatusCode::OK);
        assert!(!ann.get("/account").await.body.contains("one-time password"));

        let own = app.runtime.user_named("admin").await.unwrap().unwrap().id;
        let self_reset = admin.post(&format!("/users/{own}/password"), &[]).await;
        assert_eq!(self_reset.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            self_reset
                .body
                .contains("change your own password on your account page")
        );
        app.stop().await;
    }
}

fn bpmn(database_url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bpmn"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_sets_a_password_read_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("cli.sqlite").display()
    );
    let added = bpmn(&url, &["user", "add", "bo", "--password", "first-pass"], "");
    assert!(added.status.success(), "{added:?}");
    let set = bpmn(&url, &["user", "password", "bo"], "second-pass\n");
    assert!(set.status.success(), "{set:?}");
    let out = String::from_utf8_lossy(&set.stdout);
    assert!(out.contains("Set the password of bo"), "{out}");
    assert!(!out.contains("second-pass"), "never printed");
    let short = bpmn(&url, &["user", "password", "bo"], "short\n");
    assert!(!short.status.success());
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("at least 8 characters"),
        "{short:?}"
    );
    let nobody = bpmn(&url, &["user", "password", "nobody"], "whatever-1\n");
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("there is no user \"nobody\""));
    let store = bpmn_engine::store::Store::connect(&url).await.unwrap();
    let runtime = bpmn_engine::runtime::Runtime::new(
        store,
        std::sync::Arc::new(bpmn_engine::runtime::SystemClock),
    );
    assert!(
        runtime
            .accounts()
            .authenticate("bo", "second-pass", None)
            .await
            .is_ok()
    );
    assert!(
        runtime
            .accounts()
            .authenticate("bo", "first-pass", None)
            .await
            .is_err()
    );
}

/// The demo run by its people: marko starts it and answers 2, then both lanes
/// complete their tasks. Returns the instance id and the stored state after
/// each command (as JSON), by the entry's first sequence number.
async fn demo_story(app: &TestApp) -> (uuid::Uuid, Vec<(i64, Value)>) {
    app.user("marko", &["Marko"]).await;
    app.user("pero", &["Pero"]).await;
    let def = app.deploy_demo().await;
    let id = app
        .runtime
        .start(def, Default::default(), Some("B-1".into()), Some("marko"))
        .await
        .unwrap()
        .instance_id;
    let mut states = Vec::new();
    let mut seq = 1;
    let mut record = |state: &bpmn_engine::runtime::InstanceState, events: usize| {
        states.push((seq, serde_json::to_value(state).unwrap()));
        seq += events as i64;
    };
    let (_, s) = app.runtime.instance(id).await.unwrap();
    let first = app.runtime.store().history(id).await.unwrap().len();
    record(&s, first);
    for (element, user, vars) in [
        ("t0", "marko", json!({"option": 2})),
        ("tup", "marko", json!({})),
        ("tdown", "pero", json!({})),
    ] {
        let task = app
            .runtime
            .open_task_for(id, element)
            .await
            .unwrap()
            .unwrap();
        let out = app
            .runtime
            .complete_task(task.id, obj(vars), Some(user))
            .await
            .unwrap();
        record(&out.state, out.events.len());
    }
    (id, states)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_is_told_as_a_story_on_the_page_and_the_api() {
    for app in TestApp::each().await {
        let (id, _) = demo_story(&app).await;
        let story = app
            .runtime
            .instances()
            .story(&admin_principal(), id)
            .await
            .unwrap();
        let summaries: Vec<&str> = story.iter().map(|e| e.summary.as_str()).collect();
        assert_eq!(
            summaries[..4],
            [
                "marko started the instance at Start",
                "marko completed Which option? with option = 2",
                "marko completed Up",
                "pero completed Down",
            ],
            "{}: {summaries:?}",
            app.backend
        );
        assert_eq!(
            story[1].parts[1].element.as_deref(),
            Some("t0"),
            "the element's id rides along"
        );

        let admin = app.login("admin", "admin-password").await;
        let page = admin.get(&format!("/instances/{id}")).await;
        let newest = page
            .body
            .find("pero completed <em title=\"tdown\">Down</em>");
        let oldest = page.body.find("marko started the instance at <em");
        assert!(newest.is_some() && oldest.is_some(), "{}", page.body);
        assert!(newest < oldest, "newest first by default");
        assert!(page.body.contains("engine steps</summary>"), "steps folded");
        assert!(
            page.body
                .contains("order=oldest#history\">oldest first</a>")
        );
        let page = admin.get(&format!("/instances/{id}?order=oldest")).await;
        assert!(
            page.body.find("pero completed <em") > page.body.find("marko started the instance"),
            "oldest first on request"
        );
        assert!(page.body.contains("\">newest first</a>"));

        let token = {
            let user = app.runtime.user_named("admin").await.unwrap().unwrap();
            app.runtime
                .accounts()
                .create_token(&user, "t")
                .await
                .unwrap()
                .1
        };
        let rows: Vec<Value> = reqwest::Client::new()
            .get(format!("{}/api/v1/instances/{id}/history", app.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let completion: Vec<&Value> = rows
            .iter()
            .filter(|r| r["entry"] == json!(story[1].seq))
            .collect();
        assert_eq!(completion.len(), story[1].events.len());
        assert!(
            completion
                .iter()
                .all(|r| r["summary"] == "marko completed Which option? with option = 2")
        );
        assert_eq!(completion[0]["event"], "task_completed");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_travel_shows_the_state_each_command_left() {
    for app in TestApp::each().await {
        let (id, states) = demo_story(&app).await;
        for (seq, stored) in &states {
            let past = app
                .runtime
                .instances()
                .past(&admin_principal(), id, *seq)
                .await
                .unwrap();
            assert_eq!(past.entry.seq, *seq, "{}", app.backend);
            let mut active: Vec<String> = past.active.iter().map(|a| a.element.clone()).collect();
            active.sort();
            let mut want: Vec<String> = stored["elements"]
                .as_object()
                .map(|m| {
                    m.values()
                        .map(|e| e["element"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            want.sort();
            assert_eq!(active, want, "active after entry {seq}");
            assert_eq!(
                Value::Object(past.variables.clone()),
                match &stored["variables"]["0"] {
                    Value::Null => json!({}),
                    v => v.clone(),
                },
                "variables after entry {seq}"
            );
        }
        // The first entry: only the first task waits; nothing was taken to Down yet.
        let admin = app.login("admin", "admin-password").await;
        let (first, _) = &states[0];
        let page = admin.get(&format!("/instances/{id}?at={first}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("<strong>This is the past:</strong>"));
        assert!(page.body.contains("rel=\"next\""));
        assert!(!page.body.contains("rel=\"prev\""));
        assert!(page.body.contains("Variables then"));
        // Right after the answer: option = 2, and both lanes' tasks active.
        let (second, _) = &states[1];
        let past = app
            .runtime
            .instances()
            .past(&admin_principal(), id, *second + 1)
            .await
            .unwrap();
        assert_eq!(
            past.entry.seq, *second,
            "a step inside an entry shows that entry"
        );
        assert_eq!(past.variables["option"], json!(2));
        assert!(past.taken.contains(&"Flow_t0_fork".to_string()));
        assert!(!past.taken.contains(&"Flow_tdown_join".to_string()));
        assert_eq!(past.completions.get("t0"), Some(&1));

        for (at, status, text) in [
            ("abc", StatusCode::BAD_REQUEST, "not &#34;abc&#34;"),
            ("0", StatusCode::NOT_FOUND, "There is no history entry 0"),
            (
                "99999",
                StatusCode::NOT_FOUND,
                "There is no history entry 99999",
            ),
        ] {
            let p = admin.get(&format!("/instances/{id}?at={at}")).await;
            assert_eq!(p.status, status, "?at={at}");
            assert!(p.body.contains(text), "?at={at}: {}", p.body);
        }
        app.stop().await;
    }
}

fn admin_principal() -> bpmn_engine::runtime::Principal {
    bpmn_engine::runtime::Principal::operator("admin")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_fix_a_variable_on_the_page_and_a_failed_retry_says_so() {
    let failing = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="calc" name="Calculate" camunda:expression="${{price * 2}}" camunda:resultVariable="total"/><bpmn:userTask id="t" camunda:candidateUsers="ann"/>{}{}"#,
        flow("f0", "s", "calc"),
        flow("f1", "calc", "t")
    ));
    for app in TestApp::each().await {
        let def = app
            .runtime
            .deploy("f.bpmn", failing.as_bytes(), None)
            .await
            .unwrap()
            .definitions[0]
            .id;
        let id = app
            .runtime
            .start(def, Default::default(), None, Some("admin"))
            .await
            .unwrap()
            .instance_id;
        let admin = app.login("admin", "admin-password").await;
        let page = admin.get(&format!("/instances/{id}")).await;
        assert!(
            page.body
                .contains("Set a variable (then retry the incident)")
        );
        let key = app.runtime.store().open_incidents(id).await.unwrap()[0].incident_key;
        let retry = format!("/instances/{id}/incidents/{key}/retry");
        assert_eq!(admin.post(&retry, &[]).await.status, StatusCode::SEE_OTHER);
        let page = admin.get(&format!("/instances/{id}")).await;
        assert!(
            page.body.contains(
                "<p class=\"flash problem\" role=\"alert\">The retry failed again: camunda:expression failed: Cannot resolve identifier &#39;price&#39;"
            ),
            "{}: {}",
            app.backend,
            page.body
        );
        assert!(!page.body.contains("Retried"));

        let bad = admin
            .post(
                &format!("/instances/{id}/variables"),
                &[("name", "price"), ("kind", "number"), ("value", "five")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body
                .contains("variable &#34;price&#34;: &#34;five&#34; is not a number")
        );
        let (_, state) = app.runtime.instance(id).await.unwrap();
        assert!(
            state.root_variables().get("price").is_none(),
            "nothing changed"
        );

        let set = admin
            .post(
                &format!("/instances/{id}/variables"),
                &[("name", "price"), ("kind", "number"), ("value", "5")],
            )
            .await;
        assert_eq!(set.status, StatusCode::SEE_OTHER);
        let key = app.runtime.store().open_incidents(id).await.unwrap()[0].incident_key;
        admin
            .post(&format!("/instances/{id}/incidents/{key}/retry"), &[])
            .await;
        let page = admin.get(&format!("/instances/{id}")).await;
        assert!(
            page.body
                .contains("Retried: the step ran again without an incident.")
        );
        assert!(
            page.body.contains("admin set price = 5"),
            "the story says who"
        );
        let (_, state) = app.runtime.instance(id).await.unwrap();
        assert_eq!(state.root_variables()["total"], json!(10));
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_page_after_a_refusal_and_after_completion() {
    for app in TestApp::each().await {
        let (id, _) = {
            app.user("marko", &["Marko"]).await;
            let def = app.deploy_demo().await;
            let id = app
                .runtime
                .start(def, Default::default(), None, Some("marko"))
                .await
                .unwrap()
                .instance_id;
            (id, ())
        };
        let marko = app.login("marko", "marko-password").await;
        let task = task_links(&marko.get("/tasks").await.body)[0].clone();
        let address = format!("/tasks/{task}");
        let page = marko.get(&address).await;
        assert!(page.body.contains(&format!("action=\"{address}\"")));
        let refused = marko.post(&address, &[("f.option", "7")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains(
            "class=\"error-summary\" role=\"alert\" tabindex=\"-1\" id=\"errors\" autofocus"
        ));
        assert!(refused.body.contains("href=\"#f-option\""));
        assert!(refused.body.contains("value=\"7\""), "the value is kept");
        assert_eq!(
            marko.get(&address).await.status,
            StatusCode::OK,
            "the address reopens"
        );

        assert_eq!(
            marko.post(&address, &[("f.option", "1")]).await.status,
            StatusCode::SEE_OTHER
        );
        let done = marko.get(&address).await;
        assert!(!done.body.contains("nobody yet"), "{}", done.body);
        assert!(done.body.contains("completed</span> by marko"));
        assert!(done.body.contains("<h2>Submitted</h2>"));
        assert!(
            done.body
                .contains("<th scope=\"row\" class=\"mono\">option</th><td class=\"mono\">1</td>")
        );

        // Up has no form fields: a button, no empty box.
        let up = app.runtime.open_task_for(id, "tup").await.unwrap().unwrap();
        let page = marko.get(&format!("/tasks/{}", up.id)).await;
        assert!(page.body.contains(&format!(
            "<form method=\"post\" action=\"/tasks/{}\" novalidate>",
            up.id
        )));
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_pages_and_the_api_page_keep_the_navigation_and_ids_differ() {
    for app in TestApp::each().await {
        let admin = app.login("admin", "admin-password").await;
        for (path, status) in [
            ("/no/such/page", StatusCode::NOT_FOUND),
            ("/instances/not-a-uuid", StatusCode::NOT_FOUND),
            ("/api", StatusCode::OK),
        ] {
            let p = admin.get(path).await;
            assert_eq!(p.status, status, "{path}");
            assert!(
                p.body
                    .contains("<button type=\"submit\" class=\"link\">Log out</button>"),
                "{}: {path}: {}",
                app.backend,
                p.body
            );
            assert!(p.body.contains("<nav aria-label=\"Main\">"), "{path}");
        }
        let anonymous = app.browser().get("/api").await;
        assert!(!anonymous.body.contains("Log out"));
        let missing = app.browser().get("/no/such/page").await;
        assert!(!missing.body.contains("Log out"));

        // Instances started within the same second still read differently.
        let def = app.deploy_demo().await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(
                app.runtime
                    .start(def, Default::default(), None, Some("admin"))
                    .await
                    .unwrap()
                    .instance_id
                    .to_string(),
            );
        }
        let list = admin.get("/instances").await;
        let mut shown = Vec::new();
        for id in &ids {
            let link = format!("href=\"/instances/{id}\" title=\"{id}\">…{}</a>", &id[28..]);
            assert!(list.body.contains(&link), "{link}");
            shown.push(id[28..].to_string());
        }
        shown.sort();
        shown.dedup();
        assert_eq!(shown.len(), 3, "three different short ids");
        app.stop().await;
    }
}
