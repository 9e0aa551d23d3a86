//! The web application over real HTTP: login and sessions, every page and
//! form, the authorization matrix, CSRF, validation and conflicts — on SQLite,
//! and on PostgreSQL when `BPMN_TEST_DATABASE_URL` is set.

use bpmn_engine::runtime::{Principal, Role};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::app::{TestApp, task_links};
use crate::common::*;

/// The open task of an element in an instance.
async fn task_of(app: &TestApp, instance: uuid::Uuid, element: &str) -> String {
    app.runtime
        .open_task_for(instance, element)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no open task {element}"))
        .id
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sessions_and_logout() {
    for app in TestApp::each().await {
        let b = app.browser();
        let to_login = b.get("/tasks").await;
        assert_eq!(to_login.status, StatusCode::SEE_OTHER);
        assert_eq!(to_login.location.as_deref(), Some("/login?next=/tasks"));
        let wrong = b.login("admin", "nope").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", app.backend);
        assert!(wrong.body.contains("Wrong user name or password."));
        assert!(wrong.body.contains("value=\"admin\""), "the name is kept");
        let ok = b.login("admin", "admin-password").await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        assert_eq!(ok.location.as_deref(), Some("/tasks"));
        let cookie = ok
            .set_cookie
            .iter()
            .find(|c| c.starts_with("bpmn_session="))
            .expect("a session cookie");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        let inbox = b.get("/tasks").await;
        assert_eq!(inbox.status, StatusCode::OK);
        assert!(inbox.body.contains("<h1>Inbox</h1>"));
        assert!(inbox.body.contains(
            "<a class=\"user\" href=\"/account\">admin</a> <span class=\"tag\">admin</span>"
        ));

        // Logging out ends the session everywhere, even for a copied cookie.
        let other = app.login("admin", "admin-password").await;
        assert_eq!(other.get("/tasks").await.status, StatusCode::OK);
        let out = b.post("/logout", &[]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(out.location.as_deref(), Some("/login"));
        let login = b.get("/login").await;
        assert!(
            login.body.contains("You have logged out."),
            "{}",
            login.body
        );
        assert_eq!(b.get("/tasks").await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            other.get("/tasks").await.status,
            StatusCode::SEE_OTHER,
            "{}: the epoch ended it",
            app.backend
        );
        // `next` only follows paths of this site.
        let evil = app.browser();
        let p = evil
            .post(
                "/login",
                &[
                    ("name", "admin"),
                    ("password", "admin-password"),
                    ("next", "//evil.example"),
                ],
            )
            .await;
        assert_eq!(p.location.as_deref(), Some("/"));
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_slowed_down() {
    let db = crate::common::db::TestDb::sqlite().await;
    let app = TestApp::start(db).await;
    app.user("ann", &[]).await;
    let b = app.browser();
    for _ in 0..5 {
        assert_eq!(
            b.login("ann", "wrong-password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let slowed = b.login("ann", "ann-password").await;
    assert_eq!(
        slowed.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(slowed.body.contains("Too many failed attempts"));
    // Another account behind the same address is not locked out: an address
    // may be a whole office behind one proxy.
    app.user("bob", &[]).await;
    assert_eq!(
        b.login("bob", "bob-password").await.status,
        StatusCode::SEE_OTHER
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_without_the_right_csrf_token_is_refused_and_changes_nothing() {
    for app in TestApp::each().await {
        let admin = app.login("admin", "admin-password").await;
        let none = admin
            .post_raw("/users", &[("name", "mallory"), ("password", "12345678")])
            .await;
        assert_eq!(none.status, StatusCode::FORBIDDEN, "{}", app.backend);
        assert!(none.body.contains("security token"));
        let wrong = admin
            .post_raw(
                "/users",
                &[
                    ("name", "mallory"),
                    ("password", "12345678"),
                    ("csrf_token", "0000"),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        assert!(
            app.runtime.user_named("mallory").await.unwrap().is_none(),
            "nothing was created"
        );
        // A token of another session does not work either.
        let other = app.login("admin", "admin-password").await;
        let foreign = other.csrf().await;
        let p = admin
            .post_raw(
                "/users",
                &[
                    ("name", "mallory"),
                    ("password", "12345678"),
                    ("csrf_token", &foreign),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN);
        let login = app
            .browser()
            .post_raw(
                "/login",
                &[("name", "admin"), ("password", "admin-password")],
            )
            .await;
        assert_eq!(
            login.status,
            StatusCode::FORBIDDEN,
            "the login form has a token too"
        );
        app.stop().await;
    }
}

struct World {
    instance: uuid::Uuid,
    task: String,
}

/// Marko (group Marko) starts the demo; its first task is a candidate task of Marko.
async fn world(app: &TestApp) -> World {
    app.deploy_demo().await;
    app.user("marko", &["Marko"]).await;
    app.user("pero", &["Pero"]).await;
    app.user("outsider", &["Elsewhere"]).await;
    let marko = app.login("marko", "marko-password").await;
    let started = marko
        .post("/definitions/demo/start", &[("business_key", "ORDER-1")])
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let instance: uuid::Uuid = started
        .location
        .unwrap()
        .trim_start_matches("/instances/")
        .parse()
        .unwrap();
    let task = task_of(app, instance, "t0").await;
    World { instance, task }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    for app in TestApp::each().await {
        let w = world(&app).await;
        let i = w.instance;
        let t = &w.task;
        let anon = app.browser();
        let marko = app.login("marko", "marko-password").await;
        let outsider = app.login("outsider", "outsider-password").await;
        let admin = app.login("admin", "admin-password").await;
        let gets = [
            ("/tasks".to_string(), [303, 200, 200, 200]),
            (format!("/tasks/{t}"), [303, 200, 404, 200]),
            ("/definitions".to_string(), [303, 200, 200, 200]),
            ("/definitions/demo".to_string(), [303, 200, 200, 200]),
            ("/definitions/demo/xml".to_string(), [303, 200, 200, 200]),
            ("/definitions/nope".to_string(), [303, 404, 404, 404]),
            ("/instances".to_string(), [303, 200, 200, 200]),
            (format!("/instances/{i}"), [303, 200, 404, 200]),
            ("/users".to_string(), [303, 403, 403, 200]),
            (
                format!("/tasks/{}", uuid::Uuid::now_v7()),
                [303, 404, 404, 404],
            ),
        ];
        let who = [
            ("anonymous", &anon),
            ("marko", &marko),
            ("outsider", &outsider),
            ("admin", &admin),
        ];
        for (path, expected) in &gets {
            for ((name, b), want) in who.iter().zip(expected) {
                let got = b.get(path).await.status.as_u16();
                assert_eq!(got, *want, "{}: GET {path} as {name}", app.backend);
            }
        }
        // Actions of someone who may not see the object: 404, nothing changes.
        let tries = [
            (format!("/tasks/{t}/claim"), vec![]),
            (format!("/tasks/{t}/complete"), vec![("f.option", "1")]),
            (format!("/instances/{i}/cancel"), vec![]),
        ];
        for (path, fields) in &tries {
            assert_eq!(
                outsider.post(path, fields).await.status,
                StatusCode::NOT_FOUND,
                "{}: outsider {path}",
                app.backend
            );
            assert_eq!(
                anon.post_raw(path, fields).await.status,
                StatusCode::SEE_OTHER,
                "anonymous {path}"
            );
        }
        // Someone who may see but not do: 403.
        assert_eq!(
            marko
                .post(&format!("/instances/{i}/cancel"), &[])
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            marko
                .post("/users", &[("name", "x"), ("password", "12345678")])
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let upload = marko.upload("demo.bpmn", demo_bytes()).await;
        assert_eq!(
            upload.status,
            StatusCode::FORBIDDEN,
            "a non-admin cannot upload"
        );
        let (row, _) = app.runtime.instance(i).await.unwrap();
        assert_eq!(row.status, "active");
        assert_eq!(row.version, 1, "{}: nothing changed", app.backend);
        // The candidate claims; now the task is hers, others may no longer complete it.
        assert_eq!(
            marko.post(&format!("/tasks/{t}/claim"), &[]).await.status,
            StatusCode::SEE_OTHER
        );
        let other_marko = {
            app.user("marko2", &["Marko"]).await;
            app.login("marko2", "marko2-password").await
        };
        let stolen = other_marko
            .post(&format!("/tasks/{t}/complete"), &[("f.option", "1")])
            .await;
        assert_eq!(
            stolen.status,
            StatusCode::FORBIDDEN,
            "{}: claimed by marko",
            app.backend
        );
        assert!(stolen.body.contains("claimed by marko"));
        let claim_again = other_marko.post(&format!("/tasks/{t}/claim"), &[]).await;
        assert_eq!(claim_again.status, StatusCode::CONFLICT);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_through_the_pages() {
    for app in TestApp::each().await {
        let admin = app.login("admin", "admin-password").await;
        let up = admin.upload("demo.bpmn", demo_bytes()).await;
        assert_eq!(up.status, StatusCode::OK, "{}", up.body);
        assert!(up.body.contains("demo.bpmn deployed"));
        assert!(up.body.contains("new version 1"));
        assert!(
            up.body.contains("has no implementation"),
            "warnings are shown"
        );
        let again = admin.upload("demo.bpmn", demo_bytes()).await;
        assert!(
            again
                .body
                .contains("unchanged (version 1 has the same content)"),
            "{}",
            app.backend
        );
        for (name, group) in [("marko", "Marko"), ("pero", "Pero")] {
            let p = admin
                .post(
                    "/users",
                    &[
                        ("name", name),
                        ("password", &format!("{name}-password")),
                        ("groups", group),
                    ],
                )
                .await;
            assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        }
        let marko = app.login("marko", "marko-password").await;
        let pero = app.login("pero", "pero-password").await;
        let def = marko.get("/definitions/demo").await;
        assert!(def.body.contains("Start an instance"));
        let started = marko
            .post("/definitions/demo/start", &[("business_key", "B-42")])
            .await;
        let instance = started.location.unwrap();
        let inbox = marko.get("/tasks").await;
        assert!(inbox.body.contains("Which option?"), "{}", inbox.body);
        assert!(inbox.body.contains(
            "<span class=\"count\" title=\"0 assigned to you, 1 offered to you to claim\">0 yours, 1 offered</span>"
        ), "{}", inbox.body);
        let ids = task_links(&inbox.body);
        assert_eq!(ids.len(), 1);
        let page = marko.get(&format!("/tasks/{}", ids[0])).await;
        assert!(
            page.body.contains("name=\"f.option\""),
            "the form field is rendered"
        );
        assert!(
            page.body.contains("Choose 1 to go up"),
            "documentation is shown"
        );
        let done = marko
            .post(&format!("/tasks/{}/complete", ids[0]), &[("f.option", "2")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        assert_eq!(done.location.as_deref(), Some("/tasks"));
        assert!(
            marko
                .get("/tasks")
                .await
                .body
                .contains("Completed &#34;Which option?&#34;."),
            "a flash message"
        );
        // Up for Marko, Down for Pero (lanes are candidate groups).
        for (b, name) in [(&marko, "Up"), (&pero, "Down")] {
            let ids = task_links(&b.get("/tasks").await.body);
            assert_eq!(ids.len(), 1, "{}: {name}", app.backend);
            let p = b.get(&format!("/tasks/{}", ids[0])).await;
            assert!(p.body.contains(&format!("<h1>{name}</h1>")));
            assert!(
                p.body
                    .contains("<button type=\"submit\" class=\"primary\">Complete</button>"),
                "no fields: a plain button"
            );
            assert_eq!(
                b.post(&format!("/tasks/{}/complete", ids[0]), &[])
                    .await
                    .status,
                StatusCode::SEE_OTHER
            );
        }
        let ids = task_links(&pero.get("/tasks").await.body);
        assert_eq!(ids.len(), 1, "option 2 goes down to Pero");
        pero.post(&format!("/tasks/{}/complete", ids[0]), &[]).await;
        let page = marko.get(&instance).await;
        assert!(
            page.body
                .contains("<span class=\"badge completed\">completed</span>"),
            "{}",
            app.backend
        );
        assert!(page.body.contains("Instance completed"));
        assert!(page.body.contains("Set option = 2"));
        assert!(page.body.contains("B-42"));
        let filtered = marko.get(&format!("{instance}?element=tdown")).await;
        assert!(filtered.body.contains("History of Down"));
        assert!(
            filtered.body.contains("marko completed <em"),
            "the entry that led to Down"
        );
        assert!(
            !filtered.body.contains("started the instance"),
            "only the entries about that element"
        );
        let list = marko.get("/instances?var=option%3D2").await;
        assert!(
            list.body.contains(&instance[11..19]),
            "search by a variable"
        );
        let none = marko.get("/instances?var=option%3D1").await;
        assert!(none.body.contains("No instances match."), "{}", none.body);
        let bad = marko.get("/instances?var=nonsense").await;
        assert!(bad.body.contains("is not name=value"));
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_validation_shows_errors_beside_fields_and_keeps_values() {
    let form = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t" name="Register" camunda:candidateUsers="ann"><bpmn:extensionElements><camunda:formData>
  <camunda:formField id="name" label="Name" type="string"><camunda:validation><camunda:constraint name="required"/><camunda:constraint name="minlength" config="2"/><camunda:constraint name="maxlength" config="5"/></camunda:validation></camunda:formField>
  <camunda:formField id="age" label="Age" type="long"><camunda:validation><camunda:constraint name="min" config="18"/><camunda:constraint name="max" config="99"/></camunda:validation></camunda:formField>
  <camunda:formField id="ok" label="Agree" type="boolean"/>
  <camunda:formField id="when" label="When" type="date"/>
  <camunda:formField id="size" label="Size" type="enum"><camunda:value id="s" name="Small"/><camunda:value id="m" name="Medium"/></camunda:formField>
  <camunda:formField id="ref" label="Reference" type="string" defaultValue="R-1"><camunda:validation><camunda:constraint name="readonly"/></camunda:validation></camunda:formField>
</camunda:formData></bpmn:extensionElements></bpmn:userTask>{}"#,
        flow("f", "s", "t")
    ));
    for app in TestApp::each().await {
        let def = app
            .runtime
            .deploy("form.bpmn", form.as_bytes(), None)
            .await
            .unwrap()
            .definitions[0]
            .id;
        let id = app
            .runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        app.user("ann", &[]).await;
        let ann = app.login("ann", "ann-password").await;
        let task = task_of(&app, id, "t").await;
        let page = ann.get(&format!("/tasks/{task}")).await;
        for needle in [
            "type=\"number\"",
            "type=\"checkbox\"",
            "type=\"date\"",
            "<select",
            "value=\"R-1\" readonly disabled",
            "minlength=\"2\"",
            "max=\"99\"",
        ] {
            assert!(page.body.contains(needle), "{needle}");
        }
        /// Posted fields, the field that must complain, and how.
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (&[("f.name", "")], "name", "is required"),
            (
                &[("f.name", "A")],
                "name",
                "must be at least 2 characters long",
            ),
            (
                &[("f.name", "Annabel")],
                "name",
                "must be at most 5 characters long",
            ),
            (
                &[("f.name", "Ann"), ("f.age", "7")],
                "age",
                "must be at least 18",
            ),
            (
                &[("f.name", "Ann"), ("f.age", "120")],
                "age",
                "must be at most 99",
            ),
            (
                &[("f.name", "Ann"), ("f.age", "old")],
                "age",
                "must be a whole number, not &#34;old&#34;",
            ),
            (
                &[("f.name", "Ann"), ("f.ok", "perhaps")],
                "ok",
                "must be true or false",
            ),
            (
                &[("f.name", "Ann"), ("f.when", "soon")],
                "when",
                "must be a date such as 2024-12-31",
            ),
            (
                &[("f.name", "Ann"), ("f.size", "xl")],
                "size",
                "must be one of s, m",
            ),
            (
                &[("f.name", "Ann"), ("f.ref", "R-2")],
                "ref",
                "is read-only",
            ),
        ];
        for (fields, field, message) in cases {
            let p = ann.post(&format!("/tasks/{task}/complete"), fields).await;
            assert_eq!(
                p.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {fields:?}",
                app.backend
            );
            let beside = format!("<p class=\"error-text\" id=\"e-{field}\">{message}");
            assert!(
                p.body.contains(&beside),
                "{fields:?}: {beside} not in the page"
            );
            for (k, v) in *fields {
                if !v.is_empty() && *k != "f.ok" && *k != "f.size" && *k != "f.ref" {
                    assert!(
                        p.body.contains(&format!("value=\"{v}\"")),
                        "the entered {k} is kept"
                    );
                }
            }
        }
        assert!(
            app.runtime.open_task_for(id, "t").await.unwrap().is_some(),
            "nothing was stored"
        );
        let (_, state) = app.runtime.instance(id).await.unwrap();
        assert!(state.root_variables().is_empty());
        let ok = ann
            .post(
                &format!("/tasks/{task}/complete"),
                &[
                    ("f.name", "Ann"),
                    ("f.age", "42"),
                    ("f.ok", "true"),
                    ("f.when", "2025-03-01"),
                    ("f.size", "m"),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let (_, state) = app.runtime.instance(id).await.unwrap();
        assert_eq!(
            serde_json::Value::Object(state.root_variables()),
            json!({"name": "Ann", "age": 42, "ok": true, "when": "2025-03-01", "size": "m"})
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_completed_meanwhile_is_a_clear_409() {
    for app in TestApp::each().await {
        let w = world(&app).await;
        let a = app.login("marko", "marko-password").await;
        app.user("marko2", &["Marko"]).await;
        let b = app.login("marko2", "marko2-password").await;
        // Both have the page open; both send the form.
        let token_b = b.csrf().await;
        let first = a
            .post(&format!("/tasks/{}/complete", w.task), &[("f.option", "1")])
            .await;
        assert_eq!(first.status, StatusCode::SEE_OTHER);
        let second = b
            .post_raw(
                &format!("/tasks/{}/complete", w.task),
                &[("f.option", "2"), ("csrf_token", &token_b)],
            )
            .await;
        assert_eq!(second.status, StatusCode::CONFLICT, "{}", app.backend);
        assert!(
            second.body.contains("was already completed by marko"),
            "{}",
            second.body
        );
        assert!(
            second.body.contains("<h1>Already done</h1>"),
            "in the site's layout"
        );
        let (_, state) = app.runtime.instance(w.instance).await.unwrap();
        assert_eq!(state.root_variables().get("option"), Some(&json!(1)));
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_show_errors_with_positions_and_store_nothing() {
    for app in TestApp::each().await {
        let admin = app.login("admin", "admin-password").await;
        let broken = admin
            .upload(
                "broken.bpmn",
                b"<definitions><process id=\"p\"></definitions>".to_vec(),
            )
            .await;
        assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(broken.body.contains("broken.bpmn cannot be deployed"));
        assert!(broken.body.contains("<td class=\"mono\">1:"), "line:column");
        let unsupported = process(r#"<bpmn:startEvent id="s"/><bpmn:choreographyTask id="call"/>"#);
        let p = admin.upload("call.bpmn", unsupported.into_bytes()).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(p.body.contains("<td>unsupported</td><td class=\"mono\">10:26</td><td><span title=\"id call\">choreographyTask &#34;call&#34;</span></td>"), "{}", p.body);
        // A refused file with a layout is still drawn beside its problems,
        // and its elements are named by their names (the id on hover).
        let demo = String::from_utf8(demo_bytes()).unwrap().replacen(
            "<bpmn:endEvent ",
            "<bpmn:choreographyTask id=\"Choreo\" name=\"Talk it over\"/><bpmn:endEvent ",
            1,
        );
        let refused = admin.upload("demo-broken.bpmn", demo.into_bytes()).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains(
                "<span title=\"id Choreo\">choreographyTask &#34;Talk it over&#34;</span>"
            ),
            "{}",
            refused.body
        );
        let figure = &refused.body[refused
            .body
            .find("<figure class=\"diagram\"")
            .expect("the drawing")..];
        assert!(figure.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(
            figure.contains("data-element=\"t0\""),
            "the refused file's elements"
        );
        assert!(figure.contains("it was not stored"));
        assert!(
            !refused.body.contains("id=\"view-only\""),
            "not kept unless asked"
        );
        // Kept for viewing only when asked: listed as view-only, drawn with
        // its problems, never startable.
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", admin.csrf().await)
            .text("keep_for_viewing", "yes")
            .part(
                "file",
                reqwest::multipart::Part::bytes(
                    String::from_utf8(demo_bytes()).unwrap().replacen(
                        "<bpmn:endEvent ",
                        "<bpmn:choreographyTask id=\"Choreo\" name=\"Talk it over\"/><bpmn:endEvent ",
                        1,
                    ).into_bytes(),
                )
                .file_name("demo-broken.bpmn"),
            );
        let kept = admin.post_multipart("/definitions", form).await;
        assert_eq!(kept.status, StatusCode::UNPROCESSABLE_ENTITY);
        let at = kept
            .body
            .find("<a href=\"/view-only/")
            .expect("a link to the kept file");
        let link = &kept.body[at + 9..];
        let link = &link[..link.find('"').unwrap()];
        assert!(kept.body.contains("kept for viewing only"), "{}", kept.body);
        let list = admin.get("/definitions").await;
        assert!(list.body.contains("<h2>View only</h2>"));
        assert!(list.body.contains(&format!("<a href=\"{link}\">Demo: options up and down</a> <span class=\"badge\">view only</span>")), "{}", list.body);
        let view = admin.get(link).await;
        assert_eq!(view.status, StatusCode::OK);
        assert!(view.body.contains("cannot be started"));
        assert!(view.body.contains("data-element=\"t0\""));
        assert!(
            view.body
                .contains("choreographyTask &#34;Talk it over&#34;")
        );
        assert!(!view.body.contains("/start\""), "no start form");
        assert_eq!(
            admin.get("/view-only/999999").await.status,
            StatusCode::NOT_FOUND
        );
        assert!(
            app.runtime.store().definitions().await.unwrap().is_empty(),
            "{}: nothing stored",
            app.backend
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_users_and_groups() {
    for app in TestApp::each().await {
        let w = world(&app).await;
        let admin = app.login("admin", "admin-password").await;
        let page = admin.get("/users").await;
        assert!(page.body.contains("marko"));
        let bad = admin
            .post("/users", &[("name", "bad name!"), ("password", "12345678")])
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("may only contain"));
        let short = admin
            .post("/users", &[("name", "shorty"), ("password", "1234")])
            .await;
        assert!(short.body.contains("at least 8 characters"));
        let dup = admin
            .post("/users", &[("name", "marko"), ("password", "12345678")])
            .await;
        assert!(dup.body.contains("is taken"));

        let marko_user = app.runtime.user_named("marko").await.unwrap().unwrap();
        let marko = app.login("marko", "marko-password").await;
        assert_eq!(
            marko.get(&format!("/tasks/{}", w.task)).await.status,
            StatusCode::OK
        );
        // Moving Marko out of the group takes the candidate task away from him.
        let p = admin
            .post(&format!("/users/{}", marko_user.id), &[("groups", "Pero")])
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        assert_eq!(
            marko.get(&format!("/tasks/{}", w.task)).await.status,
            StatusCode::NOT_FOUND
        );
        // Disabling ends his session at once.
        admin
            .post(
                &format!("/users/{}", marko_user.id),
                &[("groups", "Pero"), ("disabled", "on")],
            )
            .await;
        assert_eq!(marko.get("/tasks").await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.browser().login("marko", "marko-password").await.status,
            StatusCode::UNAUTHORIZED
        );
        // Demoting an admin ends their sessions too.
        app.runtime
            .create_user("boss", "boss-password", &[], true)
            .await
            .unwrap();
        let boss = app.login("boss", "boss-password").await;
        assert_eq!(boss.get("/users").await.status, StatusCode::OK);
        let boss_id = app.runtime.user_named("boss").await.unwrap().unwrap().id;
        admin
            .post(&format!("/users/{boss_id}"), &[("groups", "")])
            .await;
        assert_eq!(
            boss.get("/users").await.status,
            StatusCode::SEE_OTHER,
            "{}",
            app.backend
        );
        let admin_id = app.runtime.user_named("admin").await.unwrap().unwrap().id;
        let me = admin
            .post(&format!("/users/{admin_id}"), &[("groups", "")])
            .await;
        assert_eq!(
            me.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "an admin cannot demote themselves"
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_and_called_instances_link_to_each_other_in_pages_and_api() {
    let xml = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/bpmn/call-activity.bpmn"
    ))
    .unwrap();
    for app in TestApp::each().await {
        let def = app
            .runtime
            .deploy("call-activity.bpmn", &xml, None)
            .await
            .unwrap();
        let def = def
            .definitions
            .iter()
            .find(|d| d.key == "call_activity")
            .unwrap()
            .id;
        let mut vars = serde_json::Map::new();
        vars.insert("amount".into(), 3.into());
        let parent = app
            .runtime
            .start(def, vars, None, Some("admin"))
            .await
            .unwrap()
            .instance_id;
        let cfg = bpmn_engine::runtime::jobs::ExecutorConfig::new("t".into());
        bpmn_engine::runtime::jobs::run_due(&app.runtime, &cfg)
            .await
            .unwrap();
        let child = app.runtime.called_instances(parent).await.unwrap()[0].id;
        let admin = app.login("admin", "admin-password").await;
        let page = admin.get(&format!("/instances/{parent}")).await;
        assert!(
            page.body
                .contains(&format!("<a href=\"/instances/{child}\">Payment</a>")),
            "{}",
            page.body
        );
        let page = admin.get(&format!("/instances/{child}")).await;
        assert!(page.body.contains(&format!("<a class=\"mono\" href=\"/instances/{parent}\">{parent}</a> (call activity CallActivity_pay)")), "{}", page.body);
        let user = app.runtime.user_named("admin").await.unwrap().unwrap();
        let (_, token) = app.runtime.create_token(user.id, "t").await.unwrap();
        let api = reqwest::Client::new();
        let body: serde_json::Value = api
            .get(format!("{}/api/v1/instances/{parent}", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["called_instances"][0]["id"], child.to_string());
        assert_eq!(body["waiting"][0]["kind"], "called");
        let body: serde_json::Value = api
            .get(format!("{}/api/v1/instances/{child}", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["parent_id"], parent.to_string());
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dmn_upload_shows_its_decisions_as_tables_and_the_api_evaluates_them() {
    let dmn = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/discount.dmn")).unwrap();
    for app in TestApp::each().await {
        let admin = app.login("admin", "admin-password").await;
        let up = admin.upload("discount.dmn", dmn.clone()).await;
        assert_eq!(up.status, StatusCode::OK, "{}", up.body);
        assert!(
            up.body
                .contains("decision <a href=\"/decisions/discount\">discount</a> — new version 1"),
            "{}",
            up.body
        );
        assert!(
            up.body.contains("<table class=\"list\" id=\"decisions\">"),
            "{}",
            up.body
        );
        let page = admin.get("/decisions/discount").await;
        // Inputs and outputs are told apart: a heading over each side and a
        // double rule between them.
        assert!(
            page.body.contains("class=\"input\">When (inputs)</th>"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("class=\"output first\">Then (outputs)</th>")
        );
        assert!(page.body.contains("<td class=\"mono output first\">"));
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body
                .contains("<th scope=\"col\" class=\"hit-policy\" title=\"Hit policy\">FIRST</th>"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("<th scope=\"col\" class=\"input\">Customer segment</th>"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("<td class=\"mono input\">[100..1000)</td>"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("<a class=\"mono\" href=\"/decisions/segment\">segment</a>"),
            "{}",
            page.body
        );
        assert_eq!(
            admin.get("/decisions/nope").await.status,
            StatusCode::NOT_FOUND
        );
        let user = app.runtime.user_named("admin").await.unwrap().unwrap();
        let (_, token) = app.runtime.create_token(user.id, "t").await.unwrap();
        let api = reqwest::Client::new();
        let r = api
            .post(format!("{}/api/v1/decisions/discount/evaluate", app.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({"variables": {"years": 10, "amount": 10}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["results"][0]["percent"], 10);
        assert_eq!(body["version"], 1);
        let r = api
            .get(format!("{}/api/v1/decisions/discount", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["logic"]["hit_policy"], "FIRST");
        assert_eq!(body["required"][0], "segment");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_cancel_instances_and_retry_incidents() {
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
                .contains("<span class=\"badge incident\">incident</span>"),
            "{}",
            app.backend
        );
        assert!(
            page.body
                .contains("Cannot resolve identifier &#39;price&#39;"),
            "{}",
            page.body
        );
        let list = admin.get("/instances?state=incident").await;
        assert!(list.body.contains(&id.to_string()[..8]));
        let key = app.runtime.store().open_incidents(id).await.unwrap()[0].incident_key;
        app.runtime
            .set_variables(id, obj(json!({"price": 5})), Some("admin"))
            .await
            .unwrap();
        let retried = admin
            .post(&format!("/instances/{id}/incidents/{key}/retry"), &[])
            .await;
        assert_eq!(retried.status, StatusCode::SEE_OTHER);
        assert!(
            app.runtime.open_task_for(id, "t").await.unwrap().is_some(),
            "retry resumed the step"
        );
        let cancelled = admin.post(&format!("/instances/{id}/cancel"), &[]).await;
        assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
        let page = admin.get(&format!("/instances/{id}")).await;
        assert!(page.body.contains("badge terminated"));
        // The flash says what the badge says.
        assert!(
            page.body.contains("The instance was terminated."),
            "{}",
            page.body
        );

        assert!(
            page.body
                .contains("Instance terminated: cancelled by admin")
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_pages_use_the_layout_and_assets_are_served() {
    let db = crate::common::db::TestDb::sqlite().await;
    let app = TestApp::start(db).await;
    let b = app.login("admin", "admin-password").await;
    let missing = b.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing
            .body
            .contains("<link rel=\"stylesheet\" href=\"/static/app.css\">")
    );
    assert!(missing.body.contains("<h1>Not found</h1>"));
    let bad_id = b.get("/tasks/not-a-uuid").await;
    assert_eq!(bad_id.status, StatusCode::NOT_FOUND);
    for (path, ty) in [
        ("/static/app.css", "text/css"),
        ("/static/app.js", "text/javascript"),
        ("/static/favicon.svg", "image/svg+xml"),
    ] {
        let r = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ty)
        );
    }
    assert_eq!(
        reqwest::get(format!("{}/healthz", app.base))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn inbox_sorting_paging_and_filters() {
    let db = crate::common::db::TestDb::sqlite().await;
    let app = TestApp::start(db).await;
    app.deploy_demo().await;
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t" name="Urgent" camunda:candidateGroups="Marko" camunda:priority="${{p}}" camunda:dueDate="${{due}}"/>{}"#,
        flow("f", "s", "t")
    ));
    let other = app
        .runtime
        .deploy("u.bpmn", xml.as_bytes(), None)
        .await
        .unwrap()
        .definitions[0]
        .id;
    let demo = app
        .runtime
        .store()
        .latest_definition("demo")
        .await
        .unwrap()
        .unwrap()
        .0
        .id;
    for _ in 0..27 {
        app.runtime
            .start(demo, Default::default(), None, None)
            .await
            .unwrap();
    }
    for (p, due) in [(90, "2030-01-02T00:00:00Z"), (10, "2030-01-01T00:00:00Z")] {
        app.runtime
            .start(other, obj(json!({"p": p, "due": due})), None, None)
            .await
            .unwrap();
    }
    app.user("marko", &["Marko"]).await;
    let marko = app.login("marko", "marko-password").await;
    let first = marko.get("/tasks").await;
    assert!(
        first.body.contains("Page 1 of 2 · 29 in all"),
        "{}",
        first.body
    );
    assert_eq!(task_links(&first.body).len(), 25);
    assert_eq!(task_links(&marko.get("/tasks?page=2").await.body).len(), 4);
    let by_priority = marko.get("/tasks?sort=priority").await;
    let first_row = by_priority.body.split("<tbody>").nth(1).unwrap();
    assert!(
        first_row.trim_start().starts_with("<tr>")
            && first_row.find("Urgent") < first_row.find("Which option?")
    );
    let by_due = marko.get("/tasks?sort=due").await.body;
    let a = by_due.find("2030-01-01").unwrap();
    let b = by_due.find("2030-01-02").unwrap();
    assert!(a < b, "the soonest due first");
    let only = marko.get("/tasks?process=demo").await;
    assert!(!only.body.contains("Urgent"));
    assert!(only.body.contains("27 in all"));
    let marko_p = Principal::new("marko", vec!["Marko".into()], Role::User);
    let (mine, claimable) = app.runtime.tasks().counts(&marko_p).await.unwrap();
    assert_eq!(
        (mine.count, claimable.count, claimable.more),
        (0, 29, false)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_create_and_revoke_their_own_tokens() {
    let app = TestApp::start(crate::common::db::TestDb::sqlite().await).await;
    app.user("ann", &["clerks"]).await;
    let ann = app.login("ann", "ann-password").await;
    let page = ann.get("/account").await;
    assert!(page.body.contains("<span class=\"tag\">clerks</span>"));
    let created = ann.post("/account/tokens", &[("name", "laptop")]).await;
    assert_eq!(created.status, StatusCode::OK);
    let secret = created
        .body
        .split("<code class=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(secret.starts_with("bpmn_"));
    let api = |token: &str| {
        let t = token.to_string();
        let base = app.base.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{base}/api/v1/tasks"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(api(&secret).await, StatusCode::OK);
    assert!(
        !ann.get("/account").await.body.contains(&secret),
        "the secret is shown only once"
    );
    let user = app.runtime.user_named("ann").await.unwrap().unwrap();
    let token = app
        .runtime
        .accounts()
        .tokens(&user)
        .await
        .unwrap()
        .remove(0);
    // Another user cannot revoke it.
    app.user("bob", &[]).await;
    let bob = app.login("bob", "bob-password").await;
    assert_eq!(
        bob.post(&format!("/account/tokens/{}/revoke", token.id), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api(&secret).await, StatusCode::OK);
    assert_eq!(
        ann.post(&format!("/account/tokens/{}/revoke", token.id), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(api(&secret).await, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[test]
fn bpmn_token_create_prints_a_working_token() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.sqlite").display()
    );
    let bin = env!("CARGO_BIN_EXE_bpmn");
    let add = std::process::Command::new(bin)
        .args([
            "user",
            "add",
            "worker",
            "--password",
            "worker-password",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let out = std::process::Command::new(bin)
        .args([
            "token",
            "create",
            "worker",
            "--name",
            "ci",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("bpmn_") && token.len() > 40);
    let missing = std::process::Command::new(bin)
        .args(["token", "create", "nobody", "--database-url", &url])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("there is no user \"nobody\""));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let runtime = bpmn_engine::runtime::Runtime::connect(
            &url,
            std::sync::Arc::new(bpmn_engine::runtime::SystemClock),
        )
        .await
        .unwrap();
        assert_eq!(
            runtime
                .accounts()
                .token_user(&token)
                .await
                .unwrap()
                .unwrap()
                .name,
            "worker"
        );
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instance_page_marks_taken_flows_cancelled_tasks_and_zooms() {
    for app in TestApp::each().await {
        let admin = app.login("admin", "admin-password").await;
        admin.upload("demo.bpmn", demo_bytes()).await;
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
            .post("/definitions/demo/start", &[])
            .await
            .location
            .unwrap();
        let ids = task_links(&marko.get("/tasks").await.body);
        marko
            .post(&format!("/tasks/{}/complete", ids[0]), &[("f.option", "2")])
            .await;
        let page = marko.get(&instance).await;
        assert_eq!(page.status, StatusCode::OK);
        let body = &page.body;
        // Taken flows are drawn as such, flows not taken are not.
        assert!(body.contains("<g class=\"flow sequence-flow completed\" data-element=\"Flow_start_t0\"><title>Flow_start_t0: taken</title>"), "{body}");
        assert!(
            body.contains("<g class=\"flow sequence-flow\" data-element=\"Flow_choice_tup2\">")
        );
        // What it waits for, in words.
        assert!(
            body.contains(": a person to complete a user task"),
            "{body}"
        );
        assert!(!body.contains("user_task"), "no raw kinds");
        // Marko may open his lane's task, not Pero's: no link that answers 404.
        let up = app
            .runtime
            .open_task_for(instance_id(&instance), "tup")
            .await
            .unwrap()
            .unwrap()
            .id;
        let down = app
            .runtime
            .open_task_for(instance_id(&instance), "tdown")
            .await
            .unwrap()
            .unwrap()
            .id;
        assert!(
            body.contains(&format!("<a href=\"/tasks/{up}\">Up</a>")),
            "{body}"
        );
        assert!(!body.contains(&format!("/tasks/{down}")), "{body}");
        assert!(body.contains("<td data-label=\"Task\">Down</td>"));
        // Links on the diagram are named by element and state.
        assert!(body.contains("aria-label=\"Up: active\""), "{body}");
        assert!(body.contains("aria-label=\"Which option?: completed 1×\""));
        // Drawn 1:1, with zoom links and a full-screen view.
        assert!(body.contains("width=\"1400\" height=\"440\""));
        assert!(
            body.contains(&format!(
                "href=\"{instance}?zoom=150#diagram\" data-zoom=\"in\""
            )),
            "{body}"
        );
        assert!(body.contains(&format!("<a href=\"{instance}/diagram\">Full screen</a>")));
        let zoomed = marko.get(&format!("{instance}?zoom=150")).await;
        assert!(zoomed.body.contains("width=\"2100\" height=\"660\""));
        assert!(zoomed.body.contains("class=\"diagram zoomed\""));
        let bad = marko.get(&format!("{instance}?zoom=9000")).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body
                .contains("zoom must be a percentage from 25 to 400"),
            "{}",
            bad.body
        );
        let full = marko.get(&format!("{instance}/diagram")).await;
        assert_eq!(full.status, StatusCode::OK);
        assert!(full.body.contains("<body class=\"full-screen\">"));
        assert!(full.body.contains("data-element=\"tup\""));
        assert!(
            full.body
                .contains(&format!("href=\"{instance}?element=tup#history\"")),
            "{}",
            full.body
        );
        assert!(full.body.contains("Close full screen"));
        let def_full = marko.get("/definitions/demo/diagram?zoom=50").await;
        assert!(
            def_full.body.contains("width=\"700\" height=\"220\""),
            "{}",
            def_full.body
        );
        // Cancelled: the open tasks are marked cancelled, not completed.
        admin.post(&format!("{instance}/cancel"), &[]).await;
        let page = admin.get(&instance).await;
        assert!(page.body.contains("The instance was terminated."));
        assert!(page.body.contains("<g class=\"shape task user-task terminated\" data-element=\"tup\"><title>Up: cancelled</title>"), "{}", page.body);
        assert!(
            page.body
                .contains("<g class=\"shape task user-task terminated\" data-element=\"tdown\">")
        );
        app.stop().await;
    }
}

fn instance_id(location: &str) -> uuid::Uuid {
    location.trim_start_matches("/instances/").parse().unwrap()
}
