//! Fresh databases for tests: a SQLite file per test, and — when
//! `BPMN_TEST_DATABASE_URL` names a PostgreSQL database — a fresh schema there,
//! so that the same test runs on both backends.

use std::future::Future;
use std::sync::Arc;

use bpmn_engine::runtime::{Runtime, VirtualClock};
use bpmn_engine::store::Store;
use sea_orm::{ConnectionTrait, Database};

/// The PostgreSQL URL to test against, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("BPMN_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A test database that cleans up after itself (call `drop_now` for PostgreSQL).
pub struct TestDb {
    pub url: String,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("test.sqlite").display()
        );
        TestDb {
            url,
            backend: "sqlite",
            _dir: Some(dir),
            pg: None,
        }
    }

    pub async fn postgres(base: &str) -> TestDb {
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(base)
            .await
            .expect("connect to BPMN_TEST_DATABASE_URL");
        admin
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create a test schema");
        admin.close().await.ok();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options[search_path]={schema}");
        TestDb {
            url,
            backend: "postgres",
            _dir: None,
            pg: Some((base.to_string(), schema)),
        }
    }

    pub async fn store(&self) -> Store {
        Store::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}", self.backend))
    }

    pub async fn drop_now(self) {
        if let Some((base, schema)) = &self.pg
            && let Ok(admin) = Database::connect(base.as_str()).await
        {
            admin
                .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .ok();
            admin.close().await.ok();
        }
    }
}

/// The databases every storage test runs on.
pub async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![TestDb::sqlite().await];
    if let Some(url) = postgres_url() {
        dbs.push(TestDb::postgres(&url).await);
    }
    dbs
}

/// Runs `test` once per database with a fresh store and a runtime on a virtual clock.
pub async fn each_db<F, Fut>(test: F)
where
    F: Fn(Arc<Runtime>, Arc<VirtualClock>, &'static str) -> Fut,
    Fut: Future<Output = ()>,
{
    for db in databases().await {
        let store = db.store().await;
        let clock = Arc::new(VirtualClock::new(super::t0()));
        let runtime = super::rt::runtime_on(store, |s| Runtime::new(s, clock.clone()));
        test(runtime, clock, db.backend).await;
        db.drop_now().await;
    }
}
