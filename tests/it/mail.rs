//! Notification mails, against a local SMTP sink on both databases: one mail
//! per assignment with a working link, group offers to the members, nobody
//! after opting out, nothing without SMTP, a refused mail sent again exactly
//! once, one refused for good failed for admins (no incident), incidents to
//! admins, and a mail whose delivery is unknown never sent again.

use std::sync::Arc;

use bpmn_engine::runtime::jobs::{self, ExecutorConfig};
use bpmn_engine::runtime::{Clock, MailSettings, Mailer, Principal, Runtime, VirtualClock};
use bpmn_engine::store::{MAIL_FAILED, MAIL_PENDING, MAIL_SENT};
use reqwest::StatusCode;

use crate::common::app::TestApp;
use crate::common::db::databases;
use crate::common::smtp::{SmtpSink, SunkMail};
use crate::common::{Shorthand, process, t0};

const PUBLIC: &str = "https://bpmn.example.org";

fn mailer(sink: &SmtpSink, public_url: &str) -> Mailer {
    Mailer::new(&MailSettings {
        smtp_url: sink.url(),
        from: "Workflow <bpmn@example.org>".into(),
        public_url: public_url.into(),
    })
    .unwrap()
}

/// Runs `test` once per database with a runtime on a virtual clock that
/// mails through `sink` (or sends no mail at all without one).
async fn each_db_mailing<F, Fut>(sink: Option<&SmtpSink>, test: F)
where
    F: Fn(Arc<Runtime>, Arc<VirtualClock>, &'static str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in databases().await {
        let store = db.store().await;
        let clock = Arc::new(VirtualClock::new(t0()));
        let runtime = crate::common::rt::runtime_on(store, |s| {
            let r = Runtime::new(s, clock.clone());
            match sink {
                Some(sink) => r.with_mailer(mailer(sink, PUBLIC)),
                None => r,
            }
        });
        test(runtime, clock, db.backend).await;
        db.drop_now().await;
    }
}

/// Moves the virtual clock on.
fn advance(clock: &VirtualClock, seconds: i64) {
    clock.set(clock.now() + jiff::SignedDuration::from_secs(seconds));
}

/// Runs the executor until nothing is due.
async fn run_jobs(runtime: &Arc<Runtime>) {
    let cfg = ExecutorConfig::new("mail-test".into());
    for _ in 0..20 {
        if jobs::run_due(runtime, &cfg).await.unwrap() == 0 {
            return;
        }
    }
    panic!("the executor kept finding work");
}

/// A user with groups and, when given, an address.
async fn person(runtime: &Runtime, name: &str, groups: &[&str], email: Option<&str>) {
    let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    let user = runtime
        .create_user(name, &format!("{name}-password"), &groups, false)
        .await
        .unwrap();
    if let Some(e) = email {
        runtime
            .accounts()
            .set_own_mail(&user, e, true)
            .await
            .unwrap()
            .unwrap();
    }
}

/// The addresses mails went to, sorted.
fn recipients(mails: &[SunkMail]) -> Vec<String> {
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to
}

/// Deploys a process around `inner` as `file`; its definition id.
async fn deploy(runtime: &Runtime, file: &str, inner: &str, user: Option<&str>) -> i64 {
    runtime
        .deploy(file, process(inner).as_bytes(), user)
        .await
        .unwrap()
        .definitions[0]
        .id
}

const ASSIGNED: &str = r#"<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/>
<bpmn:userTask id="review" name="Review the order" camunda:assignee="ann"/>
<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="e"/>
<bpmn:endEvent id="e"/>"#;

const OFFERED: &str = r#"<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="check"/>
<bpmn:userTask id="check" name="Check the invoice" camunda:candidateGroups="clerks" camunda:candidateUsers="erin"/>
<bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="e"/>
<bpmn:endEvent id="e"/>"#;

const BROKEN: &str = r#"<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="calc"/>
<bpmn:scriptTask id="calc" scriptFormat="rhai"><bpmn:script>throw "the rate table is missing";</bpmn:script></bpmn:scriptTask>
<bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="e"/>
<bpmn:endEvent id="e"/>"#;

#[tokio::test]
async fn an_assignment_mails_the_assignee_once_with_a_link_that_opens_the_task() {
    for db in databases().await {
        let sink = SmtpSink::start().await;
        let app = TestApp::start_at(
            db,
            |r, base| r.with_mailer(mailer(&sink, base)),
            Default::default(),
        )
        .await;
        let backend = app.backend;
        app.user("ann", &[]).await;
        let ann = app.login("ann", "ann-password").await;
        // A bad address is refused, naming the field, and changes nothing.
        let refused = ann
            .post(
                "/account/notifications",
                &[("email", "ann at example"), ("notify", "on")],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(
            refused
                .body
                .contains("E-mail address: &#34;ann at example&#34; is not an e-mail address"),
            "{}",
            refused.body
        );
        let user = app.runtime.user_named("ann").await.unwrap().unwrap();
        assert_eq!(user.email, None, "{backend}");
        let saved = ann
            .post(
                "/account/notifications",
                &[("email", " ann@example.org "), ("notify", "on")],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let page = ann.get("/account").await;
        assert!(
            page.body.contains("value=\"ann@example.org\""),
            "{}",
            page.body
        );

        let def = deploy(&app.runtime, "assigned.bpmn", ASSIGNED, Some("admin")).await;
        let id = app
            .runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        assert!(
            sink.mails().is_empty(),
            "sent by the executor, not the command"
        );
        run_jobs(&app.runtime).await;
        run_jobs(&app.runtime).await;
        let mails = sink.mails();
        assert_eq!(mails.len(), 1, "{backend}: {mails:?}");
        let mail = &mails[0];
        assert_eq!(mail.to, vec!["<ann@example.org>".to_string()], "{backend}");
        assert_eq!(mail.from, "<bpmn@example.org>");
        assert_eq!(
            mail.header("Subject").as_deref(),
            Some("Task \"Review the order\" is assigned to you")
        );
        let task = app
            .runtime
            .open_task_for(id, "review")
            .await
            .unwrap()
            .unwrap();
        let link = format!("{}/tasks/{}", app.base, task.id);
        let body = mail.body();
        assert!(body.lines().any(|l| l == link), "{backend}: {body}");
        let opened = ann.get(&link[app.base.len()..]).await;
        assert_eq!(opened.status, StatusCode::OK, "{backend}");
        assert!(opened.body.contains("Review the order"));
        let rows = app.runtime.store().mails(None, 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].state.as_str(), rows[0].attempts), (MAIL_SENT, 1));
        app.stop().await;
    }
}

#[tokio::test]
async fn an_offer_mails_the_groups_members_and_candidates_but_not_who_opted_out() {
    let sink = SmtpSink::start().await;
    each_db_mailing(Some(&sink), |runtime, _, backend| {
        let sink = sink.clone();
        async move {
            let before = sink.mails().len();
            person(&runtime, "bob", &["clerks"], Some("bob@example.org")).await;
            person(&runtime, "carl", &["clerks"], Some("carl@example.org")).await;
            person(&runtime, "dave", &["clerks"], None).await;
            person(&runtime, "erin", &[], Some("erin@example.org")).await;
            person(&runtime, "frank", &["other"], Some("frank@example.org")).await;
            let carl = runtime.user_named("carl").await.unwrap().unwrap();
            runtime
                .accounts()
                .set_own_mail(&carl, "carl@example.org", false)
                .await
                .unwrap()
                .unwrap();
            let def = deploy(&runtime, "offered.bpmn", OFFERED, None).await;
            let id = runtime
                .start(def, Default::default(), None, None)
                .await
                .unwrap()
                .instance_id;
            run_jobs(&runtime).await;
            let mails = sink.mails()[before..].to_vec();
            assert_eq!(
                recipients(&mails),
                ["<bob@example.org>", "<erin@example.org>"],
                "{backend}"
            );
            assert!(
                mails.iter().all(|m| m.header("Subject").as_deref()
                    == Some("Task \"Check the invoice\" is waiting for you")),
                "{backend}"
            );
            // Bob claims it himself (no mail); an admin hands it to Frank (one).
            let task = runtime.open_task_for(id, "check").await.unwrap().unwrap();
            let bob = Principal::new(
                "bob",
                vec!["clerks".into()],
                bpmn_engine::runtime::Role::User,
            );
            runtime.tasks().claim(&bob, task.id).await.unwrap();
            runtime
                .tasks()
                .assign(&Principal::operator("admin"), task.id, Some("frank".into()))
                .await
                .unwrap();
            run_jobs(&runtime).await;
            let mails = sink.mails()[before..].to_vec();
            assert_eq!(mails.len(), 3, "{backend}: {mails:?}");
            assert_eq!(mails[2].to, vec!["<frank@example.org>".to_string()]);
            assert_eq!(
                mails[2].header("Subject").as_deref(),
                Some("Task \"Check the invoice\" is assigned to you")
            );
        }
    })
    .await;
}

#[tokio::test]
async fn nothing_is_written_or_sent_without_smtp() {
    let sink = SmtpSink::start().await;
    each_db_mailing(None, |runtime, _, backend| {
        let sink = sink.clone();
        async move {
            person(&runtime, "ann", &[], Some("ann@example.org")).await;
            let def = deploy(&runtime, "assigned.bpmn", ASSIGNED, None).await;
            runtime
                .start(def, Default::default(), None, None)
                .await
                .unwrap();
            run_jobs(&runtime).await;
            assert!(!runtime.sends_mail());
            assert!(
                runtime.store().mails(None, 10).await.unwrap().is_empty(),
                "{backend}: nothing queued"
            );
            assert!(sink.mails().is_empty());
        }
    })
    .await;
}

#[tokio::test]
async fn a_mail_refused_for_now_is_sent_again_exactly_once() {
    let sink = SmtpSink::start().await;
    each_db_mailing(Some(&sink), |runtime, clock, backend| {
        let sink = sink.clone();
        async move {
            let before = sink.mails().len();
            person(&runtime, "ann", &[], Some("ann@example.org")).await;
            let def = deploy(&runtime, "assigned.bpmn", ASSIGNED, None).await;
            sink.refuse_for_now(1);
            runtime
                .start(def, Default::default(), None, None)
                .await
                .unwrap();
            run_jobs(&runtime).await;
            assert_eq!(sink.mails().len(), before, "{backend}: refused");
            let rows = runtime.store().mails(None, 10).await.unwrap();
            assert_eq!(
                (rows[0].state.as_str(), rows[0].attempts),
                (MAIL_PENDING, 1)
            );
            assert!(
                rows[0]
                    .last_error
                    .as_deref()
                    .unwrap_or_default()
                    .contains("451"),
                "{:?}",
                rows[0].last_error
            );
            // Not before its pause is over.
            run_jobs(&runtime).await;
            assert_eq!(sink.mails().len(), before, "{backend}");
            advance(&clock, 3);
            run_jobs(&runtime).await;
            advance(&clock, 3600);
            run_jobs(&runtime).await;
            let mails = sink.mails()[before..].to_vec();
            assert_eq!(recipients(&mails), ["<ann@example.org>"], "{backend}");
            let rows = runtime.store().mails(None, 10).await.unwrap();
            assert_eq!((rows[0].state.as_str(), rows[0].attempts), (MAIL_SENT, 2));
        }
    })
    .await;
}

#[tokio::test]
async fn a_mail_refused_for_good_is_shown_to_admins_and_raises_no_incident() {
    let sink = SmtpSink::start().await;
    each_db_mailing(Some(&sink), |runtime, clock, backend| {
        let sink = sink.clone();
        async move {
            person(&runtime, "ann", &[], Some("ann@example.org")).await;
            let def = deploy(&runtime, "assigned.bpmn", ASSIGNED, None).await;
            let refused = sink.refused();
            sink.refuse_for_good(1);
            let id = runtime
                .start(def, Default::default(), None, None)
                .await
                .unwrap()
                .instance_id;
            run_jobs(&runtime).await;
            advance(&clock, 7200);
            run_jobs(&runtime).await;
            assert_eq!(sink.refused(), refused + 1, "{backend}: tried once");
            let failed = runtime
                .accounts()
                .undelivered_mails(&Principal::operator("admin"), 20)
                .await
                .unwrap();
            assert_eq!(failed.len(), 1, "{backend}");
            assert_eq!(failed[0].state, MAIL_FAILED);
            assert!(
                failed[0]
                    .last_error
                    .as_deref()
                    .unwrap_or_default()
                    .contains("550")
            );
            let ann = Principal::new("ann", vec![], bpmn_engine::runtime::Role::User);
            assert!(
                runtime
                    .accounts()
                    .undelivered_mails(&ann, 20)
                    .await
                    .is_err(),
                "admins only"
            );
            let view = runtime.view(id).await.unwrap();
            assert!(
                runtime.store().open_incidents(id).await.unwrap().is_empty(),
                "{backend}: not the instance's fault"
            );
            assert_eq!(view.status, "active");
        }
    })
    .await;
}

#[tokio::test]
async fn an_incident_mails_the_admins() {
    let sink = SmtpSink::start().await;
    each_db_mailing(Some(&sink), |runtime, _, backend| {
        let sink = sink.clone();
        async move {
            let before = sink.mails().len();
            person(&runtime, "ann", &[], Some("ann@example.org")).await;
            for name in ["boss", "chief"] {
                let u = runtime
                    .create_user(name, "a-long-password", &[], true)
                    .await
                    .unwrap();
                runtime
                    .accounts()
                    .set_own_mail(&u, &format!("{name}@example.org"), true)
                    .await
                    .unwrap()
                    .unwrap();
            }
            let def = deploy(&runtime, "broken.bpmn", BROKEN, None).await;
            // Chief starts it: the other admins hear of it.
            let id = runtime
                .start(def, Default::default(), None, Some("chief"))
                .await
                .unwrap()
                .instance_id;
            run_jobs(&runtime).await;
            let mails = sink.mails()[before..].to_vec();
            assert_eq!(recipients(&mails), ["<boss@example.org>"], "{backend}");
            let body = mails[0].body();
            assert!(
                body.contains(&format!("{PUBLIC}/instances/{id}")),
                "{backend}: {body}"
            );
            assert!(body.contains("the rate table is missing"), "{body}");
            assert_eq!(
                mails[0].header("Subject").as_deref(),
                Some("Incident in process \"p\" at \"calc\"")
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_mail_whose_delivery_is_unknown_is_never_sent_again() {
    let sink = SmtpSink::start().await;
    each_db_mailing(Some(&sink), |runtime, clock, backend| {
        let sink = sink.clone();
        async move {
            let before = sink.mails().len();
            person(&runtime, "ann", &[], Some("ann@example.org")).await;
            let def = deploy(&runtime, "assigned.bpmn", ASSIGNED, None).await;
            runtime
                .start(def, Default::default(), None, None)
                .await
                .unwrap();
            // A process leases the mail and stops before recording anything.
            let store = runtime.store();
            let now = bpmn_engine::store::to_db_time(Clock::now(&*clock));
            let taken = store
                .acquire_mails("gone:1:1", now, now + chrono::Duration::seconds(60), 10)
                .await
                .unwrap();
            assert_eq!(taken.len(), 1, "{backend}");
            run_jobs(&runtime).await;
            assert!(
                store.sweep_mails(now).await.unwrap().is_empty(),
                "still leased"
            );
            advance(&clock, 120);
            let later = bpmn_engine::store::to_db_time(Clock::now(&*clock));
            assert_eq!(store.sweep_mails(later).await.unwrap().len(), 1);
            run_jobs(&runtime).await;
            assert_eq!(sink.mails().len(), before, "{backend}: not sent twice");
            let rows = store.mails(None, 10).await.unwrap();
            assert_eq!(rows[0].state, MAIL_FAILED);
            assert!(
                rows[0]
                    .last_error
                    .as_deref()
                    .unwrap_or_default()
                    .contains("delivery unknown")
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_mail_still_waiting_after_a_day_is_given_up() {
    let sink = SmtpSink::start().await;
    each_db_mailing(Some(&sink), |runtime, clock, backend| async move {
        person(&runtime, "ann", &[], Some("ann@example.org")).await;
        let def = deploy(&runtime, "assigned.bpmn", ASSIGNED, None).await;
        runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap();
        let store = runtime.store();
        let now = bpmn_engine::store::to_db_time(Clock::now(&*clock));
        assert_eq!(
            store
                .expire_mails(now - chrono::Duration::hours(24))
                .await
                .unwrap(),
            0,
            "{backend}: young mails wait"
        );
        advance(&clock, 25 * 3600);
        let later = bpmn_engine::store::to_db_time(Clock::now(&*clock));
        assert_eq!(
            store
                .expire_mails(later - chrono::Duration::hours(24))
                .await
                .unwrap(),
            1,
            "{backend}"
        );
        let rows = store.mails(None, 10).await.unwrap();
        assert_eq!(rows[0].state, MAIL_FAILED);
    })
    .await;
}

#[tokio::test]
async fn admins_set_addresses_on_the_users_page_and_see_undelivered_mails() {
    for app in TestApp::each().await {
        let backend = app.backend;
        app.user("ann", &["clerks"]).await;
        let ann = app.runtime.user_named("ann").await.unwrap().unwrap();
        let admin = app.login("admin", "admin-password").await;
        let path = format!("/users/{}", ann.id);
        let refused = admin
            .post(&path, &[("groups", "clerks"), ("email", "ann@")])
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(
            refused.body.contains("E-mail address: "),
            "{}",
            refused.body
        );
        assert_eq!(
            app.runtime.user_named("ann").await.unwrap().unwrap().email,
            None
        );
        let saved = admin
            .post(&path, &[("groups", "clerks"), ("email", "ann@example.org")])
            .await;
        assert_eq!(
            saved.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            saved.body
        );
        let ann = app.runtime.user_named("ann").await.unwrap().unwrap();
        assert_eq!(ann.email.as_deref(), Some("ann@example.org"));
        assert!(ann.notify);
        // A form without the field leaves the address alone.
        let kept = admin.post(&path, &[("groups", "clerks, pero")]).await;
        assert_eq!(kept.status, StatusCode::SEE_OTHER, "{backend}");
        let ann = app.runtime.user_named("ann").await.unwrap().unwrap();
        assert_eq!(ann.email.as_deref(), Some("ann@example.org"));
        let page = admin.get("/users").await;
        assert!(
            page.body.contains("value=\"ann@example.org\""),
            "{}",
            page.body
        );
        assert!(page.body.contains("Undelivered mails"));
        assert!(
            page.body
                .contains("This server sends no notification mails")
        );
        // Not for users.
        let user = app.login("ann", "ann-password").await;
        let denied = user
            .post(&path, &[("groups", "clerks"), ("email", "x@example.org")])
            .await;
        assert_ne!(denied.status, StatusCode::SEE_OTHER, "{backend}");
        let ann = app.runtime.user_named("ann").await.unwrap().unwrap();
        assert_eq!(ann.email.as_deref(), Some("ann@example.org"));
        app.stop().await;
    }
}

#[::core::prelude::v1::test]
fn mail_settings_are_checked_with_clear_messages_and_no_password() {
    let settings = |smtp: &str, from: &str, public: &str| MailSettings {
        smtp_url: smtp.into(),
        from: from.into(),
        public_url: public.into(),
    };
    let err = |s: MailSettings| Mailer::new(&s).unwrap_err();
    let e = err(settings(
        "imap://u:secret@mail.example.org",
        "a@example.org",
        PUBLIC,
    ));
    assert!(e.contains("--smtp-url") && !e.contains("secret"), "{e}");
    assert!(e.contains("u:***@mail.example.org"), "{e}");
    let e = err(settings(
        "smtp://mail.example.org",
        "not an address",
        PUBLIC,
    ));
    assert!(e.starts_with("--mail-from:"), "{e}");
    let e = err(settings(
        "smtp://mail.example.org",
        "a@example.org",
        "bpmn.example.org",
    ));
    assert!(e.starts_with("--public-url:"), "{e}");
    for ok in [
        "smtp://mail.example.org:2525",
        "smtps://u:p%40ss@mail.example.org",
        "smtp://u:p@mail.example.org:587?tls=required",
    ] {
        let m = Mailer::new(&settings(
            ok,
            "Workflow <a@example.org>",
            "https://x.example.org/",
        ));
        assert!(m.is_ok(), "{ok}: {m:?}");
    }
    assert_eq!(
        bpmn_engine::runtime::mail::valid_email(" ann@example.org "),
        Ok(Some("ann@example.org".into()))
    );
    assert_eq!(bpmn_engine::runtime::mail::valid_email(""), Ok(None));
    assert!(bpmn_engine::runtime::mail::valid_email("ann@").is_err());
    assert!(bpmn_engine::runtime::mail::valid_email("a b@example.org").is_err());
}
