//! Camunda 8 diagrams on real databases: a decision called with
//! `zeebe:calledDecision`, and messages correlated by the value of a
//! `zeebe:subscription correlationKey`.

use std::sync::Arc;

use bpmn_engine::runtime::Correlation;
use bpmn_engine::runtime::jobs::{self, ExecutorConfig};
use bpmn_engine::runtime::{Runtime, RuntimeError, VirtualClock};
use serde_json::json;

use crate::common::db::databases;
use crate::common::rt;
use crate::common::*;

fn c8(inner: &str) -> String {
    process(inner).replace(
        "xmlns:camunda=",
        r#"xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:camunda="#,
    )
}

#[tokio::test]
async fn called_decisions_and_correlation_keys() {
    for db in databases().await {
        let runtime = rt::runtime_on(db.store().await, |s| {
            Runtime::new(s, Arc::new(VirtualClock::new(t0())))
        });
        let dmn = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/discount.dmn")).unwrap();
        runtime.deploy("discount.dmn", &dmn, None).await.unwrap();
        let xml = c8(&format!(
            r#"<bpmn:startEvent id="s"/>
<bpmn:businessRuleTask id="d"><bpmn:extensionElements><zeebe:calledDecision decisionId="segment" resultVariable="segment"/></bpmn:extensionElements></bpmn:businessRuleTask>
<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>
<bpmn:userTask id="t"/>{}{}{}"#,
            flow("f0", "s", "d"),
            flow("f1", "d", "paid"),
            flow("f2", "paid", "t"),
        ))
        .replace(
            "</bpmn:definitions>",
            r#"<bpmn:message id="M" name="payment"><bpmn:extensionElements><zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message></bpmn:definitions>"#,
        );
        let def = runtime
            .deploy("c8.bpmn", xml.as_bytes(), None)
            .await
            .unwrap()
            .definitions[0]
            .id;
        let mut ids = Vec::new();
        for order in ["A-1", "A-2"] {
            let id = runtime
                .start(def, obj(json!({"years": 3, "orderId": order})), None, None)
                .await
                .unwrap()
                .instance_id;
            ids.push(id);
        }
        let cfg = ExecutorConfig::new("t".into());
        while jobs::run_due(&runtime, &cfg).await.unwrap() > 0 {}
        // One rule, one output: the value itself (Camunda 8's shape).
        let (_, state) = runtime.instance(ids[0]).await.unwrap();
        assert_eq!(state.root_variables()["segment"], json!("silver"));
        // The message for A-2 reaches only the instance whose key evaluated to A-2.
        let to = |key| Correlation {
            key: Some(key),
            ..Default::default()
        };
        let d = runtime
            .deliver_message(
                "payment",
                to("A-2"),
                obj(json!({"paid": true})),
                false,
                None,
            )
            .await
            .unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].instance_id, ids[1]);
        let open = runtime.store().open_tasks(ids[1]).await.unwrap();
        assert_eq!(open.len(), 1);
        assert!(runtime.store().open_tasks(ids[0]).await.unwrap().is_empty());
        let none = runtime
            .deliver_message("payment", to("B-9"), Default::default(), false, None)
            .await;
        assert!(matches!(none, Err(RuntimeError::NotFound(_))), "{none:?}");
        db.drop_now().await;
    }
}
