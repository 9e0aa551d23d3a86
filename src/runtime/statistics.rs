//! Statistics per diagram element, for admins: element instances active now,
//! completions, cancellations, open incidents, and the average and 95th
//! percentile of the time spent by those that completed — for one version of
//! a process, or all its versions together.
//!
//! Each command appends what it changed (derived from its events) to the
//! store in its own transaction; the job executor's housekeeping folds those
//! rows into summary rows ([`Runtime::fold_statistics`]). Times need to know
//! when an element instance started: after the engine computes a
//! transition, [`stamp`] notes the start of every new element instance in
//! the state's `since` map, and [`forget_ended`] drops the entries of those
//! that ended once they have been measured.

use jiff::Timestamp;
use serde::Serialize;

use super::deployments::Deployments;
use super::policy::{Action, Principal};
use super::{Runtime, RuntimeError, require};
use crate::engine::InstanceState;

/// Delta rows folded per round of the rollup.
const FOLD_BATCH: u64 = 5_000;
/// Rounds per call of [`Runtime::fold_statistics`]: what is left waits for
/// the next call.
const FOLD_ROUNDS: usize = 4;

/// Drops the start times of element instances that ended (they were
/// measured when the command that ended them was written).
pub(crate) fn forget_ended(state: &mut InstanceState) {
    let live = &state.elements;
    state.since.retain(|k, _| live.contains_key(k));
}

/// Notes `now` as the start of each live element instance that has none.
pub(crate) fn stamp(state: &mut InstanceState, now: Timestamp) {
    for key in state.elements.keys() {
        state.since.entry(*key).or_insert(now);
    }
}

/// Which versions the statistics are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatisticsVersion {
    Latest,
    Version(i32),
    /// Every version, summed per element id.
    All,
}

/// The numbers of one element.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ElementStatistics {
    pub element_id: String,
    /// The element's name in the (chosen or latest) version, else its id.
    pub name: String,
    /// Element instances active now (tokens and waits in it).
    pub active: i64,
    pub completed: i64,
    /// Ended without completing: cancelled by an operator or with their
    /// instance, interrupted by a boundary event, ended by a terminate end
    /// event. Not counted as completions.
    pub cancelled: i64,
    pub incidents: i64,
    /// Completions whose time is known (those that started before statistics
    /// were kept have none).
    pub timed: i64,
    /// Average time spent by the timed completions, in milliseconds.
    pub average_ms: Option<f64>,
    /// 95th percentile of it, in milliseconds (from a log-scale histogram:
    /// within about 9 %).
    pub p95_ms: Option<i64>,
}

/// The statistics of a process version (or of all its versions).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DefinitionStatistics {
    pub key: String,
    /// The version, or `None` for all versions together.
    pub version: Option<i32>,
    pub elements: Vec<ElementStatistics>,
}

impl DefinitionStatistics {
    /// The numbers of one element, if it has any.
    pub fn element(&self, id: &str) -> Option<&ElementStatistics> {
        self.elements.iter().find(|e| e.element_id == id)
    }
}

impl Deployments<'_> {
    /// The statistics per element of a version of a process (admins only).
    pub async fn statistics(
        &self,
        who: &Principal,
        key: &str,
        version: StatisticsVersion,
    ) -> Result<DefinitionStatistics, RuntimeError> {
        require(who, Action::ViewStatistics)?;
        let versions = self.versions(who, key).await?;
        let (ids, shown) = match version {
            StatisticsVersion::All => (versions.iter().map(|v| v.id).collect(), None),
            StatisticsVersion::Latest => {
                let v = versions
                    .first()
                    .ok_or_else(|| RuntimeError::NotFound(format!("process {key}")))?;
                (vec![v.id], Some(v.version))
            }
            StatisticsVersion::Version(n) => {
                let v = versions.iter().find(|v| v.version == n).ok_or_else(|| {
                    RuntimeError::NotFound(format!("version {n} of process {key}"))
                })?;
                (vec![v.id], Some(v.version))
            }
        };
        let Some(named) = versions
            .iter()
            .find(|v| Some(v.version) == shown)
            .or(versions.first())
        else {
            return Err(RuntimeError::NotFound(format!("process {key}")));
        };
        let deployed = self.rt.deployed(named.id).await?;
        let process = deployed.process();
        let counts = self.rt.store().element_statistics(&ids).await?;
        let elements = counts
            .into_iter()
            .map(|(id, c)| ElementStatistics {
                name: process
                    .node(&id)
                    .map(|n| n.display_name().to_string())
                    .unwrap_or_else(|| id.clone()),
                element_id: id,
                active: c.active,
                completed: c.completed,
                cancelled: c.cancelled,
                incidents: c.incidents,
                timed: c.timed,
                average_ms: c.average_ms(),
                p95_ms: c.p95_ms(),
            })
            .collect();
        Ok(DefinitionStatistics {
            key: key.to_string(),
            version: shown,
            elements,
        })
    }
}

impl Runtime {
    /// Folds the statistics rows commands appended into the summary rows
    /// (a few batches; the rest waits for the next call). One process folds
    /// at a time; the others skip. Returns how many rows were folded.
    pub async fn fold_statistics(&self) -> Result<usize, RuntimeError> {
        let mut folded = 0;
        for _ in 0..FOLD_ROUNDS {
            let n = self.store().fold_statistics(FOLD_BATCH).await?;
            folded += n;
            if (n as u64) < FOLD_BATCH {
                break;
            }
        }
        Ok(folded)
    }
}
