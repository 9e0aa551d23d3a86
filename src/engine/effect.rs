//! The outbox: what the world outside the instance must do after a command
//! commits — inbox tasks to open or close, jobs and timers to schedule or
//! cancel, message subscriptions to add or drop. The runtime writes them in the
//! same transaction as the new state.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::state::{JobKind, JobType};

/// A user task to put in people's inboxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserTaskSpec {
    /// The element instance the task belongs to.
    pub key: u64,
    pub element: String,
    pub name: Option<String>,
    pub documentation: Option<String>,
    pub assignee: Option<String>,
    pub candidate_users: Vec<String>,
    pub candidate_groups: Vec<String>,
    pub due: Option<Timestamp>,
    pub follow_up: Option<Timestamp>,
    pub priority: i64,
}

/// One side effect of a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    CreateUserTask(UserTaskSpec),
    /// The task now belongs to `assignee` (or to nobody).
    AssignUserTask {
        key: u64,
        assignee: Option<String>,
    },
    /// The task is done (`completed`) or withdrawn (`!completed`).
    CloseUserTask {
        key: u64,
        completed: bool,
    },
    CreateJob {
        key: u64,
        element: String,
        #[serde(flatten)]
        kind: JobKind,
        /// When it may run (`None`: now).
        due: Option<Timestamp>,
        /// What the job needs (a connector's evaluated inputs...).
        payload: Value,
        /// `camunda:failedJobRetryTimeCycle`: attempts before an incident (`None`: the default).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retries: Option<u32>,
    },
    /// Drop the jobs (and timers) of this element instance.
    CancelJob {
        key: u64,
    },
    /// Wait for a message (or, with `signal`, a signal) with this name.
    Subscribe {
        key: u64,
        element: String,
        message: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        signal: bool,
        /// The value of the message's `zeebe:subscription correlationKey`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        correlation: Option<String>,
    },
    Unsubscribe {
        key: u64,
    },
    /// The element instance's wait (inbox task, job, subscription) now
    /// belongs to the element `element` (a migration renamed it).
    MoveWait {
        key: u64,
        element: String,
    },
    /// The task's element has another name in the version the instance
    /// migrated to: the inbox shows this one.
    RenameUserTask {
        key: u64,
        name: Option<String>,
    },
    /// A called instance ended (or raised something): tell the call activity
    /// `element` of the calling instance.
    ReturnToCaller {
        element: String,
        #[serde(flatten)]
        outcome: CallOutcome,
    },
    /// The call activity is gone: cancel the instance it called.
    CancelCalled {
        instance: String,
    },
}

impl CallOutcome {
    /// The type of the job that carries it to the caller: an escalation does
    /// not end the call, so it never shares a row with the final answer.
    pub fn job_type(&self) -> JobType {
        match self {
            CallOutcome::Escalation { .. } => JobType::Escalation,
            _ => JobType::Return,
        }
    }
}

impl Effect {
    /// Whether it is work for the job executor: a job other than external
    /// work, or a job on another instance (a call's answer, a cancellation).
    pub fn is_local_work(&self) -> bool {
        match self {
            Effect::CreateJob { kind, .. } => kind.job_type().is_local(),
            Effect::ReturnToCaller { .. } | Effect::CancelCalled { .. } => true,
            _ => false,
        }
    }
}

/// What a called instance reports to its call activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CallOutcome {
    /// It completed with these instance variables.
    Completed { variables: Map<String, Value> },
    /// A BPMN error nobody in it caught ended it.
    Error {
        code: Option<String>,
        message: Option<String>,
    },
    /// An escalation nobody in it caught (it goes on).
    Escalation { code: Option<String> },
    /// It was cancelled from outside.
    Cancelled { reason: String },
}
