//! The web server. For now a single status page listing the deployed diagrams;
//! the inbox, forms and instance pages build on this.

use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, get, web};

use crate::runtime::Runtime;

struct AppState {
    runtime: Arc<Runtime>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[get("/")]
async fn show_home(state: web::Data<AppState>) -> HttpResponse {
    let rows = match state.runtime.store().definitions().await {
        Ok(defs) => defs
            .iter()
            .map(|d| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&d.key),
                    escape(d.name.as_deref().unwrap_or("")),
                    d.version
                )
            })
            .collect::<String>(),
        Err(e) => {
            tracing::error!(error = %e, "cannot list definitions");
            return HttpResponse::ServiceUnavailable().body("the database is not reachable");
        }
    };
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>BPMN engine</title></head>\
         <body><h1>BPMN engine</h1><p>Deployed diagrams:</p>\
         <table><thead><tr><th>Key</th><th>Name</th><th>Version</th></tr></thead><tbody>{rows}</tbody></table>\
         </body></html>"
    ))
}

#[get("/healthz")]
async fn show_health() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

/// Serves until the process is stopped.
pub async fn serve(runtime: Arc<Runtime>, listen: &str) -> std::io::Result<()> {
    let data = web::Data::new(AppState { runtime });
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .service(show_home)
            .service(show_health)
    })
    .bind(listen)?
    .run()
    .await
}
