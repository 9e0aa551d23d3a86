//! `bpmn serve` as an operator meets it: a database that does not answer is
//! reported soon and without its password; a wrong setting stops the server
//! before it writes anything; logs are plain text (no colour codes) when
//! stderr is not a terminal, or JSON lines.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Far longer than any of these should take: only there so that a hang fails.
const DEADLINE: Duration = Duration::from_secs(90);

/// The binary with none of the server's settings inherited from the environment.
fn bpmn() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bpmn"));
    for var in [
        "DATABASE_URL",
        "BPMN_LISTEN",
        "BPMN_DIAGRAMS",
        "BPMN_ADMIN_PASSWORD",
        "BPMN_SESSION_KEY",
        "BPMN_LOG_FORMAT",
        "BPMN_CONNECTOR_ALLOW",
        "BPMN_CONNECTOR_TIMEOUT_MAX",
        "NO_COLOR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Waits for the process to end by itself (killing it after [`DEADLINE`]).
fn finish(mut child: Child) -> (ExitStatus, String, String) {
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > DEADLINE {
            child.kill().ok();
            panic!("the process did not stop within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    let mut err = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).ok();
    child.stderr.take().unwrap().read_to_string(&mut err).ok();
    (status, out, err)
}

/// `bpmn serve` on a SQLite file in `dir` with an empty diagram directory,
/// set through the environment so that a test's arguments take precedence.
fn serve_in(dir: &Path) -> Command {
    let diagrams = dir.join("diagrams");
    std::fs::create_dir_all(&diagrams).unwrap();
    let mut cmd = bpmn();
    cmd.arg("serve")
        .env("BPMN_LISTEN", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.join("bpmn.sqlite").display()),
        )
        .env("BPMN_DIAGRAMS", &diagrams);
    cmd
}

#[test]
fn an_unreachable_database_fails_soon_without_showing_its_password() {
    let dir = tempfile::tempdir().unwrap();
    for (url, shown) in [
        (
            "postgres://bpmn:s3cret-pw@127.0.0.1:1/bpmn",
            "postgres://bpmn:***@127.0.0.1:1/bpmn",
        ),
        (
            "postgres://bpmn@127.0.0.1:1/bpmn?password=s3cret-pw&sslmode=disable",
            "postgres://bpmn@127.0.0.1:1/bpmn?password=***&sslmode=disable",
        ),
    ] {
        let child = serve_in(dir.path())
            .args(["--database-url", url])
            .spawn()
            .unwrap();
        let (status, out, err) = finish(child);
        assert!(!status.success(), "{url}: {err}");
        assert!(
            err.contains(shown) && err.contains("no connection within"),
            "the message names the database, masked: {err}"
        );
        assert!(
            !err.contains("s3cret-pw") && !out.contains("s3cret-pw"),
            "the password is never shown: {err}"
        );
        // Nor by the help text, which otherwise shows the environment's values.
        let (_, help, _) = finish(
            serve_in(dir.path())
                .env("DATABASE_URL", url)
                .arg("--help")
                .spawn()
                .unwrap(),
        );
        assert!(
            help.contains("--database-url") && !help.contains("s3cret-pw"),
            "{help}"
        );
    }
}

#[test]
fn a_wrong_setting_stops_the_server_before_anything_is_written() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/demo.bpmn");
    // (variable, value, what the message says)
    let cases = [
        ("BPMN_ADMIN_PASSWORD", "short", "at least 8 characters"),
        ("BPMN_SESSION_KEY", "too-short", "at least 32 characters"),
        (
            "BPMN_CONNECTOR_ALLOW",
            "api.example.com,http://x:1/",
            "--connector-allow",
        ),
        ("BPMN_LISTEN", "not an address", "cannot listen on"),
    ];
    for (var, value, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = serve_in(dir.path());
        std::fs::copy(demo, dir.path().join("diagrams/demo.bpmn")).unwrap();
        cmd.env(var, value);
        let (status, _, err) = finish(cmd.spawn().unwrap());
        assert!(!status.success(), "{var}={value}: {err}");
        assert!(err.contains(expected), "{var}={value}: {err}");
        assert!(
            !dir.path().join("bpmn.sqlite").exists(),
            "{var}={value}: no database was created, nothing deployed"
        );
    }
}

/// Starts `cmd` (a server), waits until it serves, stops it and returns its stderr.
fn logs_of_a_start(mut cmd: Command) -> String {
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("Serving on") {
                tx.send(()).ok();
            }
        }
    });
    let served = rx.recv_timeout(DEADLINE);
    child.kill().ok();
    child.wait().ok();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).ok();
    assert!(served.is_ok(), "the server did not start: {err}");
    err
}

#[test]
fn logs_to_a_pipe_are_plain_text_or_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let text = logs_of_a_start(serve_in(dir.path()));
    assert!(text.contains("serving"), "{text}");
    assert!(
        !text.contains("\x1b["),
        "no colour codes in a pipe: {text:?}"
    );

    let mut cmd = serve_in(dir.path());
    cmd.args(["--log-format", "json"]);
    let json = logs_of_a_start(cmd);
    let lines: Vec<&str> = json.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
    assert!(lines.iter().any(|l| l.contains("serving")), "{json}");

    // The reason a start fails is a JSON line too.
    let mut cmd = serve_in(dir.path());
    cmd.env("BPMN_LOG_FORMAT", "json")
        .env("BPMN_ADMIN_PASSWORD", "short");
    let (status, _, err) = finish(cmd.spawn().unwrap());
    assert!(!status.success());
    let last: Value = serde_json::from_str(err.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("not a JSON line ({e}): {err:?}"));
    assert!(
        last["fields"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("at least 8 characters")),
        "{last}"
    );
}
