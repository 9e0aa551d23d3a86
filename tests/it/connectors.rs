//! What the http-connector may reach: a url computed from variables goes only
//! to hosts the diagram writes or the allow list names; loopback, private and
//! link-local addresses only when the allow list names the host; redirects
//! only to the same host; a `timeout` input no longer than the policy allows.
//! A refusal is an ordinary job failure: retried, then an incident.

use std::sync::Arc;
use std::time::Duration;

use bpmn_engine::runtime::jobs::{self, ExecutorConfig};
use bpmn_engine::runtime::{ConnectorPolicy, Runtime, VirtualClock};
use serde_json::{Value, json};

use crate::common::db::databases;
use crate::common::remote::{Remote, Reply};
use crate::common::rt;
use crate::common::*;

/// A process whose one service task calls `url` (with more inputs).
fn calling(url: &str, more: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="call"><bpmn:extensionElements><camunda:connector>
<camunda:inputOutput><camunda:inputParameter name="url">{url}</camunda:inputParameter>{more}</camunda:inputOutput>
<camunda:connectorId>http-connector</camunda:connectorId></camunda:connector></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:userTask id="after"/>{}{}"#,
        flow("f0", "s", "call"),
        flow("f1", "call", "after")
    ))
}

/// Runs `test` on each database with a runtime under `policy`.
async fn each<F, Fut>(policy: ConnectorPolicy, test: F)
where
    F: Fn(Arc<Runtime>, Arc<VirtualClock>, &'static str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in databases().await {
        let store = db.store().await;
        let clock = Arc::new(VirtualClock::new(t0()));
        let runtime = rt::runtime_on(store, |s| {
            Runtime::new(s, clock.clone()).with_connector_policy(policy.clone())
        });
        test(runtime, clock, db.backend).await;
        db.drop_now().await;
    }
}

/// Starts an instance of `xml` and runs its call once: `Ok` when the call
/// went through (the instance moved on), else the job's error.
async fn call_once(
    runtime: &Arc<Runtime>,
    xml: &str,
    vars: Value,
) -> (uuid::Uuid, Result<(), String>) {
    let def = runtime
        .deploy("t.bpmn", xml.as_bytes(), None)
        .await
        .unwrap_or_else(|e| panic!("deploy: {e}"))
        .definitions[0]
        .id;
    let id = runtime
        .start(def, obj(vars), None, None)
        .await
        .unwrap()
        .instance_id;
    let job = runtime
        .store()
        .jobs_of_instance(id)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        jobs::run_due(runtime, &ExecutorConfig::new("t".into()))
            .await
            .unwrap(),
        1
    );
    match runtime.store().job(job.id).await.unwrap() {
        None => (id, Ok(())),
        Some(j) => (id, Err(j.last_error.unwrap_or_default())),
    }
}

fn allow(hosts: &[&str]) -> ConnectorPolicy {
    ConnectorPolicy::new().allowing(hosts).unwrap()
}

#[tokio::test]
async fn a_url_from_variables_reaches_only_hosts_the_diagram_writes_or_the_allow_list_names() {
    let remote = Remote::start(|_, _| Reply::json(json!({"secret": "metrics"}))).await;
    let base = remote.base.clone();
    let port = base.rsplit(':').next().unwrap().to_string();
    each(ConnectorPolicy::new(), |runtime, clock, backend| {
        let (base, port) = (base.clone(), port.clone());
        let remote = &remote;
        async move {
            // The server's own address, chosen by whoever starts the process.
            let xml = calling("${target}", "");
            let (id, result) =
                call_once(&runtime, &xml, json!({"target": format!("{base}/metrics")})).await;
            let err = result.expect_err("a computed url to an unlisted host is refused");
            assert!(
                err.contains("refused")
                    && err.contains("127.0.0.1 is neither written in the diagram's url"),
                "{backend}: {err}"
            );
            assert!(remote.seen().is_empty(), "nothing reached the server");
            // Refused like any failed call: retried, then an incident.
            at(&clock, "2025-01-01T00:00:02Z");
            jobs::run_due(&runtime, &ExecutorConfig::new("t".into()))
                .await
                .unwrap();
            at(&clock, "2025-01-01T00:00:10Z");
            jobs::run_due(&runtime, &ExecutorConfig::new("t".into()))
                .await
                .unwrap();
            let (_, state) = runtime.instance(id).await.unwrap();
            let incident = state.incidents.values().next().expect("an incident");
            assert!(incident.message.contains("refused"), "{}", incident.message);

            // Any other host not in the diagram: refused before it is looked up.
            let (_, result) = call_once(
                &runtime,
                &xml,
                json!({"target": "http://internal.invalid/admin"}),
            )
            .await;
            let err = result.unwrap_err();
            assert!(err.contains("internal.invalid is neither written"), "{err}");

            // Text before the first expression fixes the host only once it
            // reaches past it: here a variable could still extend the name.
            let xml = calling("http://127.0.0.1${rest}", "");
            let (_, result) =
                call_once(&runtime, &xml, json!({"rest": format!(":{port}/metrics")})).await;
            assert!(result.unwrap_err().contains("neither written"));

            // A host the diagram writes is allowed past the host check, but
            // 127.0.0.1 is loopback: the address check refuses it.
            let xml = calling(&format!("{base}/orders/${{id}}"), "");
            let (_, result) = call_once(&runtime, &xml, json!({"id": 1})).await;
            let err = result.unwrap_err();
            assert!(err.contains("127.0.0.1 is not a public address"), "{err}");
            assert!(remote.seen().is_empty());
        }
    })
    .await;
    each(allow(&["127.0.0.1"]), |runtime, _, backend| {
        let base = base.clone();
        async move {
            // The operator names the host: now it may be computed.
            let xml = calling("${target}", "");
            let (id, result) =
                call_once(&runtime, &xml, json!({"target": format!("{base}/metrics")})).await;
            assert_eq!(result, Ok(()), "{backend}");
            assert!(runtime.open_task_for(id, "after").await.unwrap().is_some());
        }
    })
    .await;
    remote.stop().await;
}

#[tokio::test]
async fn loopback_private_and_link_local_addresses_need_the_allow_list() {
    let remote = Remote::start(|_, _| Reply::json(json!({"ok": true}))).await;
    let base = remote.base.clone();
    let port = base.rsplit(':').next().unwrap().to_string();
    each(ConnectorPolicy::new(), |runtime, _, backend| {
        let port = port.clone();
        async move {
            for url in [
                format!("http://127.0.0.1:{port}/x"),
                format!("http://[::1]:{port}/x"),
                "http://10.1.2.3/x".to_string(),
                "http://192.168.0.1/x".to_string(),
                "http://169.254.169.254/latest/meta-data/".to_string(),
                "http://[fd00::1]/x".to_string(),
                "http://[fe80::1]/x".to_string(),
                "http://[::ffff:127.0.0.1]/x".to_string(),
                "http://0.0.0.0/x".to_string(),
            ] {
                let (_, result) = call_once(&runtime, &calling(&url, ""), json!({})).await;
                let err = result.expect_err(&url);
                assert!(
                    err.contains("is not a public address"),
                    "{backend}: {url}: {err}"
                );
            }
            // A name is checked where it is resolved.
            let url = format!("http://localhost:{port}/x");
            let (_, result) = call_once(&runtime, &calling(&url, ""), json!({})).await;
            let err = result.unwrap_err();
            assert!(
                err.contains("localhost") && err.contains("is not a public address"),
                "{err}"
            );
        }
    })
    .await;
    assert!(remote.seen().is_empty(), "nothing reached the server");
    each(allow(&["127.0.0.1", "localhost"]), |runtime, _, backend| {
        let port = port.clone();
        async move {
            for url in [
                format!("http://127.0.0.1:{port}/x"),
                format!("http://localhost:{port}/x"),
            ] {
                let (_, result) = call_once(&runtime, &calling(&url, ""), json!({})).await;
                assert_eq!(result, Ok(()), "{backend}: {url}");
            }
        }
    })
    .await;
    remote.stop().await;
}

#[tokio::test]
async fn a_redirect_is_followed_to_the_same_host_only() {
    let remote = Remote::start(|_, _| Reply::json(json!({}))).await;
    let base = remote.base.clone();
    let port = base.rsplit(':').next().unwrap().to_string();
    let other = format!("http://localhost:{port}");
    remote.answer(move |seen, _| match seen.path.as_str() {
        "/away" => Reply::redirect(&format!("{other}/elsewhere")),
        "/around" => Reply::redirect("/final"),
        _ => Reply::json(json!({"at": seen.path})),
    });
    // Both names allowed: only the redirect rule stands in the way.
    each(allow(&["127.0.0.1", "localhost"]), |runtime, _, backend| {
        let base = base.clone();
        let remote = &remote;
        async move {
            let before = remote.seen().len();
            let (_, result) =
                call_once(&runtime, &calling(&format!("{base}/away"), ""), json!({})).await;
            let err = result.expect_err("a redirect to another host is refused");
            assert!(
                err.contains("refused")
                    && err.contains("redirects to localhost, another host than 127.0.0.1"),
                "{backend}: {err}"
            );
            let paths: Vec<String> = remote.seen()[before..]
                .iter()
                .map(|s| s.path.clone())
                .collect();
            assert_eq!(paths, ["/away"], "the redirect was not followed");

            let (id, result) =
                call_once(&runtime, &calling(&format!("{base}/around"), ""), json!({})).await;
            assert_eq!(result, Ok(()), "a redirect on the same host is followed");
            assert!(runtime.open_task_for(id, "after").await.unwrap().is_some());
            assert_eq!(remote.seen().last().unwrap().path, "/final");
        }
    })
    .await;
    remote.stop().await;
}

#[tokio::test]
async fn a_timeout_input_is_cut_to_the_policys_maximum() {
    let remote = Remote::start(|_, _| Reply::json(json!({})).after(Duration::from_secs(5))).await;
    let base = remote.base.clone();
    let policy = allow(&["127.0.0.1"]).with_timeout_max(Duration::from_secs(1));
    each(policy, |runtime, _, backend| {
        let base = base.clone();
        async move {
            let xml = calling(
                &format!("{base}/slow"),
                r#"<camunda:inputParameter name="timeout">PT24H</camunda:inputParameter>"#,
            );
            let (_, result) = call_once(&runtime, &xml, json!({})).await;
            let err = result.unwrap_err();
            assert!(
                err.contains("no reply within 1 s")
                    && err.contains("asked for 86400 s; --connector-timeout-max allows 1 s"),
                "{backend}: {err}"
            );
        }
    })
    .await;
    remote.stop().await;
}

#[test]
fn the_allow_list_takes_hosts_only() {
    assert!(
        ConnectorPolicy::new()
            .allowing(["api.example.com", "10.0.0.5", "::1", "*"])
            .is_ok()
    );
    for bad in [
        "http://api.example.com",
        "api.example.com:8080",
        "a b",
        "x/y",
    ] {
        let err = ConnectorPolicy::new().allowing([bad]).unwrap_err();
        assert!(err.contains("is not a host"), "{bad}: {err}");
    }
}

fn at(clock: &VirtualClock, t: &str) {
    clock.set(t.parse().unwrap());
}
