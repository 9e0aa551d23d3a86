//! Who may do what: the one authorization policy, written as one table.
//!
//! Every row is an [`Action`] on a resource, every column a kind of
//! principal, every cell a [`Rule`]. The runtime consults it for every
//! command and query — for a command against the rows it read, which it then
//! writes only if the instance's version under the lock is still the one it
//! read (every change to those rows is a command on the instance, so a claim
//! that lands meanwhile makes the command read and check again) — and the
//! list queries filter by the same rules. Nothing else in the program decides who may do
//! what: the pages, the JSON API and the python-bpmn-engine routes all ask
//! the runtime, and the runtime asks this table.
//!
//! A refusal says as little as it must: what the principal may not even see
//! is *hidden* (answered as "not found"), what they may see but not do is
//! *forbidden* (with the reason).

use std::fmt::Write as _;

/// What a principal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Nobody logged in.
    Anonymous,
    /// An ordinary account: people who start processes and complete tasks.
    User,
    /// A service account for external task workers and systems that send
    /// messages and signals. For tasks and instances it is an ordinary user.
    Worker,
    /// May see and do everything.
    Admin,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Anonymous, Kind::User, Kind::Worker, Kind::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Anonymous => "anonymous",
            Kind::User => "user",
            Kind::Worker => "worker",
            Kind::Admin => "admin",
        }
    }
}

/// The role an account has (an account is never anonymous).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    User,
    Worker,
    Admin,
}

impl Role {
    pub fn kind(self) -> Kind {
        match self {
            Role::User => Kind::User,
            Role::Worker => Kind::Worker,
            Role::Admin => Kind::Admin,
        }
    }

    pub fn name(self) -> &'static str {
        self.kind().name()
    }
}

/// Someone acting: an account with its groups and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub groups: Vec<String>,
    pub role: Role,
}

impl Principal {
    pub fn new(name: &str, groups: Vec<String>, role: Role) -> Principal {
        Principal {
            name: name.to_string(),
            groups,
            role,
        }
    }

    /// An administrator acting from the command line (`bpmn run`, `bpmn deploy`).
    pub fn operator(name: &str) -> Principal {
        Principal::new(name, Vec::new(), Role::Admin)
    }

    pub fn kind(&self) -> Kind {
        self.role.kind()
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// The resources actions are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Public,
    Definition,
    Decision,
    Instance,
    Task,
    ExternalTask,
    Message,
    Signal,
    Account,
    User,
}

impl Resource {
    pub fn name(self) -> &'static str {
        match self {
            Resource::Public => "public",
            Resource::Definition => "process definition",
            Resource::Decision => "decision",
            Resource::Instance => "instance",
            Resource::Task => "user task",
            Resource::ExternalTask => "external task",
            Resource::Message => "message",
            Resource::Signal => "signal",
            Resource::Account => "own account",
            Resource::User => "users",
        }
    }
}

/// Everything a principal can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The login page, assets, health, readiness, metrics, API documentation.
    ReadPublic,
    /// Process definitions: lists, pages, files, diagrams, versions.
    ViewDefinitions,
    /// Upload a BPMN or DMN file.
    Deploy,
    /// Start an instance (also through a message or signal start event).
    StartInstance,
    ViewDecisions,
    EvaluateDecision,
    /// An instance, its variables, tasks, incidents and history.
    ViewInstance,
    CancelInstance,
    SetVariables,
    /// Resume an element that waits to be triggered.
    TriggerElement,
    RetryIncident,
    /// Suspend or resume an instance.
    SuspendInstance,
    /// Cancel and start elements of a running instance.
    ModifyInstance,
    /// Move instances to another version of their process.
    MigrateInstance,
    /// Suspend or resume a version of a process (no new starts), and migrate
    /// its instances in a batch.
    OperateDefinition,
    /// Statistics per element of a process: active, completed, cancelled,
    /// incidents and time spent.
    ViewStatistics,
    ViewTask,
    ClaimTask,
    UnclaimTask,
    AssignTask,
    CompleteTask,
    /// Lock external tasks of some topics.
    FetchExternalTasks,
    /// Complete, fail, throw a BPMN error on or extend the lock of an external task.
    ReportExternalTask,
    /// Deliver a message to an instance that waits for it.
    CorrelateMessage,
    BroadcastSignal,
    /// One's own account page, tokens and session.
    ManageOwnAccount,
    /// Add, change and disable accounts.
    ManageUsers,
    /// Change one's own password (knowing the current one).
    ChangeOwnPassword,
    /// Give an account a one-time password (or set one from the command line).
    ResetPassword,
}

/// When a principal of some kind may do an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Deny,
    Allow,
    /// The instance is one they started or worked on: they completed or hold
    /// one of its tasks, or can claim one of its open tasks.
    Involved,
    /// They hold the task or are one of its candidates (as a user or through a group).
    HolderOrCandidate,
    /// They are one of the task's candidates.
    Candidate,
    /// They hold the task.
    Holder,
    /// They hold the task, or nobody does and they are a candidate.
    HolderOrFreeCandidate,
}

impl Rule {
    fn allows(self, f: &Facts) -> bool {
        match self {
            Rule::Deny => false,
            Rule::Allow => true,
            Rule::Involved => f.involved,
            Rule::HolderOrCandidate => f.holder || f.candidate,
            Rule::Candidate => f.candidate,
            Rule::Holder => f.holder,
            Rule::HolderOrFreeCandidate => f.holder || (f.task_free && f.candidate),
        }
    }

    fn text(self) -> &'static str {
        match self {
            Rule::Deny => "—",
            Rule::Allow => "yes",
            Rule::Involved => "if involved",
            Rule::HolderOrCandidate => "holder or candidate",
            Rule::Candidate => "candidate",
            Rule::Holder => "holder",
            Rule::HolderOrFreeCandidate => "holder, or candidate of an unclaimed task",
        }
    }
}

/// One row of the policy.
#[derive(Debug, Clone, Copy)]
pub struct Permission {
    pub action: Action,
    pub resource: Resource,
    /// The action that decides whether the resource is visible at all: when
    /// the action is refused and this one is too, the resource is hidden.
    pub sees_through: Option<Action>,
    pub anonymous: Rule,
    pub user: Rule,
    pub worker: Rule,
    pub admin: Rule,
}

impl Permission {
    pub fn rule(&self, kind: Kind) -> Rule {
        match kind {
            Kind::Anonymous => self.anonymous,
            Kind::User => self.user,
            Kind::Worker => self.worker,
            Kind::Admin => self.admin,
        }
    }
}

use Rule::{Allow, Candidate, Deny, Holder, HolderOrCandidate, HolderOrFreeCandidate, Involved};

const fn row(
    action: Action,
    resource: Resource,
    sees_through: Option<Action>,
    [anonymous, user, worker, admin]: [Rule; 4],
) -> Permission {
    Permission {
        action,
        resource,
        sees_through,
        anonymous,
        user,
        worker,
        admin,
    }
}

const SEE_INSTANCE: Option<Action> = Some(Action::ViewInstance);
const SEE_TASK: Option<Action> = Some(Action::ViewTask);

/// The policy: anonymous, user, worker, admin.
#[rustfmt::skip]
pub const POLICY: &[Permission] = &[
    row(Action::ReadPublic, Resource::Public, None, [Allow, Allow, Allow, Allow]),
    row(Action::ViewDefinitions, Resource::Definition, None, [Deny, Allow, Allow, Allow]),
    row(Action::Deploy, Resource::Definition, None, [Deny, Deny, Deny, Allow]),
    row(Action::StartInstance, Resource::Definition, None, [Deny, Allow, Allow, Allow]),
    row(Action::ViewDecisions, Resource::Decision, None, [Deny, Allow, Allow, Allow]),
    row(Action::EvaluateDecision, Resource::Decision, None, [Deny, Allow, Allow, Allow]),
    row(Action::ViewInstance, Resource::Instance, SEE_INSTANCE, [Deny, Involved, Involved, Allow]),
    row(Action::CancelInstance, Resource::Instance, SEE_INSTANCE, [Deny, Deny, Deny, Allow]),
    row(Action::SetVariables, Resource::Instance, SEE_INSTANCE, [Deny, Deny, Deny, Allow]),
    row(Action::TriggerElement, Resource::Instance, SEE_INSTANCE, [Deny, Involved, Allow, Allow]),
    row(Action::RetryIncident, Resource::Instance, SEE_INSTANCE, [Deny, Deny, Deny, Allow]),
    row(Action::SuspendInstance, Resource::Instance, SEE_INSTANCE, [Deny, Deny, Deny, Allow]),
    row(Action::ModifyInstance, Resource::Instance, SEE_INSTANCE, [Deny, Deny, Deny, Allow]),
    row(Action::MigrateInstance, Resource::Instance, SEE_INSTANCE, [Deny, Deny, Deny, Allow]),
    row(Action::OperateDefinition, Resource::Definition, None, [Deny, Deny, Deny, Allow]),
    row(Action::ViewStatistics, Resource::Definition, None, [Deny, Deny, Deny, Allow]),
    row(Action::ViewTask, Resource::Task, SEE_TASK, [Deny, HolderOrCandidate, HolderOrCandidate, Allow]),
    row(Action::ClaimTask, Resource::Task, SEE_TASK, [Deny, Candidate, Candidate, Allow]),
    row(Action::UnclaimTask, Resource::Task, SEE_TASK, [Deny, Holder, Holder, Allow]),
    row(Action::AssignTask, Resource::Task, SEE_TASK, [Deny, Deny, Deny, Allow]),
    row(Action::CompleteTask, Resource::Task, SEE_TASK, [Deny, HolderOrFreeCandidate, HolderOrFreeCandidate, Allow]),
    row(Action::FetchExternalTasks, Resource::ExternalTask, None, [Deny, Deny, Allow, Allow]),
    row(Action::ReportExternalTask, Resource::ExternalTask, None, [Deny, Deny, Allow, Allow]),
    row(Action::CorrelateMessage, Resource::Message, SEE_INSTANCE, [Deny, Involved, Allow, Allow]),
    row(Action::BroadcastSignal, Resource::Signal, None, [Deny, Deny, Allow, Allow]),
    row(Action::ManageOwnAccount, Resource::Account, None, [Deny, Allow, Allow, Allow]),
    row(Action::ManageUsers, Resource::User, None, [Deny, Deny, Deny, Allow]),
    row(Action::ChangeOwnPassword, Resource::Account, None, [Deny, Allow, Allow, Allow]),
    row(Action::ResetPassword, Resource::User, None, [Deny, Deny, Deny, Allow]),
];

/// The row of an action (every action has exactly one; a test checks it).
pub fn permission(action: Action) -> &'static Permission {
    POLICY
        .iter()
        .find(|p| p.action == action)
        .unwrap_or(&POLICY[0])
}

/// What the locked rows say about a principal and the resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// The instance is one they started or worked on.
    pub involved: bool,
    /// They hold the task.
    pub holder: bool,
    /// They are a candidate of the task.
    pub candidate: bool,
    /// Nobody holds the task.
    pub task_free: bool,
}

impl Facts {
    /// Facts about a task: who holds it and whether `who` is a candidate.
    pub fn task(who: &Principal, assignee: Option<&str>, candidate: bool) -> Facts {
        Facts {
            involved: false,
            holder: assignee == Some(who.name.as_str()),
            candidate,
            task_free: assignee.is_none(),
        }
    }
}

/// The policy's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// May see the resource, may not do this.
    Forbidden,
    /// May not even see it: answered as "not found".
    Hidden,
}

/// What the policy says of `kind` doing `action`, given the facts.
pub fn decide(kind: Kind, action: Action, facts: &Facts) -> Decision {
    let p = permission(action);
    if p.rule(kind).allows(facts) {
        return Decision::Allowed;
    }
    match p.sees_through {
        Some(view) if !permission(view).rule(kind).allows(facts) => Decision::Hidden,
        _ => Decision::Forbidden,
    }
}

/// Whether `kind` may do `action` whatever the facts (e.g. deploy).
pub fn allows(kind: Kind, action: Action) -> bool {
    permission(action).rule(kind) == Rule::Allow
}

/// Whether `kind` may do `action` on some resources (a rule that depends on
/// facts), for showing a button.
pub fn may_ever(kind: Kind, action: Action) -> bool {
    permission(action).rule(kind) != Rule::Deny
}

/// The policy as a Markdown table (the README shows it; a test keeps them alike).
pub fn markdown() -> String {
    let mut out = String::from(
        "| resource | action | anonymous | user | worker | admin |\n|---|---|---|---|---|---|\n",
    );
    for p in POLICY {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            p.resource.name(),
            action_text(p.action),
            p.anonymous.text(),
            p.user.text(),
            p.worker.text(),
            p.admin.text()
        );
    }
    out
}

/// Why a principal who may see the resource may not do the action (a 403's message).
pub fn refusal(action: Action, assignee: Option<&str>) -> String {
    match action {
        Action::CompleteTask => match assignee {
            Some(a) => format!("the task is claimed by {a}"),
            None => "you are not a candidate for this task".into(),
        },
        Action::ClaimTask => "you are not a candidate for this task".into(),
        Action::UnclaimTask => "only the holder or an admin can release this task".into(),
        Action::AssignTask => "only admins can assign tasks".into(),
        Action::Deploy => "only admins can deploy".into(),
        Action::ManageUsers => "only admins can manage accounts".into(),
        Action::ResetPassword => "only admins can reset passwords".into(),
        Action::FetchExternalTasks | Action::ReportExternalTask => {
            "only workers and admins can work on external tasks".into()
        }
        Action::BroadcastSignal => "only workers and admins can broadcast signals".into(),
        _ => "only admins can do this".into(),
    }
}

/// How the README names an action.
pub fn action_text(action: Action) -> &'static str {
    match action {
        Action::ReadPublic => "login page, assets, health, metrics, API documentation",
        Action::ViewDefinitions => "see diagrams, their files and versions",
        Action::Deploy => "deploy a BPMN or DMN file",
        Action::StartInstance => "start an instance (also by a message or signal start event)",
        Action::ViewDecisions => "see decisions",
        Action::EvaluateDecision => "evaluate a decision",
        Action::ViewInstance => "see an instance, its variables and history",
        Action::CancelInstance => "cancel an instance",
        Action::SetVariables => "set variables",
        Action::TriggerElement => "trigger a waiting element",
        Action::RetryIncident => "retry an incident",
        Action::SuspendInstance => "suspend or resume an instance",
        Action::ModifyInstance => "modify an instance (cancel, start elements)",
        Action::MigrateInstance => "migrate instances to another version",
        Action::OperateDefinition => "suspend, resume or migrate a process version",
        Action::ViewStatistics => "see statistics per element of a process",
        Action::ViewTask => "see a task",
        Action::ClaimTask => "claim an unclaimed task",
        Action::UnclaimTask => "release a task",
        Action::AssignTask => "assign a task",
        Action::CompleteTask => "complete a task",
        Action::FetchExternalTasks => "fetch and lock external tasks",
        Action::ReportExternalTask => "complete, fail, throw a BPMN error on, extend a lock",
        Action::CorrelateMessage => "deliver a message to a waiting instance",
        Action::BroadcastSignal => "broadcast a signal",
        Action::ManageOwnAccount => "own account page, API tokens, log out",
        Action::ManageUsers => "add, change and disable accounts",
        Action::ChangeOwnPassword => "change one's own password",
        Action::ResetPassword => "reset an account's password",
    }
}
