//! The end of a `bpmn bench` run: each measured number next to its target
//! (BENCHMARKS.md, "Against the targets"), per database, met or not. Only the
//! workloads that ran have rows.

use super::{W1, W2, W3, W4, ms};

/// One measured number against its target.
struct Check {
    database: String,
    measure: String,
    value: String,
    target: &'static str,
    met: bool,
}

/// The checks of a run, in the order they were measured.
#[derive(Default)]
pub(super) struct Against(Vec<Check>);

/// How much slower than on the empty database, in per cent.
fn slower(full: std::time::Duration, empty: std::time::Duration) -> f64 {
    (full.as_secs_f64() / empty.as_secs_f64().max(f64::MIN_POSITIVE) - 1.0) * 100.0
}

impl Against {
    fn add(
        &mut self,
        database: &str,
        measure: impl Into<String>,
        value: String,
        target: &'static str,
        met: bool,
    ) {
        self.0.push(Check {
            database: database.to_string(),
            measure: measure.into(),
            value,
            target,
            met,
        });
    }

    /// W1: instances per second; on SQLite also against the commit rate of
    /// one row measured in the same run.
    pub(super) fn w1(&mut self, database: &str, r: &W1) {
        let (floor, target) = if database == "SQLite" {
            (6000.0, "≥ 6,000")
        } else {
            (3000.0, "≥ 3,000")
        };
        self.add(
            database,
            "W1 instances/s",
            format!("{:.0}", r.instances_per_s),
            target,
            r.instances_per_s >= floor,
        );
        if database == "SQLite" {
            let ratio = r.instances_per_s / r.row_commits_per_s.max(f64::MIN_POSITIVE);
            self.add(
                database,
                "W1 instances / one-row commits",
                format!("{ratio:.2}"),
                "≥ 0.60",
                ratio >= 0.6,
            );
        }
    }

    /// W2: completions per second and their p99, per number of processes.
    pub(super) fn w2(&mut self, database: &str, processes: usize, r: &W2) {
        let sqlite = database == "SQLite";
        let (floor, rate_target) = if sqlite {
            (2000.0, "≥ 2,000")
        } else {
            (1000.0, "≥ 1,000")
        };
        let (p99_ms, p99_target) = if sqlite {
            (20.0, "< 20 ms")
        } else {
            (40.0, "< 40 ms")
        };
        let of = if processes == 1 {
            String::new()
        } else {
            format!(" ({processes} processes)")
        };
        self.add(
            database,
            format!("W2 completions/s{of}"),
            format!("{:.0}", r.completions_per_s),
            rate_target,
            r.completions_per_s >= floor,
        );
        self.add(
            database,
            format!("W2 p99{of}"),
            format!("{:.1} ms", ms(r.p99)),
            p99_target,
            ms(r.p99) < p99_ms,
        );
    }

    /// W3: the inbox, the instance list, the server's memory, and start and
    /// complete on the full database against the empty one.
    pub(super) fn w3(&mut self, database: &str, r: &W3) {
        self.add(
            database,
            "W3 inbox p50",
            format!("{:.2} ms", ms(r.inbox_p50)),
            "< 5 ms",
            ms(r.inbox_p50) < 5.0,
        );
        self.add(
            database,
            "W3 instance list p50",
            format!("{:.2} ms", ms(r.instances_p50)),
            "< 20 ms",
            ms(r.instances_p50) < 20.0,
        );
        self.add(
            database,
            "W3 statistics p50",
            format!("{:.2} ms", ms(r.statistics_p50)),
            "< 50 ms",
            ms(r.statistics_p50) < 50.0,
        );
        let peak_mb = r.peak_rss_mib * 1.048_576;
        self.add(
            database,
            "W3 server RSS (peak)",
            format!("{peak_mb:.0} MB"),
            "< 100 MB",
            peak_mb < 100.0,
        );
        for (what, full, empty) in [
            ("W3 start, full vs empty", r.start_full, r.start_empty),
            (
                "W3 complete, full vs empty",
                r.complete_full,
                r.complete_empty,
            ),
        ] {
            let p = slower(full, empty);
            self.add(
                database,
                what,
                format!("{p:+.0} %"),
                "within 20 %",
                p <= 20.0,
            );
        }
    }

    /// W4: memory after the bursts of wrong logins, `/healthz` under runaways.
    pub(super) fn w4(&mut self, database: &str, r: &W4) {
        let worst_mb = r
            .rss_after_bursts_mib
            .iter()
            .copied()
            .fold(r.rss_settled_mib, f64::max)
            * 1.048_576;
        self.add(
            database,
            "W4 RSS after the bursts",
            format!("{worst_mb:.0} MB"),
            "< 150 MB",
            worst_mb < 150.0,
        );
        self.add(
            database,
            "W4 /healthz p99",
            format!("{:.1} ms", ms(r.healthz_p99)),
            "< 100 ms",
            ms(r.healthz_p99) < 100.0,
        );
    }

    /// Prints the table (nothing when no workload ran).
    pub(super) fn print(&self, out: &mut dyn std::io::Write) {
        if self.0.is_empty() {
            return;
        }
        let _ = writeln!(out, "\nAgainst the targets");
        let _ = writeln!(out, "| database | measure | value | target | |");
        let _ = writeln!(out, "|---|---|---:|---|---|");
        for c in &self.0 {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                c.database,
                c.measure,
                c.value,
                c.target,
                if c.met { "met" } else { "not met" }
            );
        }
    }

    /// How many checks were met, of how many.
    #[cfg(test)]
    fn score(&self) -> (usize, usize) {
        (self.0.iter().filter(|c| c.met).count(), self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn targets_depend_on_the_database_and_only_measured_rows_print() {
        let mut a = Against::default();
        let mut out = Vec::new();
        a.print(&mut out);
        assert!(out.is_empty(), "no workload, no table");
        let w1 = W1 {
            instances_per_s: 4000.0,
            empty_commits_per_s: 9000.0,
            row_commits_per_s: 5000.0,
            statements_per_instance: 3.0,
        };
        a.w1("SQLite", &w1);
        a.w1("PostgreSQL", &w1);
        // SQLite: 4,000 < 6,000 and 0.8 ≥ 0.6; PostgreSQL: 4,000 ≥ 3,000.
        assert_eq!(a.score(), (2, 3));
        let w3 = W3 {
            instances: 10,
            seed_seconds: 1.0,
            rss_mib: 20.0,
            peak_rss_mib: 96.0,
            db_mib: 1.0,
            inbox_p50: Duration::from_millis(2),
            instances_p50: Duration::from_millis(25),
            statistics_p50: Duration::from_millis(3),
            start_empty: Duration::from_millis(10),
            start_full: Duration::from_millis(11),
            complete_empty: Duration::from_millis(10),
            complete_full: Duration::from_millis(13),
        };
        a.w3("SQLite", &w3);
        // Inbox, statistics (3 ms) and start (+10 %) met; the list (25 ms),
        // 96 MiB (100.7 MB) and complete (+30 %) not.
        assert_eq!(a.score(), (5, 9));
        a.print(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("| SQLite | W3 instance list p50 | 25.00 ms | < 20 ms | not met |"));
        assert!(text.contains("| PostgreSQL | W1 instances/s | 4000 | ≥ 3,000 | met |"));
        assert!(!text.contains("W2"));
    }
}
