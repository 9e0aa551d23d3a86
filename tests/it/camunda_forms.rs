//! Camunda Forms (form-js `.form` files) on real databases: deploy-time
//! checks, links from user tasks and start events (Camunda 7 and 8), every
//! component rendered on the task page, validation and type conversion on
//! the page and in the API, nested keys, pre-filled values and conditions.

use reqwest::StatusCode;
use serde_json::{Value, json};

use bpmn_engine::model::camunda_form;
use bpmn_engine::runtime::{RuntimeError, StartRequest, Values};

use crate::common::app::TestApp;
use crate::common::db::databases;
use crate::common::rt;
use crate::common::*;

/// A form of our own with one component of every kind this engine renders.
fn every_component() -> Value {
    json!({
        "type": "default",
        "id": "every-component",
        "schemaVersion": 16,
        "components": [
            {"type": "text", "id": "Intro", "text": "## Hello\n\n**Bold** and <script>alert(1)</script>", "layout": {"row": "r0"}},
            {"type": "textfield", "id": "Name", "key": "claimant", "label": "Your name", "description": "As on your ID.",
             "validate": {"required": true, "minLength": 2}, "layout": {"row": "r1", "columns": 10}},
            {"type": "textfield", "id": "Email", "key": "email", "label": "Email", "validate": {"validationType": "email"}, "layout": {"row": "r1"}},
            {"type": "textfield", "id": "Phone", "key": "phone", "label": "Phone", "validate": {"validationType": "phone"}},
            {"type": "textfield", "id": "Zip", "key": "address.zip", "label": "Postcode",
             "validate": {"pattern": "^[0-9]{5}$", "patternErrorMessage": "Five digits, please."}},
            {"type": "textarea", "id": "Notes", "key": "notes", "label": "Notes", "validate": {"maxLength": 20}},
            {"type": "number", "id": "Amount", "key": "amount", "label": "Amount", "decimalDigits": 2,
             "appearance": {"suffixAdorner": "EUR"}, "validate": {"required": true, "min": 1, "max": 10000}},
            {"type": "number", "id": "Boxes", "key": "boxes", "label": "Boxes", "increment": 5},
            {"type": "checkbox", "id": "Urgent", "key": "urgent", "label": "Urgent"},
            {"type": "checklist", "id": "Extras", "key": "extras", "label": "Extras",
             "values": [{"label": "Hotel", "value": "hotel"}, {"label": "Car", "value": "car"}]},
            {"type": "radio", "id": "Class", "key": "class", "label": "Class",
             "values": [{"label": "First", "value": "first"}, {"label": "Second", "value": "second"}], "defaultValue": "second"},
            {"type": "select", "id": "Office", "key": "office", "label": "Office", "valuesKey": "offices"},
            {"type": "taglist", "id": "Tags", "key": "tags", "label": "Tags",
             "values": [{"label": "Red", "value": "red"}, {"label": "Blue", "value": "blue"}]},
            {"type": "datetime", "id": "Day", "key": "day", "subtype": "date", "dateLabel": "Day"},
            {"type": "datetime", "id": "At", "key": "at", "subtype": "time", "timeLabel": "At", "timeInterval": 15},
            {"type": "datetime", "id": "When", "key": "when", "subtype": "datetime", "dateLabel": "When"},
            {"type": "textfield", "id": "Why", "key": "why", "label": "Why so much?", "validate": {"required": true},
             "conditional": {"hide": "=amount = null or amount < 1000"}},
            {"type": "textfield", "id": "Ref", "key": "reference", "label": "Reference", "readonly": true},
            {"type": "image", "id": "Logo", "source": "data:image/png;base64,iVBORw0KGgo=", "alt": "Our logo"},
            {"type": "spacer", "id": "Gap", "height": 30},
            {"type": "separator", "id": "Line"},
            {"type": "group", "id": "Bank", "label": "Bank", "path": "payout", "showOutline": true, "components": [
                {"type": "textfield", "id": "Iban", "key": "iban", "label": "IBAN"}
            ]}
        ]
    })
}

/// A diagram whose user task `task` carries `attrs` (and `ext` inside its
/// extension elements), after a start event with `start_attrs`.
fn diagram(start_attrs: &str, attrs: &str, ext: &str) -> String {
    let ext = if ext.is_empty() {
        String::new()
    } else {
        format!("<bpmn:extensionElements>{ext}</bpmn:extensionElements>")
    };
    definitions(&format!(
        r#"<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s" {start_attrs}/><bpmn:userTask id="task" {attrs}>{ext}</bpmn:userTask><bpmn:endEvent id="e"/>{}{}</bpmn:process>"#,
        flow("f0", "s", "task"),
        flow("f1", "task", "e")
    ))
}

fn problems(e: RuntimeError) -> Vec<String> {
    match e {
        RuntimeError::Invalid(p) => p.diagnostics.iter().map(|d| d.message.clone()).collect(),
        other => panic!("not a deployment error: {other}"),
    }
}

#[test]
fn form_files_are_checked_naming_the_component_and_property() {
    let bad = json!({
        "type": "default", "id": "bad", "components": [
            {"type": "number", "id": "Amount", "key": "amount", "label": "Amount", "validate": {"minLength": 3}},
            {"type": "dynamiclist", "id": "Rows", "path": "rows", "components": []},
            {"type": "textfield", "id": "NoKey", "label": "Nameless"},
            {"type": "image", "id": "Pic", "source": "https://example.com/x.png"},
            {"type": "textfield", "id": "Cond", "key": "c", "conditional": {"hide": "=amount >"}},
            {"type": "fancy", "id": "Custom"},
            {"type": "textfield", "id": "Typo", "key": "t", "lable": "Oops"}
        ]
    });
    let errors: Vec<String> = camunda_form::parse(bad.to_string().as_bytes())
        .unwrap_err()
        .into_iter()
        .map(|p| p.message)
        .collect();
    let has = |needle: &str| {
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "no error with {needle:?} in {errors:#?}"
        )
    };
    has(
        r#"number component "Amount" (key "amount", label "Amount"): property validate.minLength is not allowed"#,
    );
    has(r#"dynamiclist component "Rows": dynamiclist components are not supported here"#);
    has(r#"textfield component "NoKey" (label "Nameless"): property key is missing"#);
    has(r#"image component "Pic": property source "https://example.com/x.png" is refused"#);
    has(r#"textfield component "Cond" (key "c"): property conditional.hide: FEEL syntax error"#);
    has(r#"property type: "fancy" is not a form-js component"#);
    has(r#"textfield component "Typo" (key "t"): property lable is not allowed"#);
    assert_eq!(errors.len(), 7, "{errors:#?}");
    // Our own form is valid, and so is the example in bpmn/.
    camunda_form::parse(every_component().to_string().as_bytes()).unwrap();
    camunda_form::parse(include_bytes!("../../bpmn/expense-claim.form")).unwrap();
}

#[tokio::test]
async fn deploying_forms_and_the_diagrams_that_link_them() {
    for db in databases().await {
        let store = db.store().await;
        let runtime = rt::runtime_on(store, |s| {
            bpmn_engine::runtime::Runtime::new(
                s,
                std::sync::Arc::new(bpmn_engine::runtime::VirtualClock::new(t0())),
            )
        });
        // A diagram linking a form that is not deployed is refused, by element.
        let linking = diagram("", r#"camunda:formRef="every-component""#, "");
        let e = runtime
            .deploy("p.bpmn", linking.as_bytes(), None)
            .await
            .unwrap_err();
        let msgs = problems(e);
        assert!(
            msgs[0].contains(r#"the form "every-component" is not deployed"#),
            "{msgs:?}"
        );
        // A refused form stores nothing and names its component.
        let mut broken = every_component();
        broken["components"][1]["validate"]["min"] = json!(3);
        let msgs = problems(
            runtime
                .deploy("f.form", broken.to_string().as_bytes(), None)
                .await
                .unwrap_err(),
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains(r#"textfield component "Name""#) && m.contains("validate.min ")),
            "{msgs:?}"
        );
        // Forms are versioned by their id; the same content makes no version.
        let v1 = runtime
            .deploy("f.form", every_component().to_string().as_bytes(), None)
            .await
            .unwrap();
        assert_eq!(
            (
                v1.forms[0].key.as_str(),
                v1.forms[0].version,
                v1.forms[0].created
            ),
            ("every-component", 1, true)
        );
        let again = runtime
            .deploy("f.form", every_component().to_string().as_bytes(), None)
            .await
            .unwrap();
        assert!(!again.forms[0].created);
        let d = runtime
            .deploy("p.bpmn", linking.as_bytes(), None)
            .await
            .unwrap();
        assert!(d.definitions[0].created);
        assert!(
            d.warnings
                .iter()
                .all(|w| !w.message.contains("not rendered")),
            "{:?}",
            d.warnings
        );
        // A missing version is refused; a present one deploys.
        let v3 = diagram(
            "",
            r#"camunda:formRef="every-component" camunda:formRefBinding="version" camunda:formRefVersion="3""#,
            "",
        );
        let msgs = problems(
            runtime
                .deploy("v.bpmn", v3.as_bytes(), None)
                .await
                .unwrap_err(),
        );
        assert!(msgs[0].contains("version 3 of the form"), "{msgs:?}");
        // `deployment` binding: the unchanged diagram gets a new version when
        // its form changed, so that it keeps the form deployed with it.
        let pinned = diagram(
            "",
            r#"camunda:formRef="every-component" camunda:formRefBinding="deployment""#,
            "",
        );
        let first = runtime
            .deploy("d.bpmn", pinned.as_bytes(), None)
            .await
            .unwrap();
        let mut changed = every_component();
        changed["components"][1]["label"] = json!("Full name");
        runtime
            .deploy("f.form", changed.to_string().as_bytes(), None)
            .await
            .unwrap();
        let second = runtime
            .deploy("d.bpmn", pinned.as_bytes(), None)
            .await
            .unwrap();
        assert!(second.definitions[0].created);
        assert_eq!(
            second.definitions[0].version,
            first.definitions[0].version + 1
        );
        let first_form = runtime
            .deployments()
            .by_id(&rt::admin(None), first.definitions[0].id)
            .await
            .unwrap();
        let started = runtime
            .start(first_form.definition.id, Default::default(), None, None)
            .await
            .unwrap();
        let task = runtime
            .open_task_for(started.instance_id, "task")
            .await
            .unwrap()
            .unwrap();
        let detail = runtime
            .tasks()
            .show(&rt::admin(None), task.id)
            .await
            .unwrap();
        let name = detail.camunda_form.unwrap();
        assert_eq!(name.inputs()[0].label.as_deref(), Some("Your name"));
        db.drop_now().await;
    }
}

/// Deploys the form and a diagram linking it, starts an instance with
/// `vars`, and answers the task's id.
async fn task_with(app: &TestApp, vars: Value) -> String {
    app.runtime
        .deploy("every.form", every_component().to_string().as_bytes(), None)
        .await
        .unwrap();
    let d = app
        .runtime
        .deploy(
            "p.bpmn",
            diagram(
                "",
                r#"camunda:formKey="camunda-forms:deployment:every.form""#,
                "",
            )
            .as_bytes(),
            None,
        )
        .await
        .unwrap();
    let started = app
        .runtime
        .start(d.definitions[0].id, obj(vars), None, None)
        .await
        .unwrap();
    app.runtime
        .open_task_for(started.instance_id, "task")
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_page_renders_every_component_prefilled() {
    for app in TestApp::each().await {
        let id = task_with(
            &app,
            json!({
                "claimant": "Ada",
                "offices": [{"label": "Berlin", "value": "ber"}, {"label": "Paris", "value": "par"}],
                "office": "par",
                "payout": {"iban": "DE00123"},
                "reference": "R-1",
                "extras": ["car"],
                "when": "2026-12-01T10:30Z"
            }),
        )
        .await;
        let b = app.login("admin", "admin-password").await;
        let page = b.get(&format!("/tasks/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.body;
        let has = |needle: &str| assert!(html.contains(needle), "no {needle:?} in:\n{html}");
        // Text view: Markdown, its HTML escaped.
        has("<h2>Hello</h2>");
        has("<strong>Bold</strong>");
        has("&lt;script&gt;alert(1)&lt;/script&gt;");
        assert!(!html.contains("<script>alert"));
        // Inputs with labels, descriptions tied to them, pre-filled values.
        has(
            r#"<label for="cf-Name">Your name <span class="req" aria-hidden="true">*</span></label>"#,
        );
        has(
            r#"<input id="cf-Name" name="f.claimant" type="text" value="Ada" aria-required="true" minlength="2" aria-describedby="cf-Name-desc">"#,
        );
        has(r#"<p class="hint" id="cf-Name-desc">As on your ID.</p>"#);
        has(r#"style="grid-column: span 10""#);
        has(r#"style="grid-column: span 6""#);
        has(r#"name="f.email" type="email""#);
        has(r#"name="f.phone" type="tel""#);
        has(r#"<textarea id="cf-Notes" name="f.notes" rows="4" maxlength="20">"#);
        has(
            r#"name="f.amount" type="number" value="" aria-required="true" min="1" max="10000" step="0.01""#,
        );
        has(r#"<span class="cf-adorner">EUR</span>"#);
        has(r#"name="f.boxes" type="number" value="" step="5""#);
        has(r#"<input type="checkbox" id="cf-Urgent" name="f.urgent" value="true">"#);
        has(r#"<input type="checkbox" name="f.extras" value="car" checked> Car"#);
        has(r#"<input type="checkbox" name="f.extras" value="hotel"> Hotel"#);
        has(r#"<input type="radio" name="f.class" value="second" checked> Second"#);
        has(r#"<option value="par" selected>Paris</option>"#);
        has(r#"<option value="ber">Berlin</option>"#);
        has(r#"<input type="checkbox" name="f.tags" value="red"> Red"#);
        has(r#"name="f.day" type="date""#);
        has(r#"name="f.at" type="time" value="" step="900""#);
        has(r#"name="f.when" type="datetime-local" value="2026-12-01T10:30""#);
        has(r#"name="f.reference" type="text" value="R-1" readonly"#);
        has(
            r#"<img class="cf-image" id="cf-Logo" src="data:image/png;base64,iVBORw0KGgo=" alt="Our logo">"#,
        );
        has(r#"style="height: 30px""#);
        has(r#"<hr class="cf-separator" id="cf-Line">"#);
        has(r#"<fieldset class="cf-group outline align-start" id="cf-Bank"><legend>Bank</legend>"#);
        has(r#"name="f.payout.iban" type="text" value="DE00123""#);
        // The condition hides "Why" while there is no amount; the script asks the server.
        has(r#"data-cf-cond="cf-Why" hidden>"#);
        has(&format!(r#"data-cf-hidden="/tasks/{id}/form/hidden""#));
        has(r#"<button type="submit" class="primary">Complete</button>"#);
        // The JSON endpoint the script uses: same rules as the page.
        let csrf = b.csrf().await;
        let answer = b
            .post_raw(
                &format!("/tasks/{id}/form/hidden"),
                &[("f.amount", "5000"), ("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let hidden: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(hidden, json!({"hidden": []}));
        let answer = b
            .post_raw(
                &format!("/tasks/{id}/form/hidden"),
                &[("f.amount", "5"), ("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(
            serde_json::from_str::<Value>(&answer.body).unwrap(),
            json!({"hidden": ["Why"]})
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_validates_converts_and_nests_values() {
    for app in TestApp::each().await {
        let id = task_with(&app, json!({"offices": ["ber", "par"], "reference": "R-1"})).await;
        let b = app.login("admin", "admin-password").await;
        let path = format!("/tasks/{id}/complete");
        // Everything wrong at once: each message beside its field.
        let refused = b
            .post(
                &path,
                &[
                    ("f.claimant", "A"),
                    ("f.email", "not-an-email"),
                    ("f.phone", "12345"),
                    ("f.address.zip", "1234"),
                    ("f.notes", "far too long for twenty characters"),
                    ("f.amount", "5000.123"),
                    ("f.boxes", "7"),
                    ("f.class", "third"),
                    ("f.at", "10:20"),
                    ("f.reference", "changed"),
                    ("f.sneaky", "x"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.body;
        for (field, message) in [
            ("Name", "must be at least 2 characters long"),
            ("Email", "must be an email address such as name@example.com"),
            ("Phone", "must be a phone number with its country code"),
            ("Zip", "Five digits, please."),
            ("Notes", "must be at most 20 characters long"),
            (
                "Amount",
                "may have at most 2 digits after the decimal point",
            ),
            ("Boxes", "must be a multiple of 5"),
            ("Class", "must be one of first, second, not &#34;third&#34;"),
            ("At", "minutes must be a multiple of 15"),
            ("Ref", "is read-only"),
            // Amount 5000.123 is refused, but the condition sees it: "Why" shows.
            ("Why", "is required"),
        ] {
            let needle = format!(r#"<p class="error-text" id="cf-{field}-err">{message}"#);
            assert!(html.contains(&needle), "no {needle:?} in:\n{html}");
        }
        assert!(html.contains(r#"aria-describedby="cf-Name-desc cf-Name-err""#));
        assert!(
            html.contains(r#"name="f.claimant" type="text" value="A""#),
            "the posted value is kept"
        );
        assert!(
            !html.contains(r#"data-cf-cond="cf-Why" hidden"#),
            "the refused page re-renders conditions"
        );
        // A small amount hides "Why": not required, not submitted.
        let done = b
            .post(
                &path,
                &[
                    ("f.claimant", "Ada Lovelace"),
                    ("f.email", "ada@example.com"),
                    ("f.phone", "+44 20 7946 0958"),
                    ("f.address.zip", "12345"),
                    ("f.amount", "12.50"),
                    ("f.boxes", "10"),
                    ("f.urgent", "true"),
                    ("f.extras", "hotel"),
                    ("f.extras", "car"),
                    ("f.tags", "blue"),
                    ("f.office", "par"),
                    ("f.day", "2026-12-24"),
                    ("f.at", "09:45"),
                    ("f.when", "2026-12-24T18:00"),
                    ("f.why", "ignored while hidden"),
                    ("f.reference", "R-1"),
                    ("f.payout.iban", "DE89370400440532013000"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let task = app
            .runtime
            .store()
            .task(id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let (_, state) = app.runtime.instance(task.instance_id).await.unwrap();
        let vars = state.root_variables();
        let expect = json!({
            "claimant": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0958",
            "address": {"zip": "12345"}, "amount": 12.5, "boxes": 10, "urgent": true,
            "extras": ["hotel", "car"], "tags": ["blue"], "class": "second", "office": "par",
            "day": "2026-12-24", "at": "09:45Z", "when": "2026-12-24T18:00Z",
            "payout": {"iban": "DE89370400440532013000"},
            "offices": ["ber", "par"], "reference": "R-1"
        });
        assert_eq!(Value::Object(vars), expect);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_lists_the_form_and_completes_with_the_same_rules() {
    for app in TestApp::each().await {
        let id = task_with(&app, json!({"offices": ["ber"]})).await;
        let user = app.runtime.user_named("admin").await.unwrap().unwrap();
        let (_, token) = app.runtime.create_token(user.id, "tests").await.unwrap();
        let client = reqwest::Client::new();
        let got: Value = client
            .get(format!("{}/api/v1/tasks/{id}", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["camunda_form"]["id"], "every-component");
        assert_eq!(got["camunda_form"]["components"][1]["key"], "claimant");
        let complete = |body: Value| {
            client
                .post(format!("{}/api/v1/tasks/{id}/complete", app.base))
                .bearer_auth(&token)
                .json(&body)
                .send()
        };
        let r = complete(json!({"variables": {"claimant": "Ada", "amount": "12", "payout": {"iban": 7, "bic": "X"}, "extras": "car"}}))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        for needle in [
            "payout.bic: is not a field of this form",
            "amount: must be a number",
            "payout.iban: must be text",
            "extras: must be a list",
        ] {
            assert!(body.contains(needle), "no {needle:?} in {body}");
        }
        let r = complete(json!({"variables": {"claimant": "Ada", "amount": 2000, "why": "a big trip", "payout": {"iban": "X1"}, "extras": ["car"]}}))
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let task = app
            .runtime
            .store()
            .task(id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let (_, state) = app.runtime.instance(task.instance_id).await.unwrap();
        let vars = state.root_variables();
        assert_eq!(vars["amount"], json!(2000));
        assert_eq!(vars["why"], json!("a big trip"));
        assert_eq!(vars["payout"], json!({"iban": "X1"}));
        assert_eq!(vars["class"], json!("second"), "the default");
        app.stop().await;
    }
}

#[tokio::test]
async fn camunda_8_embedded_forms_and_start_forms() {
    for db in databases().await {
        let store = db.store().await;
        let runtime = rt::runtime_on(store, |s| {
            bpmn_engine::runtime::Runtime::new(
                s,
                std::sync::Arc::new(bpmn_engine::runtime::VirtualClock::new(t0())),
            )
        });
        let start_form = json!({"type": "default", "id": "start-form", "components": [
            {"type": "textfield", "id": "Who", "key": "who", "label": "Who", "validate": {"required": true}}
        ]});
        runtime
            .deploy("start.form", start_form.to_string().as_bytes(), None)
            .await
            .unwrap();
        let embedded = json!({"type": "default", "id": "approve", "components": [
            {"type": "checkbox", "id": "Ok", "key": "approved", "label": "Approve"},
            {"type": "number", "id": "Max", "key": "limits.max", "label": "Limit", "validate": {"max": 100}}
        ]});
        let xml = definitions(&format!(
            r#"<bpmn:process id="p8" isExecutable="true">
<bpmn:extensionElements><zeebe:userTaskForm id="UserTaskForm_1">{}</zeebe:userTaskForm></bpmn:extensionElements>
<bpmn:startEvent id="s"><bpmn:extensionElements><zeebe:formDefinition formId="start-form"/></bpmn:extensionElements></bpmn:startEvent>
<bpmn:userTask id="task"><bpmn:extensionElements><zeebe:formDefinition formKey="camunda-forms:bpmn:UserTaskForm_1"/></bpmn:extensionElements></bpmn:userTask>
<bpmn:endEvent id="e"/>{}{}</bpmn:process>"#,
            embedded.to_string().replace('&', "&amp;").replace('<', "&lt;"),
            flow("f0", "s", "task"),
            flow("f1", "task", "e")
        ))
        .replace(
            r#"id="defs""#,
            r#"xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs""#,
        );
        let d = runtime
            .deploy("p8.bpmn", xml.as_bytes(), None)
            .await
            .unwrap();
        assert!(
            d.warnings
                .iter()
                .all(|w| !w.message.contains("not rendered")),
            "{:?}",
            d.warnings
        );
        let who = rt::admin(None);
        let start = |values: Value| StartRequest {
            key: "p8".into(),
            values: Values::Json(obj(values)),
            ..Default::default()
        };
        match runtime
            .deployments()
            .start(&who, start(json!({"nobody": 1})))
            .await
        {
            Err(RuntimeError::InvalidVariables(errors)) => {
                let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
                assert_eq!(
                    text,
                    ["nobody: is not a field of this form", "who: is required"]
                );
            }
            other => panic!("{other:?}"),
        }
        let started = runtime
            .deployments()
            .start(&who, start(json!({"who": "Ada"})))
            .await
            .unwrap();
        let task = runtime
            .open_task_for(started.instance_id, "task")
            .await
            .unwrap()
            .unwrap();
        let refused = runtime
            .tasks()
            .complete(
                &who,
                task.id,
                Values::Json(obj(json!({"limits": {"max": 500}}))),
            )
            .await;
        assert!(
            matches!(&refused, Err(RuntimeError::InvalidVariables(e)) if e[0].to_string() == "limits.max: must be at most 100"),
            "{refused:?}"
        );
        runtime
            .tasks()
            .complete(
                &who,
                task.id,
                Values::Json(obj(json!({"limits": {"max": 50}}))),
            )
            .await
            .unwrap();
        let (_, state) = runtime.instance(started.instance_id).await.unwrap();
        assert_eq!(
            Value::Object(state.root_variables()),
            json!({"who": "Ada", "approved": false, "limits": {"max": 50}})
        );
        // A broken embedded form refuses the diagram, naming the component.
        let broken = xml.replace(r#""label":"Limit""#, r#""label":"Limit","increment":-1"#);
        let msgs = problems(
            runtime
                .deploy("b.bpmn", broken.as_bytes(), None)
                .await
                .unwrap_err(),
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains(r#"number component "Max""#) && m.contains("increment")),
            "{msgs:?}"
        );
        db.drop_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camunda_modeler_deploys_a_form_with_its_diagram() {
    for app in TestApp::each().await {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bpmn");
        let part = |name: &str| {
            reqwest::multipart::Part::bytes(std::fs::read(dir.join(name)).unwrap())
                .file_name(name.to_string())
        };
        let deploy = |with_form: bool| {
            let mut form = reqwest::multipart::Form::new()
                .text("deployment-name", "expense")
                .part("expense-claim.bpmn", part("expense-claim.bpmn"));
            if with_form {
                form = form.part("expense-claim.form", part("expense-claim.form"));
            }
            reqwest::Client::new()
                .post(format!("{}/engine-rest/deployment/create", app.base))
                .basic_auth("admin", Some("admin-password"))
                .multipart(form)
                .send()
        };
        // Without its form the diagram is refused, and nothing is stored.
        let r = deploy(false).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body: Value = r.json().await.unwrap();
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(r#"the form "expense-claim" is not deployed"#)
                && message.contains("element FillClaim"),
            "{message}"
        );
        let who = rt::admin(None);
        assert!(
            app.runtime
                .deployments()
                .deployments(&who)
                .await
                .unwrap()
                .is_empty()
        );
        // With it (listed after the diagram), both deploy: the form first.
        let r = deploy(true).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["deployedProcessDefinitions"]
                .as_object()
                .unwrap()
                .len(),
            1
        );
        let files: Vec<String> = app
            .runtime
            .deployments()
            .deployments(&who)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(files.len(), 2);
        assert!(
            files.contains(&"expense-claim.form".to_string()),
            "{files:?}"
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_page_renders_and_checks_the_start_form() {
    for app in TestApp::each().await {
        let start_form = json!({"type": "default", "id": "start-form", "components": [
            {"type": "textfield", "id": "Who", "key": "requester.name", "label": "Who asks?", "validate": {"required": true}}
        ]});
        app.runtime
            .deploy("start.form", start_form.to_string().as_bytes(), None)
            .await
            .unwrap();
        app.runtime
            .deploy(
                "p.bpmn",
                diagram(r#"camunda:formRef="start-form""#, "", "").as_bytes(),
                None,
            )
            .await
            .unwrap();
        let b = app.login("admin", "admin-password").await;
        let page = b.get("/definitions/p").await;
        assert!(
            page.body.contains(r#"<input id="cf-Who" name="f.requester.name" type="text" value="" aria-required="true">"#),
            "{}",
            page.body
        );
        let refused = b
            .post("/definitions/p/start", &[("f.requester.name", "")])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused
                .body
                .contains(r#"<p class="error-text" id="cf-Who-err">is required</p>"#)
        );
        let started = b
            .post("/definitions/p/start", &[("f.requester.name", "Ada")])
            .await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let id: uuid::Uuid = started
            .location
            .unwrap()
            .trim_start_matches("/instances/")
            .parse()
            .unwrap();
        let (_, state) = app.runtime.instance(id).await.unwrap();
        assert_eq!(state.root_variables()["requester"], json!({"name": "Ada"}));
        app.stop().await;
    }
}
