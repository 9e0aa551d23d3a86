//! Counters and latency histograms of this process, exposed by `/metrics` in
//! Prometheus' text format together with gauges read from the database.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::Event;

/// A monotonically increasing counter.
pub struct Counter(AtomicU64);

impl Counter {
    pub const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }

    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Default for Counter {
    fn default() -> Self {
        Counter::new()
    }
}

/// Upper bounds of the latency buckets, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A latency histogram with fixed buckets.
pub struct Histogram {
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    /// Sum in microseconds.
    sum_us: AtomicU64,
}

impl Histogram {
    pub const fn new() -> Histogram {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; 12],
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, seconds: f64) {
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add((seconds.max(0.0) * 1e6) as u64, Ordering::Relaxed);
    }

    /// Writes the histogram in Prometheus text format.
    pub fn write(&self, out: &mut String, name: &str, help: &str) {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} histogram\n"));
        for (i, le) in BUCKETS.iter().enumerate() {
            out.push_str(&format!(
                "{name}_bucket{{le=\"{le}\"}} {}\n",
                self.buckets[i].load(Ordering::Relaxed)
            ));
        }
        let count = self.count.load(Ordering::Relaxed);
        out.push_str(&format!("{name}_bucket{{le=\"+Inf\"}} {count}\n"));
        out.push_str(&format!(
            "{name}_sum {}\n{name}_count {count}\n",
            self.sum_us.load(Ordering::Relaxed) as f64 / 1e6
        ));
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

pub static COMMANDS: Counter = Counter::new();
pub static CONFLICTS: Counter = Counter::new();
/// Commands whose engine work ran past the time budget and was stopped.
pub static COMMANDS_STOPPED: Counter = Counter::new();
pub static INSTANCES_STARTED: Counter = Counter::new();
pub static INSTANCES_COMPLETED: Counter = Counter::new();
pub static INSTANCES_TERMINATED: Counter = Counter::new();
pub static TASKS_COMPLETED: Counter = Counter::new();
pub static INCIDENTS_RAISED: Counter = Counter::new();
pub static JOBS_RUN: Counter = Counter::new();
pub static JOBS_FAILED: Counter = Counter::new();
/// Job results refused because the lease was lost (or the job had run).
pub static JOBS_REFUSED: Counter = Counter::new();
/// From a job's due time to the moment it ran.
pub static JOB_DELAY: Histogram = Histogram::new();
pub static HTTP_LATENCY: Histogram = Histogram::new();
pub static HTTP_REQUESTS: Counter = Counter::new();
pub static HTTP_SERVER_ERRORS: Counter = Counter::new();
/// Passwords checked or hashed (argon2).
pub static PASSWORD_CHECKS: Counter = Counter::new();
/// Content security policy violations browsers reported.
pub static CSP_VIOLATIONS: Counter = Counter::new();

/// Counts what a committed transition did.
pub fn observe_events(events: &[Event]) {
    for e in events {
        match e {
            Event::InstanceStarted { .. } => INSTANCES_STARTED.inc(),
            Event::InstanceCompleted => INSTANCES_COMPLETED.inc(),
            Event::InstanceTerminated { .. } => INSTANCES_TERMINATED.inc(),
            Event::TaskCompleted { .. } => TASKS_COMPLETED.inc(),
            Event::IncidentRaised { .. } => INCIDENTS_RAISED.inc(),
            _ => {}
        }
    }
}

/// Statements run inside this process's write transactions so far (each a
/// round trip to the database), not counting `BEGIN` and `COMMIT`.
pub fn write_statements() -> u64 {
    crate::store::write_statements()
}

/// The process's counters in Prometheus text format.
pub fn write_counters(out: &mut String) {
    let counters: [(&str, &str, &Counter); 15] = [
        (
            "bpmn_commands_total",
            "Commands committed by this process",
            &COMMANDS,
        ),
        (
            "bpmn_command_conflicts_total",
            "Commands retried after losing a race for an instance",
            &CONFLICTS,
        ),
        (
            "bpmn_instances_started_total",
            "Instances started",
            &INSTANCES_STARTED,
        ),
        (
            "bpmn_instances_completed_total",
            "Instances completed",
            &INSTANCES_COMPLETED,
        ),
        (
            "bpmn_instances_terminated_total",
            "Instances terminated",
            &INSTANCES_TERMINATED,
        ),
        (
            "bpmn_tasks_completed_total",
            "User tasks completed",
            &TASKS_COMPLETED,
        ),
        (
            "bpmn_incidents_raised_total",
            "Incidents raised",
            &INCIDENTS_RAISED,
        ),
        ("bpmn_jobs_run_total", "Jobs run by this process", &JOBS_RUN),
        (
            "bpmn_jobs_failed_total",
            "Job attempts that failed",
            &JOBS_FAILED,
        ),
        (
            "bpmn_jobs_refused_total",
            "Job results not committed because the lease was lost or the job had run",
            &JOBS_REFUSED,
        ),
        (
            "bpmn_http_requests_total",
            "HTTP requests served",
            &HTTP_REQUESTS,
        ),
        (
            "bpmn_http_server_errors_total",
            "HTTP responses with a 5xx status",
            &HTTP_SERVER_ERRORS,
        ),
        (
            "bpmn_commands_stopped_total",
            "Commands whose scripts or expressions ran past the time budget",
            &COMMANDS_STOPPED,
        ),
        (
            "bpmn_password_checks_total",
            "Passwords checked or hashed (argon2)",
            &PASSWORD_CHECKS,
        ),
        (
            "bpmn_csp_violations_total",
            "Content security policy violations reported by browsers",
            &CSP_VIOLATIONS,
        ),
    ];
    for (name, help, c) in counters {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
            c.get()
        ));
    }
    let name = "bpmn_write_statements_total";
    out.push_str(&format!(
        "# HELP {name} Statements run inside write transactions, not counting BEGIN and COMMIT\n# TYPE {name} counter\n{name} {}\n",
        write_statements()
    ));
    JOB_DELAY.write(
        out,
        "bpmn_job_delay_seconds",
        "From a job's due time to its run",
    );
    HTTP_LATENCY.write(
        out,
        "bpmn_http_request_duration_seconds",
        "HTTP request latency",
    );
}
