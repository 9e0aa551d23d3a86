//! The API's own data shapes (never database rows), documented in the OpenAPI
//! document through their `ToSchema` derives.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::model::form::{FieldType, FormField};
use crate::runtime::LockedTask;
use crate::runtime::views::{
    DefinitionRow, HistoryView, IncidentView, InstanceView, TaskDetail, TaskView, VersionView,
    WaitView,
};
use crate::runtime::{DeployedDefinition, Outcome, Total};

/// A definition created (or found unchanged) by a deployment.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeployedDto {
    pub id: i64,
    pub key: String,
    pub version: i32,
    pub name: Option<String>,
    /// False when the latest version already had exactly this content.
    pub created: bool,
}

impl From<&DeployedDefinition> for DeployedDto {
    fn from(d: &DeployedDefinition) -> Self {
        DeployedDto {
            id: d.id,
            key: d.key.clone(),
            version: d.version,
            name: d.name.clone(),
            created: d.created,
        }
    }
}

/// The result of a deployment.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentDto {
    pub definitions: Vec<DeployedDto>,
    /// The decisions of a DMN file.
    pub decisions: Vec<DeployedDto>,
    /// The form of a `.form` file (Camunda Forms), by its form id.
    pub forms: Vec<DeployedDto>,
    /// Warnings about the diagram (it was deployed).
    pub warnings: Vec<super::error::ErrorItem>,
}

/// A process key with its versions and running instances.
#[derive(Debug, Serialize, ToSchema)]
pub struct DefinitionDto {
    pub key: String,
    pub name: String,
    pub latest_id: i64,
    pub latest_version: i32,
    pub versions: i64,
    pub running: i64,
}

impl From<DefinitionRow> for DefinitionDto {
    fn from(d: DefinitionRow) -> Self {
        DefinitionDto {
            key: d.key,
            name: d.name,
            latest_id: d.latest_id,
            latest_version: d.latest_version,
            versions: d.versions,
            running: d.running,
        }
    }
}

/// The numbers of one element of a process.
#[derive(Debug, Serialize, ToSchema)]
pub struct ElementStatisticsDto {
    pub element_id: String,
    /// Its name (its id when it has none).
    pub name: String,
    /// Element instances active now (tokens and waits in it).
    pub active: i64,
    pub completed: i64,
    /// Ended without completing (cancelled, interrupted, terminated); not completions.
    pub cancelled: i64,
    /// Open incidents.
    pub incidents: i64,
    /// Completions whose time spent is known.
    pub timed: i64,
    /// Average time spent by them, in milliseconds.
    pub average_ms: Option<f64>,
    /// 95th percentile of it, in milliseconds (log-scale histogram: within about 9 %).
    pub p95_ms: Option<i64>,
}

/// Statistics per element of a version of a process (or of all versions).
#[derive(Debug, Serialize, ToSchema)]
pub struct DefinitionStatisticsDto {
    pub key: String,
    /// The version; `null` for all versions together.
    pub version: Option<i32>,
    /// The elements that have numbers.
    pub elements: Vec<ElementStatisticsDto>,
}

impl From<crate::runtime::DefinitionStatistics> for DefinitionStatisticsDto {
    fn from(s: crate::runtime::DefinitionStatistics) -> Self {
        DefinitionStatisticsDto {
            key: s.key,
            version: s.version,
            elements: s
                .elements
                .into_iter()
                .map(|e| ElementStatisticsDto {
                    element_id: e.element_id,
                    name: e.name,
                    active: e.active,
                    completed: e.completed,
                    cancelled: e.cancelled,
                    incidents: e.incidents,
                    timed: e.timed,
                    average_ms: e.average_ms,
                    p95_ms: e.p95_ms,
                })
                .collect(),
        }
    }
}

/// One version of a process.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionDto {
    pub id: i64,
    pub version: i32,
    pub deployed_at: DateTime<Utc>,
    pub deployed_by: Option<String>,
    pub file: String,
}

impl From<VersionView> for VersionDto {
    fn from(v: VersionView) -> Self {
        VersionDto {
            id: v.id,
            version: v.version,
            deployed_at: v.deployed_at,
            deployed_by: v.deployed_by,
            file: v.file,
        }
    }
}

/// A process key's versions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DefinitionVersionsDto {
    pub key: String,
    pub name: String,
    pub versions: Vec<VersionDto>,
    /// The start form of the latest version.
    pub start_form: Vec<FormFieldDto>,
}

/// Start an instance.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// Start variables (validated against the start form, if any).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
    pub business_key: Option<String>,
    /// A version number; the latest when absent.
    pub version: Option<i32>,
}

/// An instance in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceDto {
    pub id: Uuid,
    pub definition_key: String,
    pub definition_id: i64,
    pub process_name: String,
    /// `active`, `completed`, `terminated` or `incident`.
    pub state: String,
    pub business_key: Option<String>,
    pub started_by: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The instance whose call activity started this one.
    pub parent_id: Option<Uuid>,
    /// Suspended by an operator.
    pub suspended: bool,
}

impl From<InstanceView> for InstanceDto {
    fn from(i: InstanceView) -> Self {
        InstanceDto {
            id: i.id,
            definition_key: i.definition_key,
            definition_id: i.definition_id,
            process_name: i.process_name,
            state: i.status,
            business_key: i.business_key,
            started_by: i.started_by,
            started_at: i.started_at,
            ended_at: i.ended_at,
            parent_id: i.parent_id,
            suspended: i.suspended,
        }
    }
}

/// A page of instances.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstancePageDto {
    pub items: Vec<InstanceDto>,
    pub page: u64,
    pub per_page: u64,
    /// Rows counted (up to 200).
    pub total: u64,
    /// There are more than `total`.
    pub more: bool,
}

/// An open incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDto {
    /// For `POST /incidents/{id}/retry`.
    pub id: Uuid,
    /// The incident's key within its instance.
    pub key: i64,
    pub element_id: String,
    pub element_name: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

impl From<IncidentView> for IncidentDto {
    fn from(i: IncidentView) -> Self {
        IncidentDto {
            id: i.id,
            key: i.key,
            element_id: i.element,
            element_name: i.element_name,
            message: i.message,
            created_at: i.created_at,
        }
    }
}

/// Something an instance waits for.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitDto {
    pub element_id: String,
    pub name: String,
    /// `user_task`, `message`, `timer`, `job`, `join` or `incident`.
    pub kind: String,
    pub detail: Option<String>,
}

impl From<WaitView> for WaitDto {
    fn from(w: WaitView) -> Self {
        WaitDto {
            element_id: w.element,
            name: w.name,
            kind: w.kind,
            detail: w.detail,
        }
    }
}

/// An instance with its variables, open tasks, incidents and waits.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceDetailDto {
    #[serde(flatten)]
    pub instance: InstanceDto,
    pub definition_version: i32,
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
    pub open_tasks: Vec<TaskDto>,
    pub incidents: Vec<IncidentDto>,
    pub waiting: Vec<WaitDto>,
    /// The instances its call activities started, oldest first.
    pub called_instances: Vec<InstanceDto>,
}

/// One history event. The events of one command make one history entry:
/// they share `entry` (the number of the entry's first event) and `summary`
/// (the entry told in the words of whoever acted).
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryDto {
    pub seq: i64,
    /// The history entry (command) it belongs to: the number of its first
    /// event. The page `/instances/{id}?at={entry}` shows the instance as it
    /// stood right after it.
    pub entry: i64,
    /// The entry as a sentence, e.g. "pero completed Down with option = 2".
    pub summary: String,
    pub at: DateTime<Utc>,
    /// The event kind, e.g. `element_completed`.
    pub event: String,
    pub element: Option<String>,
    pub user: Option<String>,
    /// The event as a sentence.
    pub text: String,
    /// The event's data.
    #[schema(value_type = Object)]
    pub data: Value,
}

impl HistoryDto {
    pub fn new(h: HistoryView, summary: String) -> HistoryDto {
        HistoryDto {
            seq: h.seq,
            entry: h.command_seq,
            summary,
            at: h.at,
            event: h.kind,
            element: h.element,
            user: h.user,
            text: h.text,
            data: h.data,
        }
    }
}

/// A user task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDto {
    pub id: Uuid,
    pub name: String,
    pub element_id: String,
    pub instance_id: Uuid,
    pub definition_key: String,
    pub process_name: String,
    pub assignee: Option<String>,
    pub priority: i64,
    pub due: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    /// `open`, `completed` or `cancelled`.
    pub state: String,
    pub completed_by: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Its instance is suspended: it cannot be completed until resumed.
    pub suspended: bool,
}

impl From<TaskView> for TaskDto {
    fn from(t: TaskView) -> Self {
        TaskDto {
            id: t.id,
            name: t.name,
            element_id: t.element_id,
            instance_id: t.instance_id,
            definition_key: t.definition_key,
            process_name: t.process_name,
            assignee: t.assignee,
            priority: t.priority,
            due: t.due,
            created: t.created,
            state: t.state,
            completed_by: t.completed_by,
            completed_at: t.completed_at,
            suspended: t.suspended,
        }
    }
}

/// A page of tasks.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskPageDto {
    pub items: Vec<TaskDto>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
    pub more: bool,
}

/// One value of an enum field.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnumValueDto {
    pub id: String,
    pub name: String,
}

/// A form field (`camunda:formField`).
#[derive(Debug, Serialize, ToSchema)]
pub struct FormFieldDto {
    pub id: String,
    pub label: String,
    /// `string`, `long`, `boolean`, `date` (YYYY-MM-DD) or `enum`.
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<EnumValueDto>,
    #[schema(value_type = Object)]
    pub default: Option<Value>,
    pub required: bool,
    pub readonly: bool,
    pub minlength: Option<usize>,
    pub maxlength: Option<usize>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
}

impl From<&FormField> for FormFieldDto {
    fn from(f: &FormField) -> Self {
        FormFieldDto {
            id: f.id.clone(),
            label: f.display_label().to_string(),
            ty: f.ty.name().to_string(),
            values: match &f.ty {
                FieldType::Enum { values } => values
                    .iter()
                    .map(|(id, name)| EnumValueDto {
                        id: id.clone(),
                        name: name.clone(),
                    })
                    .collect(),
                _ => Vec::new(),
            },
            default: f.default.clone(),
            required: f.constraints.required,
            readonly: f.constraints.readonly,
            minlength: f.constraints.minlength,
            maxlength: f.constraints.maxlength,
            min: f.constraints.min,
            max: f.constraints.max,
            properties: f
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        }
    }
}

/// A task with its form and what the caller may do with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDetailDto {
    #[serde(flatten)]
    pub task: TaskDto,
    pub documentation: Option<String>,
    pub form: Vec<FormFieldDto>,
    /// The Camunda Form (form-js) the task is completed through, when it
    /// links one; `form` is then empty.
    pub camunda_form: Option<CamundaFormDto>,
    pub candidate_users: Vec<String>,
    pub candidate_groups: Vec<String>,
    pub business_key: Option<String>,
    pub may_complete: bool,
    pub may_claim: bool,
    pub may_unclaim: bool,
}

/// A Camunda Form as deployed: its id and its form-js components, for a
/// client that renders them itself. Completing the task checks the values
/// against the same form (nested objects follow dotted keys).
#[derive(Debug, Serialize, ToSchema)]
pub struct CamundaFormDto {
    pub id: String,
    /// The form-js components, exactly as in the deployed `.form` file.
    #[schema(value_type = Vec<Object>)]
    pub components: Value,
}

impl From<TaskDetail> for TaskDetailDto {
    fn from(d: TaskDetail) -> Self {
        TaskDetailDto {
            form: d.form.iter().map(FormFieldDto::from).collect(),
            camunda_form: d.camunda_form.as_ref().map(|f| CamundaFormDto {
                id: f.id.clone(),
                components: f
                    .schema
                    .get("components")
                    .cloned()
                    .unwrap_or(Value::Array(Vec::new())),
            }),
            documentation: d.documentation,
            candidate_users: d.candidate_users,
            candidate_groups: d.candidate_groups,
            business_key: d.business_key,
            may_complete: d.may_complete,
            may_claim: d.may_claim,
            may_unclaim: d.may_unclaim,
            task: d.task.into(),
        }
    }
}

/// Variables sent with a command.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariablesRequest {
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
}

/// Hand a task to someone (or to nobody with `null`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub assignee: Option<String>,
}

/// Trigger an element waiting for a trigger.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerRequest {
    /// The element id (a receive task without a message).
    pub element: String,
    /// Variables set by the trigger.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
}

/// A message from outside.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// The message name (`<bpmn:message name>`).
    pub name: String,
    pub business_key: Option<String>,
    /// Instance variables that must have these values.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub correlation_keys: Map<String, Value>,
    /// The value of the receiving element's correlation key (Camunda 8's
    /// `zeebe:subscription correlationKey`, evaluated when it started waiting).
    pub correlation_key: Option<String>,
    /// Variables set by the message.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
    /// Deliver to every waiting instance that matches (otherwise several is a conflict).
    #[serde(default)]
    pub all: bool,
}

/// Where a message went.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    pub instance_id: Uuid,
    pub element_id: String,
}

/// The deliveries of a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub deliveries: Vec<DeliveryDto>,
}

/// Variables to evaluate the conditional start events with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionRequest {
    /// What the conditions see, and the started instances' variables.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
    /// The business key of the instances started.
    #[serde(default)]
    pub business_key: Option<String>,
    /// Only this process's conditional start events (its newest version).
    #[serde(default)]
    pub process_key: Option<String>,
}

/// The instances conditional start events started.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConditionResponse {
    pub started: Vec<DeliveryDto>,
}

/// A signal: broadcast to every catcher and signal start event of that name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalRequest {
    /// The signal name (`<bpmn:signal name>`).
    pub name: String,
    /// Variables set where it arrives (and start variables of started instances).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
}

/// Where a signal went.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalResponse {
    /// Catch events that received it.
    pub delivered: Vec<DeliveryDto>,
    /// Instances started by signal start events.
    pub started: Vec<DeliveryDto>,
}

/// A topic a worker fetches.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicDto {
    pub name: String,
    /// How long the lock lasts (at most a day).
    pub lock_duration_ms: u64,
}

/// Fetch and lock external tasks.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchRequest {
    pub worker_id: String,
    pub max_tasks: u32,
    pub topics: Vec<TopicDto>,
    /// Wait up to this long for tasks when none is available (long polling, at most 60 s).
    #[serde(default)]
    pub wait_ms: u64,
}

/// An external task locked for a worker.
#[derive(Debug, Serialize, ToSchema)]
pub struct LockedTaskDto {
    pub id: Uuid,
    pub topic: String,
    pub worker_id: String,
    pub lock_expires_at: DateTime<Utc>,
    pub instance_id: Uuid,
    pub element_id: String,
    pub element_name: String,
    pub definition_key: String,
    pub business_key: Option<String>,
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
    pub retries: i32,
    pub error_message: Option<String>,
}

impl From<LockedTask> for LockedTaskDto {
    fn from(t: LockedTask) -> Self {
        LockedTaskDto {
            id: t.id,
            topic: t.topic,
            worker_id: t.worker_id,
            lock_expires_at: t.lock_expires_at,
            instance_id: t.instance_id,
            element_id: t.element_id,
            element_name: t.element_name,
            definition_key: t.definition_key,
            business_key: t.business_key,
            variables: t.variables,
            retries: t.retries,
            error_message: t.error_message,
        }
    }
}

/// A worker's result.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalCompleteRequest {
    pub worker_id: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
}

/// A worker's failure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailureRequest {
    pub worker_id: String,
    pub message: String,
    /// Attempts left; 0 makes an incident.
    pub retries: i32,
    /// When to offer the task again.
    #[serde(default)]
    pub retry_in_ms: u64,
}

/// A business error thrown by a worker.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BpmnErrorRequest {
    pub worker_id: String,
    pub error_code: String,
    #[serde(default)]
    pub message: String,
}

/// Extend a worker's lock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendLockRequest {
    pub worker_id: String,
    /// The new lock lasts this long from now.
    pub new_duration_ms: u64,
}

/// A lock's new expiry.
#[derive(Debug, Serialize, ToSchema)]
pub struct LockDto {
    pub lock_expires_at: DateTime<Utc>,
}

/// The state of an instance after a command.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceStateDto {
    pub id: Uuid,
    /// `active`, `completed`, `terminated` or `incident`.
    pub state: String,
    /// Suspended by an operator.
    pub suspended: bool,
}

impl InstanceStateDto {
    /// Where an instance stands after a command.
    pub fn of(o: &Outcome) -> InstanceStateDto {
        InstanceStateDto {
            id: o.instance_id,
            state: o.status().to_string(),
            suspended: o.state.suspended,
        }
    }
}

/// Paging of lists.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Paging {
    /// 1-based page number.
    pub page: Option<u64>,
    /// Rows per page, 1 to 100 (default 25).
    pub per_page: Option<u64>,
}

/// The most rows an API page returns.
pub const MAX_PER_PAGE: u64 = 100;
/// The last page number accepted.
pub const MAX_PAGE: u64 = 1_000_000;

impl Paging {
    /// `(page, per_page)`, checked.
    pub fn checked(&self) -> Result<(u64, u64), super::error::ApiError> {
        let page = self.page.unwrap_or(1);
        let per = self.per_page.unwrap_or(25);
        if page == 0 || page > MAX_PAGE {
            return Err(super::error::ApiError::bad_request(format!(
                "page is between 1 and {MAX_PAGE}"
            )));
        }
        if per == 0 || per > MAX_PER_PAGE {
            return Err(super::error::ApiError::bad_request(format!(
                "per_page must be between 1 and {MAX_PER_PAGE}"
            )));
        }
        Ok((page, per))
    }
}

/// `(total, more)` for a page.
pub fn totals(t: Total) -> (u64, bool) {
    (t.count, t.more)
}

/// Why an operator acts (recorded in the history).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

/// Suspend or resume a process version.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendVersionRequest {
    /// Suspend (or resume) its running instances too.
    #[serde(default)]
    pub include_instances: bool,
}

/// One step of an instance modification: `{"cancel": "id"}`,
/// `{"start_before": "id"}` or `{"start_after": "id"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstructionDto {
    /// Cancel every active instance of the element.
    Cancel(String),
    /// Start the element as if a token arrived at it.
    StartBefore(String),
    /// Take the element's only outgoing sequence flow.
    StartAfter(String),
}

impl From<InstructionDto> for crate::runtime::Instruction {
    fn from(i: InstructionDto) -> Self {
        use crate::runtime::Instruction;
        match i {
            InstructionDto::Cancel(e) => Instruction::Cancel(e),
            InstructionDto::StartBefore(e) => Instruction::StartBefore(e),
            InstructionDto::StartAfter(e) => Instruction::StartAfter(e),
        }
    }
}

/// An instance modification.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModifyRequest {
    pub instructions: Vec<InstructionDto>,
    /// Set on the instance before the instructions run.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Migrate one instance.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrateInstanceRequest {
    pub to_version: i32,
    /// Old element id -> new element id (same ids map by default).
    #[serde(default)]
    pub mapping: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub dry_run: bool,
}

/// Migrate instances of one version to another.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrateRequest {
    pub from_version: i32,
    pub to_version: i32,
    /// Old element id -> new element id (same ids map by default).
    #[serde(default)]
    pub mapping: std::collections::BTreeMap<String, String>,
    /// Only these instances (default: every running instance of `from_version`).
    #[serde(default)]
    pub instances: Option<Vec<Uuid>>,
    #[serde(default)]
    pub dry_run: bool,
}

/// What happened (or would happen) to one instance.
#[derive(Debug, Serialize, ToSchema)]
pub struct MigrationResultDto {
    pub instance_id: Uuid,
    /// `migrated`, `ready` (dry run) or `refused`.
    pub outcome: String,
    pub problems: Vec<String>,
    /// The elements active in it before the move.
    pub active: Vec<String>,
}

impl From<crate::runtime::MigrationResult> for MigrationResultDto {
    fn from(r: crate::runtime::MigrationResult) -> Self {
        MigrationResultDto {
            instance_id: r.instance_id,
            outcome: r.outcome,
            problems: r.problems,
            active: r.active,
        }
    }
}

/// The answer to a batch migration.
#[derive(Debug, Serialize, ToSchema)]
pub struct MigrationReportDto {
    pub key: String,
    pub from_version: i32,
    pub to_version: i32,
    pub dry_run: bool,
    /// What is wrong with the mapping (then nothing moved).
    pub problems: Vec<String>,
    pub instances: Vec<MigrationResultDto>,
}

impl From<crate::runtime::MigrationReport> for MigrationReportDto {
    fn from(r: crate::runtime::MigrationReport) -> Self {
        MigrationReportDto {
            key: r.key,
            from_version: r.from_version,
            to_version: r.to_version,
            dry_run: r.dry_run,
            problems: r.problems,
            instances: r.instances.into_iter().map(Into::into).collect(),
        }
    }
}

/// A process version's suspension.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSuspensionDto {
    pub key: String,
    pub version: i32,
    pub suspended: bool,
    /// The instances suspended (or resumed) with it.
    pub instances: Vec<Uuid>,
}

impl From<crate::runtime::VersionSuspension> for VersionSuspensionDto {
    fn from(r: crate::runtime::VersionSuspension) -> Self {
        VersionSuspensionDto {
            key: r.key,
            version: r.version,
            suspended: r.suspended,
            instances: r.instances,
        }
    }
}
