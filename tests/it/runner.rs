//! `bpmn run`: the trace of the demo, the JSON format, expectations, timers and
//! exit codes.

use std::io::Write;
use std::process::{Command, Stdio};

use bpmn_engine::cli::run::{Exit, Format, RunOptions, StartBy, run};
use bpmn_engine::runtime::ConnectorPolicy;
use serde_json::{Value, json};

use crate::common::*;

const DEMO_SCRIPT: &str = include_str!("../../bpmn/demo.script");

/// The trace the engine we replace printed for this message sequence (its
/// README), with the variables our instance really has at the gateway.
const DEMO_TRACE: &str = r#"[1] --> msg in: t_wrong
[1] Waiting for user... [UserTask(Which option?)]
[1] --> msg in: t0
[1] DOING: UserTask(Which option?)
[1] Waiting for user... [UserTask(Down), UserTask(Up)]
[1] --> msg in: tup
[1] DOING: UserTask(Up)
[1] Waiting for user... [UserTask(Down), ParallelGateway(ParallelGateway_0vffee4)]
[1] --> msg in: t_wrong
[1] Waiting for user... [UserTask(Down), ParallelGateway(ParallelGateway_0vffee4)]
[1] --> msg in: tdown
[1] DOING: UserTask(Down)
[1] DOING: ManualTask(Manual Task 2)
[1] DOING: ServiceTask(Task 3)
[1]     - checking variables={"option":2} with ['option==1']...
[1]       DONE: Result is False
[1]     - going down default path...
[1] Waiting for user... [UserTask(Task down)]
[1] --> msg in: t_wrong
[1] Waiting for user... [UserTask(Task down)]
[1] --> msg in: tup2
[1] Waiting for user... [UserTask(Task down)]
[1] --> msg in: t_wrong
[1] Waiting for user... [UserTask(Task down)]
[1] --> msg in: tdown2
[1] DOING: UserTask(Task down)
[1] DONE
"#;

fn options(format: Format) -> RunOptions {
    RunOptions {
        process: None,
        start_by: Default::default(),
        variables: Default::default(),
        format,
        start: Some(t0()),
        also: Vec::new(),
        connector: ConnectorPolicy::permissive(),
    }
}

async fn run_text(bytes: &[u8], script: &str, format: Format) -> (Exit, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exit = run(bytes, script, &options(format), &mut out, &mut err).await;
    (
        exit,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[tokio::test]
async fn the_demo_prints_the_old_engines_trace() {
    let (exit, out, err) = run_text(&demo_bytes(), DEMO_SCRIPT, Format::Text).await;
    assert_eq!(exit, Exit::Ran, "{err}");
    assert_eq!(out, DEMO_TRACE);
}

#[tokio::test]
async fn with_option_1_the_run_takes_task_up() {
    let script = DEMO_SCRIPT
        .replace(r#"{"option": 2}"#, r#"{"option": 1}"#)
        .replace("expect completed", "");
    let (exit, out, _) = run_text(&demo_bytes(), &script, Format::Text).await;
    assert_eq!(exit, Exit::Ran);
    assert!(
        out.contains("[1]       DONE: Result is True\n[1] Waiting for user... [UserTask(Task up)]"),
        "{out}"
    );
    assert!(
        out.contains("[1] --> msg in: tup2\n[1] DOING: UserTask(Task up)\n[1] DONE\n"),
        "{out}"
    );
    assert!(!out.contains("going down default path"));
}

#[tokio::test]
async fn the_json_format_has_one_event_per_line() {
    let (exit, out, _) = run_text(&demo_bytes(), DEMO_SCRIPT, Format::Json).await;
    assert_eq!(exit, Exit::Ran);
    let lines = json_lines(&out);
    assert_eq!(lines[0]["event"], "started");
    // Every event about the instance carries its id.
    let id = lines[0]["instance"].clone();
    assert!(id.as_str().is_some_and(|s| s.len() == 36), "{id}");
    assert_eq!(
        lines[1],
        json!({"event": "activated", "element": "StartEvent_1", "type": "startEvent", "name": "Start", "instance": id})
    );
    let first_wait = lines.iter().find(|l| l["event"] == "waiting").unwrap();
    assert_eq!(
        first_wait,
        &json!({"event": "waiting", "user_tasks": ["t0"], "tasks": [{"element": "t0", "instance": id, "number": 1}], "other": []})
    );
    let i = lines.iter().position(|l| l["event"] == "command").unwrap();
    assert_eq!(
        lines[i],
        json!({"event": "command", "text": "complete t_wrong"})
    );
    assert_eq!(lines[i + 1]["event"], "ignored");
    assert!(lines[i + 1]["reason"].as_str().unwrap().contains("t_wrong"));
    assert!(lines.contains(&json!({"event": "condition", "flow": "Flow_choice_tup2", "expression": "option==1", "result": false, "instance": id})));
    assert!(lines.contains(
        &json!({"event": "taken", "flow": "Flow_choice_tdown2", "default": true, "instance": id})
    ));
    assert!(lines.contains(&json!({"event": "ended", "element": "EndEvent_1", "instance": id})));
    let join_wait = lines
        .iter()
        .find(|l| l["event"] == "waiting" && l["other"].as_array().is_some_and(|o| !o.is_empty()))
        .unwrap();
    assert_eq!(join_wait["other"][0]["element"], "ParallelGateway_0vffee4");
    assert_eq!(join_wait["other"][0]["kind"], "join");
    let n = lines.len();
    assert_eq!(
        lines[n - 2],
        json!({"event": "variables", "values": {"option": 2}})
    );
    assert_eq!(lines[n - 1], json!({"event": "done", "state": "completed"}));
    // Every command line is echoed, expectations included.
    let commands = lines.iter().filter(|l| l["event"] == "command").count();
    assert_eq!(
        commands,
        DEMO_SCRIPT
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count()
    );
}

#[tokio::test]
async fn invalid_form_values_are_reported_as_ignored() {
    let (exit, out, _) = run_text(
        &demo_bytes(),
        "complete t0 {\"option\": \"lots\"}\nexpect tasks t0\n",
        Format::Json,
    )
    .await;
    assert_eq!(exit, Exit::Ran);
    let lines = json_lines(&out);
    let ignored = lines.iter().find(|l| l["event"] == "ignored").unwrap();
    assert!(
        ignored["reason"]
            .as_str()
            .unwrap()
            .contains("option: must be a whole number"),
        "{ignored}"
    );
}

#[tokio::test]
async fn a_failed_expectation_exits_1() {
    let (exit, out, _) = run_text(
        &demo_bytes(),
        "expect tasks tup\ncomplete t0 {\"option\": 1}\n",
        Format::Text,
    )
    .await;
    assert_eq!(exit, Exit::ExpectationFailed);
    assert_eq!(exit.code(), 1);
    assert!(
        out.contains("EXPECTATION FAILED: expected open tasks [tup], but the open tasks are [t0]"),
        "{out}"
    );
    assert!(
        !out.contains("msg in: t0"),
        "the run stops at the failed expectation"
    );
    let (exit, _, _) = run_text(&demo_bytes(), "expect completed\n", Format::Text).await;
    assert_eq!(exit, Exit::ExpectationFailed);
    let (exit, _, _) = run_text(
        &demo_bytes(),
        "complete t0 {\"option\": 1}\nexpect var option 1\nexpect active\n",
        Format::Text,
    )
    .await;
    assert_eq!(exit, Exit::Ran);
}

#[tokio::test]
async fn bad_input_exits_2_with_the_reason() {
    let (exit, _, err) = run_text(b"<nope/>", "", Format::Text).await;
    assert_eq!(exit, Exit::BadInput);
    assert!(err.contains("not a BPMN <definitions>"), "{err}");
    for (script, why) in [
        ("frobnicate t0", "line 1: unknown command \"frobnicate\""),
        ("\n# comment\ncomplete t0 {oops}", "line 3: bad JSON"),
        (
            "advance soon",
            "line 1: \"soon\" is not an ISO 8601 duration",
        ),
        ("complete t0 [1]", "must be a JSON object"),
    ] {
        let (exit, out, err) = run_text(&demo_bytes(), script, Format::Text).await;
        assert_eq!(exit, Exit::BadInput, "{script}");
        assert!(err.contains(why), "{script}: {err}");
        assert!(out.is_empty(), "the script is checked before anything runs");
    }
}

#[tokio::test]
async fn advance_fires_timers_in_order_at_their_due_time() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/>
<bpmn:intermediateCatchEvent id="late" name="Late"><bpmn:timerEventDefinition><bpmn:timeDuration>PT2H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="early" name="Early"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="chained" name="Chained"><bpmn:timerEventDefinition><bpmn:timeDuration>PT30M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:userTask id="a" name="After late"/><bpmn:userTask id="b" name="After chained"/>
{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("f1", "fork", "late"),
        flow("f2", "fork", "early"),
        flow("f3", "early", "chained"),
        flow("f4", "late", "a"),
        flow("f5", "chained", "b"),
    ));
    let script = "advance PT59M\nexpect tasks\nadvance PT61M\nexpect tasks a b\n";
    let (exit, out, err) = run_text(xml.as_bytes(), script, Format::Json).await;
    assert_eq!(exit, Exit::Ran, "{err}\n{out}");
    let lines = json_lines(&out);
    let order: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"] == "completed" && l["type"] == "intermediateCatchEvent")
        .map(|l| l["element"].as_str().unwrap())
        .collect();
    // early fires at 1:00, chained (started then) at 1:30, late at 2:00.
    assert_eq!(order, ["early", "chained", "late"]);
    let ignored = lines.iter().find(|l| l["event"] == "ignored").unwrap();
    assert_eq!(ignored["reason"], "no timer was due");
}

#[tokio::test]
async fn messages_in_the_runner() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:receiveTask id="r" name="Wait for payment" messageRef="m"/><bpmn:endEvent id="e"/>{}{}"#,
        flow("f0", "s", "r"),
        flow("f1", "r", "e")
    ))
    .replace("</bpmn:definitions>", r#"<bpmn:message id="m" name="paid"/></bpmn:definitions>"#);
    let script =
        "message shipped\nmessage paid {\"amount\": 3}\nexpect completed\nexpect var amount 3\n";
    let (exit, out, _) = run_text(xml.as_bytes(), script, Format::Text).await;
    assert_eq!(exit, Exit::Ran, "{out}");
    assert!(
        out.contains(
            "[1] --> msg in: shipped\n[1] Waiting for user... [ReceiveTask(Wait for payment)]"
        ),
        "{out}"
    );
    assert!(
        out.contains("[1] --> msg in: paid\n[1] DOING: ReceiveTask(Wait for payment)\n[1] DONE"),
        "{out}"
    );
}

fn bpmn_binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpmn"))
}

#[test]
fn the_binary_reads_the_script_from_stdin_and_sets_exit_codes() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/demo.bpmn");
    let mut child = bpmn_binary()
        .args(["run", demo, "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(DEMO_SCRIPT.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(
        lines.last().unwrap(),
        &json!({"event": "done", "state": "completed"})
    );

    let failed = bpmn_binary()
        .args(["run", demo, "--vars", r#"{"x": 1}"#])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        failed.status.code(),
        Some(0),
        "an empty script just starts the instance"
    );

    let expect = bpmn_binary()
        .args(["run", demo, "--script", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(expect.status.code(), Some(0));

    let bad = bpmn_binary()
        .args(["run", "/no/such/file.bpmn", "--script", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cannot read /no/such/file.bpmn"));

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.txt");
    std::fs::write(&script, "expect completed\n").unwrap();
    let one = bpmn_binary()
        .args(["run", demo, "--script"])
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(one.status.code(), Some(1));
    let stdout: Value =
        serde_json::Value::String(String::from_utf8_lossy(&one.stdout).into_owned());
    assert!(stdout.as_str().unwrap().contains("EXPECTATION FAILED"));
}

#[test]
fn check_lists_problems_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.bpmn");
    std::fs::write(
        &bad,
        process(r#"<bpmn:startEvent id="s"/><bpmn:choreographyTask id="call"/>"#),
    )
    .unwrap();
    let out = bpmn_binary().arg("check").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bad.bpmn:10:26: unsupported: choreographyTask \"call\""),
        "{text}"
    );
    let good = bpmn_binary()
        .args([
            "check",
            concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/demo.bpmn"),
        ])
        .output()
        .unwrap();
    assert_eq!(good.status.code(), Some(0));
}

#[tokio::test]
async fn a_timer_already_due_fires_without_advance() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t" name="Take call"/>
<bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition><bpmn:timeDate>2024-06-01T00:00:00Z</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "w"),
        flow("f2", "w", "e")
    ));
    let (exit, out, _) = run_text(
        xml.as_bytes(),
        "complete t\nexpect completed\n",
        Format::Json,
    )
    .await;
    assert_eq!(exit, Exit::Ran, "{out}");
    let lines = json_lines(&out);
    let id = &lines[0]["instance"];
    assert!(lines.contains(&json!({"event": "finished", "state": "completed", "instance": id})));
}

#[tokio::test]
async fn the_text_trace_shows_refusals_and_cancellations() {
    let (_, out, _) = run_text(&demo_bytes(), "complete t0 {\"option\": 9}\n", Format::Text).await;
    assert!(
        out.contains("[1]     - refused: invalid values for \"t0\": option: must be at most 2"),
        "{out}"
    );
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:userTask id="a" name="Slow"/><bpmn:userTask id="b" name="Quick"/>
<bpmn:endEvent id="stop"><bpmn:terminateEventDefinition/></bpmn:endEvent>{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("f1", "fork", "a"),
        flow("f2", "fork", "b"),
        flow("f3", "b", "stop")
    ));
    let (_, out, _) = run_text(xml.as_bytes(), "complete b\n", Format::Text).await;
    assert!(out.contains("[1] DOING: UserTask(Quick)\n[1] CANCELLED: UserTask(Slow)\n[1] TERMINATED: terminate end event \"stop\""), "{out}");
}

#[tokio::test]
async fn every_example_script_runs_to_its_end() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bpmn");
    let mut ran = 0;
    let dmn_files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "dmn"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "script") {
            continue;
        }
        let diagram = path.with_extension("bpmn");
        let bytes =
            std::fs::read(&diagram).unwrap_or_else(|_| panic!("{} has no diagram", path.display()));
        let script = std::fs::read_to_string(&path).unwrap();
        for format in [Format::Text, Format::Json] {
            // The decisions business rule tasks call (`--with bpmn/*.dmn`).
            let mut opts = options(format);
            opts.also = dmn_files.clone();
            let mut out = Vec::new();
            let mut err = Vec::new();
            let exit = run(&bytes, &script, &opts, &mut out, &mut err).await;
            let (out, err) = (
                String::from_utf8(out).unwrap(),
                String::from_utf8(err).unwrap(),
            );
            assert_eq!(
                exit,
                Exit::Ran,
                "{} ({format:?}):\n{err}\n{out}",
                path.display()
            );
        }
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} example scripts");
}

#[tokio::test]
async fn process_chooses_among_several_and_unknown_ones_are_bad_input() {
    let one = |id: &str, task: &str| {
        format!(
            r#"<bpmn:process id="{id}" isExecutable="true"><bpmn:startEvent id="{id}_s"/><bpmn:userTask id="{task}"/>{}</bpmn:process>"#,
            flow(&format!("{id}_f"), &format!("{id}_s"), task)
        )
    };
    let xml = definitions(&format!("{}{}", one("first", "a"), one("second", "b")));
    let mut opts = options(Format::Text);
    opts.process = Some("second".into());
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exit = run(
        xml.as_bytes(),
        "expect tasks b\n",
        &opts,
        &mut out,
        &mut err,
    )
    .await;
    assert_eq!(exit, Exit::Ran, "{}", String::from_utf8_lossy(&err));
    let (exit, _, _) = run_text(xml.as_bytes(), "expect tasks a\n", Format::Text).await;
    assert_eq!(exit, Exit::Ran, "without --process the first one runs");
    opts.process = Some("third".into());
    let mut err = Vec::new();
    let exit = run(xml.as_bytes(), "", &opts, &mut Vec::new(), &mut err).await;
    assert_eq!(exit, Exit::BadInput);
    assert!(
        String::from_utf8_lossy(&err)
            .contains("no executable process \"third\" (it has: first, second)")
    );
}

#[test]
fn decide_evaluates_a_decision_and_sets_exit_codes() {
    let dmn = concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/discount.dmn");
    let out = bpmn_binary()
        .args([
            "decide",
            dmn,
            "--decision",
            "discount",
            "--vars",
            r#"{"years": 3, "amount": 500}"#,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["percent"], 5);
    assert_eq!(v["results"][0]["reason"], "silver");
    // By name, too.
    let out = bpmn_binary()
        .args([
            "decide",
            dmn,
            "--decision",
            "Customer segment",
            "--vars",
            r#"{"years": 1}"#,
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["segment"], "bronze");
    let out = bpmn_binary()
        .args(["decide", dmn, "--decision", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("it has: discount, segment"));
    let out = bpmn_binary()
        .args(["decide", dmn, "--decision", "discount", "--vars", "[1]"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A segment the years cannot give (UNIQUE finds no rule): no result, exit 0;
    // an evaluation error (a required decision failing) exits 1.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("overlap.dmn");
    std::fs::write(
        &broken,
        std::fs::read_to_string(dmn)
            .unwrap()
            .replace("[2..5)", "[2..10)"),
    )
    .unwrap();
    let out = bpmn_binary()
        .args([
            "decide",
            broken.to_str().unwrap(),
            "--decision",
            "discount",
            "--vars",
            r#"{"years": 7}"#,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("UNIQUE"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn trigger_resumes_a_receive_task_without_a_message() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:receiveTask id="wait"/><bpmn:userTask id="t"/>{}{}"#,
        flow("f0", "s", "wait"),
        flow("f1", "wait", "t"),
    ));
    let script =
        "trigger t\nexpect tasks\ntrigger wait {\"n\": 1}\nexpect tasks t\nexpect var n 1\n";
    let (exit, out, err) = run_text(xml.as_bytes(), script, Format::Text).await;
    assert_eq!(exit, Exit::Ran, "{err}\n{out}");
    assert!(out.contains("--> trigger: wait"), "{out}");
    let (exit, out, _) = run_text(xml.as_bytes(), script, Format::Json).await;
    assert_eq!(exit, Exit::Ran);
    assert!(
        out.contains("nothing waits for a trigger at \\\"t\\\""),
        "{out}"
    );
}

async fn run_with(
    bytes: &[u8],
    script: &str,
    format: Format,
    start_by: StartBy,
) -> (Exit, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let options = RunOptions {
        start_by,
        ..options(format)
    };
    let exit = run(bytes, script, &options, &mut out, &mut err).await;
    (
        exit,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// A parent process calling `child`, whose user task the run completes.
fn parent_and_child() -> String {
    definitions(&format!(
        r#"<bpmn:process id="parent" name="Parent" isExecutable="true">
<bpmn:startEvent id="s"/><bpmn:callActivity id="call" name="Ask child" calledElement="child"/>
<bpmn:userTask id="after" name="After"/><bpmn:endEvent id="e"/>{}{}{}
</bpmn:process>
<bpmn:process id="child" name="Child" isExecutable="true">
<bpmn:startEvent id="cs"/><bpmn:userTask id="inner" name="Inner"/><bpmn:endEvent id="ce"/>{}{}
</bpmn:process>"#,
        flow("f1", "s", "call"),
        flow("f2", "call", "after"),
        flow("f3", "after", "e"),
        flow("c1", "cs", "inner"),
        flow("c2", "inner", "ce"),
    ))
}

#[tokio::test]
async fn called_instances_are_traced_and_their_tasks_listed_as_waiting() {
    let script = "complete inner\ncomplete after\nexpect completed\n";
    let (exit, out, err) = run_with(
        parent_and_child().as_bytes(),
        script,
        Format::Text,
        StartBy::Default,
    )
    .await;
    assert_eq!(exit, Exit::Ran, "{out}{err}");
    let expected = "[2] STARTED: Child, called by [1]
[1] --> msg in: inner
[2] DOING: UserTask(Inner)
[2] DONE
[1] DOING: CallActivity(Ask child)
[1] Waiting for user... [UserTask(After)]
[1] --> msg in: after
[1] DOING: UserTask(After)
[1] DONE
";
    assert_eq!(out, expected);

    let (exit, out, _) = run_with(
        parent_and_child().as_bytes(),
        script,
        Format::Json,
        StartBy::Default,
    )
    .await;
    assert_eq!(exit, Exit::Ran, "{out}");
    let lines = json_lines(&out);
    let parent = lines[0]["instance"].clone();
    let started: Vec<&Value> = lines.iter().filter(|l| l["event"] == "started").collect();
    assert_eq!(started.len(), 2, "{out}");
    assert_eq!(started[1]["process"], "child");
    assert_eq!(started[1]["called_by"], parent);
    let child = started[1]["instance"].clone();
    assert_ne!(child, parent);
    // The first wait is the child's task, tagged with the child.
    let wait = lines.iter().find(|l| l["event"] == "waiting").unwrap();
    assert_eq!(wait["user_tasks"], json!(["inner"]));
    assert_eq!(
        wait["tasks"],
        json!([{"element": "inner", "instance": child, "number": 2}])
    );
    assert_eq!(wait["other"][0]["element"], "call");
    assert_eq!(wait["other"][0]["instance"], parent);
    // Each event names its instance.
    assert!(lines.contains(&json!({"event": "finished", "state": "completed", "instance": child})));
    assert!(
        lines.contains(&json!({"event": "finished", "state": "completed", "instance": parent}))
    );
    for l in &lines {
        if ["activated", "completed", "taken", "finished"].contains(&l["event"].as_str().unwrap()) {
            assert!(l["instance"] == parent || l["instance"] == child, "{l}");
        }
    }
}

/// `p` throws signal "go" after its task; `listener` starts on that signal.
fn thrower_and_listener() -> String {
    definitions(&format!(
        r#"<bpmn:signal id="sig" name="go"/><bpmn:message id="msg" name="order"/>
<bpmn:process id="p" name="Thrower" isExecutable="true">
<bpmn:startEvent id="s"/><bpmn:userTask id="t" name="Prepare"/>
<bpmn:intermediateThrowEvent id="throw"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateThrowEvent>
<bpmn:endEvent id="e"/>{}{}{}
</bpmn:process>
<bpmn:process id="listener" name="Listener" isExecutable="true">
<bpmn:startEvent id="ls"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:startEvent>
<bpmn:userTask id="react" name="React"/><bpmn:endEvent id="le"/>{}{}
</bpmn:process>
<bpmn:process id="ordered" name="Ordered" isExecutable="true">
<bpmn:startEvent id="os"><bpmn:messageEventDefinition messageRef="msg"/></bpmn:startEvent>
<bpmn:userTask id="pack" name="Pack"/><bpmn:endEvent id="oe"/>{}{}
</bpmn:process>"#,
        flow("f1", "s", "t"),
        flow("f2", "t", "throw"),
        flow("f3", "throw", "e"),
        flow("l1", "ls", "react"),
        flow("l2", "react", "le"),
        flow("o1", "os", "pack"),
        flow("o2", "pack", "oe"),
    ))
}

#[tokio::test]
async fn instances_a_signal_or_message_starts_are_traced() {
    let script =
        "complete t\nexpect completed\nmessage order {\"n\": 1}\ncomplete react\ncomplete pack\n";
    let (exit, out, err) = run_with(
        thrower_and_listener().as_bytes(),
        script,
        Format::Text,
        StartBy::Default,
    )
    .await;
    assert_eq!(exit, Exit::Ran, "{out}{err}");
    let expected = "[1] --> msg in: t
[1] DOING: UserTask(Prepare)
[1] DONE
[2] STARTED: Listener
[1] Waiting for user... [[2] UserTask(React)]
[1] --> msg in: order
[3] STARTED: Ordered
[1] Waiting for user... [[2] UserTask(React), [3] UserTask(Pack)]
[1] --> msg in: react
[2] DOING: UserTask(React)
[2] DONE
[1] Waiting for user... [[3] UserTask(Pack)]
[1] --> msg in: pack
[3] DOING: UserTask(Pack)
[3] DONE
";
    assert_eq!(out, expected);
}

#[tokio::test]
async fn a_process_starts_by_its_message_signal_or_timer_start_event() {
    let xml = thrower_and_listener();
    // By message, whose variables are the start variables: the main
    // instance is the one the message started.
    let mut by_message = options(Format::Json);
    by_message.start_by = StartBy::Message("order".into());
    by_message.variables = json!({"n": 7}).as_object().unwrap().clone();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let script = "expect tasks pack\ncomplete pack\nexpect completed\nexpect var n 7\n";
    let exit = run(xml.as_bytes(), script, &by_message, &mut out, &mut err).await;
    let (out, err) = (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    );
    let lines = json_lines(&out);
    assert_eq!(exit, Exit::Ran, "{out}{err}");
    assert_eq!(lines[0]["event"], "started");
    assert_eq!(lines[0]["process"], "ordered");

    // By signal.
    let options_signal = StartBy::Signal("go".into());
    let (exit, out, err) = run_with(
        xml.as_bytes(),
        "expect tasks react\ncomplete react\nexpect completed\n",
        Format::Text,
        options_signal,
    )
    .await;
    assert_eq!(exit, Exit::Ran, "{out}{err}");

    // A message the process has no start event for is bad input that says
    // which start events it has.
    let (exit, _, err) = run_with(
        xml.as_bytes(),
        "",
        Format::Text,
        StartBy::Message("nope".into()),
    )
    .await;
    assert_eq!(exit, Exit::BadInput);
    assert!(
        err.contains("no process in the file has a message start event for \"nope\" (its message and signal start events: signal \"go\" (listener), message \"order\" (ordered))"),
        "{err}"
    );

    // A process with only a timer start event starts when `advance` reaches it.
    let timer = process(&format!(
        r#"<bpmn:startEvent id="ts"><bpmn:timerEventDefinition><bpmn:timeDate>2030-01-01T09:00:00Z</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:startEvent>
<bpmn:userTask id="t" name="Morning"/><bpmn:endEvent id="e"/>{}{}"#,
        flow("f1", "ts", "t"),
        flow("f2", "t", "e")
    ));
    let (exit, out, err) = run_with(
        timer.as_bytes(),
        "expect tasks\nadvance P10Y\nexpect tasks t\ncomplete t\nexpect completed\n",
        Format::Text,
        StartBy::Default,
    )
    .await;
    assert_eq!(exit, Exit::Ran, "{out}{err}");
    assert!(
        out.contains("[1] Waiting for user... [UserTask(Morning)]"),
        "{out}"
    );

    // A process the runner cannot start says how it could be.
    let (exit, _, err) = run_with(xml.as_bytes(), "", Format::Text, StartBy::Default).await;
    assert_eq!(
        exit,
        Exit::Ran,
        "the main process has a none start event: {err}"
    );
    let mut options = options(Format::Text);
    options.process = Some("listener".into());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = run(xml.as_bytes(), "", &options, &mut out, &mut err).await;
    let err = String::from_utf8(err).unwrap();
    assert_eq!(exit, Exit::BadInput);
    assert!(
        err.contains("process \"listener\" has no none start event; start it with --message NAME or --signal NAME (its start events: signal \"go\")"),
        "{err}"
    );
}

/// A signal the process throws itself starts its own event subprocess, and
/// the instance then finishes (it once stopped with "job has already run").
#[tokio::test]
async fn a_signal_thrown_inside_starts_its_own_event_subprocess() {
    for interrupting in [true, false] {
        let xml = definitions(&format!(
            r#"<bpmn:signal id="sig" name="alarm"/>
<bpmn:process id="p" name="Self-signal" isExecutable="true">
<bpmn:startEvent id="s"/><bpmn:task id="prep" name="Prepare"/>
<bpmn:intermediateThrowEvent id="throw"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateThrowEvent>
<bpmn:userTask id="main_task" name="Main"/><bpmn:endEvent id="e"/>{}{}{}{}
<bpmn:subProcess id="sub" triggeredByEvent="true">
  <bpmn:startEvent id="ss" isInterrupting="{interrupting}"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:startEvent>
  <bpmn:userTask id="handle" name="Handle"/><bpmn:endEvent id="se"/>{}{}
</bpmn:subProcess>
</bpmn:process>"#,
            flow("f1", "s", "prep"),
            flow("f2", "prep", "throw"),
            flow("f3", "throw", "main_task"),
            flow("f4", "main_task", "e"),
            flow("g1", "ss", "handle"),
            flow("g2", "handle", "se"),
        ));
        let script = if interrupting {
            "expect tasks handle\ncomplete handle\nexpect completed\n"
        } else {
            "expect tasks handle main_task\ncomplete handle\nexpect active\ncomplete main_task\nexpect completed\n"
        };
        let (exit, out, err) =
            run_with(xml.as_bytes(), script, Format::Text, StartBy::Default).await;
        assert_eq!(exit, Exit::Ran, "interrupting={interrupting}\n{out}{err}");
        assert!(out.ends_with("[1] DONE\n"), "{out}");
        assert!(err.is_empty(), "{err}");
    }
}

/// A cancel end event is reported completed (not cancelled with the
/// transaction it ends).
#[tokio::test]
async fn a_cancel_end_event_is_reported_completed() {
    let bytes = std::fs::read("bpmn/compensation.bpmn").unwrap();
    let script = std::fs::read_to_string("bpmn/compensation.script").unwrap();
    let (exit, out, err) = run_with(&bytes, &script, Format::Json, StartBy::Default).await;
    assert_eq!(exit, Exit::Ran, "{out}{err}");
    let lines = json_lines(&out);
    let about = |event: &str| {
        lines
            .iter()
            .filter(|l| l["event"] == event && l["element"] == "EndEvent_cancel")
            .count()
    };
    assert_eq!(about("completed"), 1, "{out}");
    assert_eq!(about("terminated"), 0, "{out}");
}

/// A process that calls itself stops at the call depth limit: the run ends
/// with the incident naming the chain, instead of spinning without output.
#[tokio::test]
async fn a_process_that_calls_itself_stops_at_the_depth_limit() {
    let xml = definitions(&format!(
        r#"<bpmn:process id="again" name="Again" isExecutable="true">
<bpmn:startEvent id="s"/><bpmn:callActivity id="call" name="Call again" calledElement="again"/><bpmn:endEvent id="e"/>{}{}
</bpmn:process>"#,
        flow("f1", "s", "call"),
        flow("f2", "call", "e"),
    ));
    let (exit, out, err) = run_with(xml.as_bytes(), "", Format::Text, StartBy::Default).await;
    let max = bpmn_engine::runtime::MAX_CALL_DEPTH;
    assert!(
        out.contains(&format!("[{max}] STARTED: Again, called by [{}]", max - 1)),
        "{out}{err}"
    );
    assert!(!out.contains(&format!("[{}] STARTED", max + 1)), "{out}");
    assert!(
        out.contains("calls nest more than 32 deep (does a process call itself?): again → again → … (31 more calls round the same cycle)"),
        "{out}{err}"
    );
    // The run itself went as written: the incident is the process's outcome.
    assert_eq!(exit, Exit::Ran, "{out}{err}");
}

#[tokio::test]
async fn a_script_suspends_resumes_and_modifies_the_instance() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "a"),
        flow("f1", "a", "b"),
        flow("f2", "b", "e")
    ));
    let script = "suspend\ncomplete a\nexpect tasks a\nresume\nmodify cancel:a start_before:b\nexpect tasks b\ncomplete b\nexpect completed\n";
    let (exit, out, err) = run_text(xml.as_bytes(), script, Format::Text).await;
    assert_eq!(exit, Exit::Ran, "{out}\n{err}");
    assert!(
        out.contains("--> modify: cancel \"a\", start before \"b\""),
        "{out}"
    );
    let (exit, _, err) = run_text(xml.as_bytes(), "modify jump:b\n", Format::Text).await;
    assert_ne!(exit, Exit::Ran);
    assert!(err.contains("\"jump:b\" is not cancel:ID"), "{err}");
}
