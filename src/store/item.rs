//! What a command sends to be written: its conditions (statements that
//! must change one row, each with what it means when it changes none) and
//! its writes. Both the SQLite group writer (`group.rs`) and PostgreSQL's
//! single statements (`single.rs`) take a command as these.

use sea_orm::Statement;

/// A condition of a command that did not hold when it was written: the
/// command wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmet {
    /// The instance row is not at the version the command was computed
    /// from (another command won the race, or the instance is gone).
    Version(uuid::Uuid),
    /// The definition version to start from is suspended, or (for a start
    /// of the latest version of its key) a newer version is deployed.
    Definition(i64),
    /// The job is gone, or no longer leased by the one that ran it.
    Job(uuid::Uuid),
    /// The timer start fired already, or is leased by another process.
    StartTimer(uuid::Uuid),
}

impl std::fmt::Display for Unmet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unmet::Version(id) => write!(f, "version check of instance {id}"),
            Unmet::Definition(id) => write!(f, "start from definition {id} (startable, latest)"),
            Unmet::Job(id) => write!(f, "hold on job {id}"),
            Unmet::StartTimer(id) => write!(f, "hold on timer start {id}"),
        }
    }
}

/// One statement of a command.
pub(super) enum Item {
    /// A condition: a statement expected to change one row.
    Require(Statement, Unmet),
    /// A write whose result is not read.
    Write(Statement),
}
