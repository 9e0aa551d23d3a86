//! The tests' shorthand for the runtime: deploy, start, complete, read an
//! instance, as an administrator named by the test (`admin` when it names
//! nobody), through the runtime's public commands. Storage tests also reach
//! the store of a runtime (registered when the runtime is built) to look at
//! rows directly.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use bpmn_engine::engine::InstanceState;
use bpmn_engine::runtime::{
    Correlation, Delivery, DeployResult, Deployed, InstanceView, NewUser, Outcome, Principal, Role,
    Runtime, RuntimeError, StartRequest, TokenInfo, User, Values,
};
use bpmn_engine::store::Store;
use bpmn_engine::store::entity::{process_instance, user_task};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Runs `test` once on each test database (SQLite, and PostgreSQL when
/// configured) with a fresh runtime on a virtual clock at [`super::t0`],
/// naming the backend; the database is dropped afterwards.
pub async fn on_each_db<F, Fut>(test: F)
where
    F: Fn(Arc<Runtime>, Arc<bpmn_engine::runtime::VirtualClock>, &'static str) -> Fut,
    Fut: Future<Output = ()>,
{
    for db in super::db::databases().await {
        let store = db.store().await;
        let clock = Arc::new(bpmn_engine::runtime::VirtualClock::new(super::t0()));
        let runtime = runtime_on(store, |s| Runtime::new(s, clock.clone()));
        test(runtime, clock, db.backend).await;
        db.drop_now().await;
    }
}

/// The store of each live runtime. A store is dropped (and its connections
/// closed) once its runtime is gone and another runtime registers.
type Stores = Mutex<HashMap<usize, (Weak<Runtime>, Store)>>;

fn stores() -> &'static Stores {
    static STORES: OnceLock<Stores> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

fn address(runtime: &Runtime) -> usize {
    runtime as *const Runtime as usize
}

/// Builds a runtime on `store` and remembers the store for [`Shorthand::store`].
pub fn runtime_on(store: Store, build: impl FnOnce(Store) -> Runtime) -> Arc<Runtime> {
    let runtime = Arc::new(build(store.clone()));
    register(&runtime, store);
    runtime
}

/// Remembers the store a runtime was built on.
pub fn register(runtime: &Arc<Runtime>, store: Store) {
    if let Ok(mut s) = stores().lock() {
        s.retain(|_, (r, _)| r.strong_count() > 0);
        s.insert(address(runtime), (Arc::downgrade(runtime), store));
    }
}

/// An administrator named `user` (or `admin`).
pub fn admin(user: Option<&str>) -> Principal {
    Principal::operator(user.unwrap_or("admin"))
}

/// The tests' shorthand (see the module's documentation).
pub trait Shorthand {
    /// The store the runtime was built on.
    fn store(&self) -> Store;
    fn deploy(
        &self,
        name: &str,
        bytes: &[u8],
        by: Option<&str>,
    ) -> impl Future<Output = Result<DeployResult, RuntimeError>> + Send;
    fn deployed(&self, id: i64)
    -> impl Future<Output = Result<Arc<Deployed>, RuntimeError>> + Send;
    fn start(
        &self,
        definition: i64,
        variables: Map<String, Value>,
        business_key: Option<String>,
        user: Option<&str>,
    ) -> impl Future<Output = Result<Outcome, RuntimeError>> + Send;
    /// The instance's row and state, as stored.
    fn instance(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<(process_instance::Model, InstanceState), RuntimeError>> + Send;
    fn view(&self, id: Uuid) -> impl Future<Output = Result<InstanceView, RuntimeError>> + Send;
    /// The oldest open task of an element in an instance.
    fn open_task_for(
        &self,
        instance: Uuid,
        element: &str,
    ) -> impl Future<Output = Result<Option<user_task::Model>, RuntimeError>> + Send;
    fn complete_task(
        &self,
        task: Uuid,
        variables: Map<String, Value>,
        user: Option<&str>,
    ) -> impl Future<Output = Result<Outcome, RuntimeError>> + Send;
    fn set_variables(
        &self,
        id: Uuid,
        variables: Map<String, Value>,
        user: Option<&str>,
    ) -> impl Future<Output = Result<Outcome, RuntimeError>> + Send;
    fn retry_incident(
        &self,
        id: Uuid,
        incident: u64,
        user: Option<&str>,
    ) -> impl Future<Output = Result<Outcome, RuntimeError>> + Send;
    fn cancel(
        &self,
        id: Uuid,
        user: Option<&str>,
    ) -> impl Future<Output = Result<Outcome, RuntimeError>> + Send;
    /// Delivers a message to one instance (`None`: nothing there waits for it).
    fn correlate(
        &self,
        id: Uuid,
        name: &str,
        variables: Map<String, Value>,
        user: Option<&str>,
    ) -> impl Future<Output = Result<Option<Outcome>, RuntimeError>> + Send;
    fn deliver_message(
        &self,
        name: &str,
        to: Correlation<'_>,
        variables: Map<String, Value>,
        all: bool,
        user: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Delivery>, RuntimeError>> + Send;
    fn called_instances(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<Vec<InstanceView>, RuntimeError>> + Send;
    fn create_user(
        &self,
        name: &str,
        password: &str,
        groups: &[String],
        admin: bool,
    ) -> impl Future<Output = Result<User, RuntimeError>> + Send;
    fn user_named(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<User>, RuntimeError>> + Send;
    fn create_token(
        &self,
        user: i64,
        name: &str,
    ) -> impl Future<Output = Result<(TokenInfo, String), RuntimeError>> + Send;
}

async fn user_by_id(runtime: &Runtime, id: i64) -> Result<User, RuntimeError> {
    runtime
        .accounts()
        .users(&admin(None))
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| RuntimeError::NotFound(format!("user {id}")))
}

impl Shorthand for Runtime {
    fn store(&self) -> Store {
        stores()
            .lock()
            .ok()
            .and_then(|s| s.get(&address(self)).map(|(_, store)| store.clone()))
            .expect("the runtime's store was registered when the runtime was built")
    }

    async fn deploy(
        &self,
        name: &str,
        bytes: &[u8],
        by: Option<&str>,
    ) -> Result<DeployResult, RuntimeError> {
        match by {
            Some(by) => {
                self.deployments()
                    .deploy(&admin(Some(by)), name, bytes)
                    .await
            }
            None => self.deployments().deploy_at_startup(name, bytes).await,
        }
    }

    async fn deployed(&self, id: i64) -> Result<Arc<Deployed>, RuntimeError> {
        self.deployments().by_id(&admin(None), id).await
    }

    async fn start(
        &self,
        definition: i64,
        variables: Map<String, Value>,
        business_key: Option<String>,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        let who = admin(user);
        let d = self.deployments().by_id(&who, definition).await?;
        self.deployments()
            .start(
                &who,
                StartRequest {
                    key: d.definition.key.clone(),
                    version: Some(d.definition.version),
                    values: Values::Json(variables),
                    business_key,
                },
            )
            .await
    }

    async fn instance(
        &self,
        id: Uuid,
    ) -> Result<(process_instance::Model, InstanceState), RuntimeError> {
        let row = self
            .store()
            .instance(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("instance {id}")))?;
        let state = serde_json::from_str(&row.state)
            .map_err(|e| RuntimeError::Corrupt(format!("state of instance {id}: {e}")))?;
        Ok((row, state))
    }

    async fn view(&self, id: Uuid) -> Result<InstanceView, RuntimeError> {
        Ok(self.instances().get(&admin(None), id).await?.0)
    }

    async fn open_task_for(
        &self,
        instance: Uuid,
        element: &str,
    ) -> Result<Option<user_task::Model>, RuntimeError> {
        Ok(self
            .store()
            .open_tasks(instance)
            .await?
            .into_iter()
            .find(|t| t.element_id == element))
    }

    async fn complete_task(
        &self,
        task: Uuid,
        variables: Map<String, Value>,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        Ok(self
            .tasks()
            .complete(&admin(user), task, Values::Json(variables))
            .await?
            .outcome)
    }

    async fn set_variables(
        &self,
        id: Uuid,
        variables: Map<String, Value>,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        self.instances()
            .set_variables(&admin(user), id, variables)
            .await
    }

    async fn retry_incident(
        &self,
        id: Uuid,
        incident: u64,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        self.instances()
            .retry_incident(&admin(user), id, incident)
            .await
    }

    async fn cancel(&self, id: Uuid, user: Option<&str>) -> Result<Outcome, RuntimeError> {
        self.instances().cancel(&admin(user), id).await
    }

    async fn correlate(
        &self,
        id: Uuid,
        name: &str,
        variables: Map<String, Value>,
        user: Option<&str>,
    ) -> Result<Option<Outcome>, RuntimeError> {
        self.work()
            .message_to(&admin(user), id, name, variables)
            .await
    }

    async fn deliver_message(
        &self,
        name: &str,
        to: Correlation<'_>,
        variables: Map<String, Value>,
        all: bool,
        user: Option<&str>,
    ) -> Result<Vec<Delivery>, RuntimeError> {
        self.work()
            .message(&admin(user), name, to, variables, all)
            .await
    }

    async fn called_instances(&self, id: Uuid) -> Result<Vec<InstanceView>, RuntimeError> {
        self.instances().called(&admin(None), id).await
    }

    async fn create_user(
        &self,
        name: &str,
        password: &str,
        groups: &[String],
        admin_role: bool,
    ) -> Result<User, RuntimeError> {
        self.accounts()
            .create_user(
                &admin(None),
                &NewUser {
                    name: name.to_string(),
                    password: password.to_string(),
                    groups: groups.to_vec(),
                    role: if admin_role { Role::Admin } else { Role::User },
                },
            )
            .await
    }

    async fn user_named(&self, name: &str) -> Result<Option<User>, RuntimeError> {
        self.accounts().user_named(&admin(None), name).await
    }

    async fn create_token(
        &self,
        user: i64,
        name: &str,
    ) -> Result<(TokenInfo, String), RuntimeError> {
        let u = user_by_id(self, user).await?;
        self.accounts().create_token(&u, name).await
    }
}
