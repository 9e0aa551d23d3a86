//! Benchmarks: parsing a 1 MB diagram, and running a 10-task straight-through
//! process — in the pure engine and through the real transaction path on SQLite.
//! The group `W1 in memory` runs `bpmn bench`'s W1 diagram in the pure engine
//! on one thread and reports instances per second (criterion's `elem/s`).
//!
//! Run with `cargo bench`; `cargo bench --bench engine -- W1` runs one group.

use std::sync::Arc;

use bpmn_engine::engine::{self, Command, InstanceState};
use bpmn_engine::model;
use bpmn_engine::runtime::{Principal, Runtime, StartRequest, SystemClock, Values};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://example.com">
"#;

/// A process of `n` tasks in a line — expression service tasks, with a
/// documentation, a form-bearing user task every 50 and full BPMNDI — and an
/// exclusive gateway before the end.
fn diagram(n: usize, service: bool) -> String {
    let mut p = String::from(
        r#"<bpmn:process id="p" name="Bench" isExecutable="true"><bpmn:startEvent id="s"/>"#,
    );
    let mut di = String::new();
    let mut prev = "s".to_string();
    for i in 0..n {
        let id = format!("t{i}");
        if service {
            p += &format!(
                r#"<bpmn:serviceTask id="{id}" name="Step {i}" camunda:expression="${{n + {i}}}" camunda:resultVariable="r{i}"><bpmn:documentation>Step number {i} of the benchmark process.</bpmn:documentation></bpmn:serviceTask>"#
            );
        } else {
            p += &format!(
                r#"<bpmn:userTask id="{id}" name="Step {i}" camunda:candidateGroups="clerks"><bpmn:documentation>Step number {i}.</bpmn:documentation><bpmn:extensionElements><camunda:formData><camunda:formField id="f{i}" label="Field {i}" type="string"><camunda:validation><camunda:constraint name="maxlength" config="40"/></camunda:validation></camunda:formField></camunda:formData></bpmn:extensionElements></bpmn:userTask>"#
            );
        }
        p += &format!(r#"<bpmn:sequenceFlow id="f{i}" sourceRef="{prev}" targetRef="{id}"/>"#);
        di += &format!(
            r#"<bpmndi:BPMNShape id="{id}_di" bpmnElement="{id}"><dc:Bounds x="{}" y="100" width="100" height="80"/></bpmndi:BPMNShape><bpmndi:BPMNEdge id="f{i}_di" bpmnElement="f{i}"><di:waypoint x="{}" y="140"/><di:waypoint x="{}" y="140"/></bpmndi:BPMNEdge>"#,
            150 * i + 100,
            150 * i + 50,
            150 * i + 100
        );
        prev = id;
    }
    p += &format!(
        r#"<bpmn:exclusiveGateway id="g" default="fd"/><bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>
<bpmn:sequenceFlow id="fg" sourceRef="{prev}" targetRef="g"/>
<bpmn:sequenceFlow id="fc" sourceRef="g" targetRef="e1"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${{n &gt; 100}}</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="fd" sourceRef="g" targetRef="e2"/></bpmn:process>"#
    );
    format!(
        r#"{HEAD}{p}<bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="pl" bpmnElement="p">{di}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>"#
    )
}

/// About 1 MB of realistic BPMN.
fn one_megabyte() -> String {
    let mut n = 1000;
    loop {
        let d = diagram(n, false);
        if d.len() >= 1_000_000 {
            return d;
        }
        n += 200;
    }
}

fn parse(c: &mut Criterion) {
    let xml = one_megabyte();
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(xml.len() as u64));
    g.bench_function(format!("{} KB diagram", xml.len() / 1024), |b| {
        b.iter(|| model::parse(xml.as_bytes()).expect("valid"))
    });
    g.finish();
}

/// W1 without a database: `bpmn bench`'s diagram (start, ten expression
/// service tasks, an exclusive gateway, an end) from start to end in the pure
/// engine, one instance per iteration, on this one thread.
fn w1_in_memory(c: &mut Criterion) {
    let xml = bpmn_engine::cli::bench::w1_diagram();
    let defs = model::parse(xml.as_bytes()).expect("valid");
    let process = defs.main_process().expect("a process");
    let now = jiff::Timestamp::now();
    let ctx = engine::Context::default();
    let mut g = c.benchmark_group("W1 in memory");
    g.throughput(Throughput::Elements(1));
    let mut n = 0u64;
    g.bench_function("instances, one thread", |b| {
        b.iter(|| {
            n += 1;
            let mut vars = serde_json::Map::new();
            vars.insert("n".into(), serde_json::Value::from(n));
            let tr = engine::execute(
                process,
                &ctx,
                &InstanceState::new("w1"),
                Command::Start {
                    variables: vars,
                    initiator: None,
                },
                now,
            )
            .expect("runs");
            assert_eq!(tr.state.status, engine::Status::Completed);
            tr
        })
    });
    g.finish();
}

fn straight_through(c: &mut Criterion) {
    let xml = diagram(10, true);
    let defs = model::parse(xml.as_bytes()).expect("valid");
    let process = defs.main_process().expect("a process");
    let now = jiff::Timestamp::now();
    let mut g = c.benchmark_group("10 service tasks");
    g.throughput(Throughput::Elements(1));
    g.bench_function("engine only", |b| {
        b.iter(|| {
            let vars = serde_json::from_str(r#"{"n": 7}"#).expect("json");
            let tr = engine::execute(
                process,
                &engine::Context::default(),
                &InstanceState::new("p"),
                Command::Start {
                    variables: vars,
                    initiator: None,
                },
                now,
            )
            .expect("runs");
            assert_eq!(tr.state.status, engine::Status::Completed);
            tr
        })
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.sqlite").display()
    );
    let runtime = rt.block_on(async {
        Arc::new(
            Runtime::connect(&url, Arc::new(SystemClock))
                .await
                .expect("sqlite"),
        )
    });
    let who = Principal::operator("bench");
    let key = rt
        .block_on(
            runtime
                .deployments()
                .deploy(&who, "bench.bpmn", xml.as_bytes()),
        )
        .expect("deploys")
        .definitions[0]
        .key
        .clone();
    g.bench_function("start to end on SQLite (one transaction)", |b| {
        b.iter(|| {
            let vars = serde_json::from_str(r#"{"n": 7}"#).expect("json");
            let start = StartRequest {
                key: key.clone(),
                version: None,
                values: Values::Json(vars),
                business_key: None,
            };
            rt.block_on(runtime.deployments().start(&who, start))
                .expect("starts")
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = parse, w1_in_memory, straight_through
}
criterion_main!(benches);
