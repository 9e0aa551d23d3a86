//! The `bpmn` binary: parse the command line, set up logging, and hand over to
//! the web server (`serve`, the default) or a command-line tool.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use bpmn_engine::cli::{self, run::Format, run::RunOptions, run::StartBy};
use bpmn_engine::runtime::accounts::{valid_password, valid_session_key};
use bpmn_engine::runtime::{
    ConnectorPolicy, DEFAULT_DATABASE_URL, Limits, MailSettings, Mailer, Role, Runtime,
    SystemClock, jobs, redact_url,
};
use bpmn_engine::web::{self, WebConfig};

#[derive(Parser)]
#[command(
    name = "bpmn",
    version,
    about = "A BPMN 2.0 workflow engine whose instances live in the database"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// How log lines are written to stderr: text (coloured only on a
    /// terminal) or json (one object per line). RUST_LOG chooses what is logged.
    #[arg(
        long,
        global = true,
        env = "BPMN_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the web application (the default).
    Serve(ServeArgs),
    /// Run one instance of a diagram headless, with a virtual clock.
    Run(RunArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Measure throughput, latency and scale (W1, W2, W3) and print a table.
    Bench(BenchArgs),
    /// Check BPMN and DMN files and list every problem, without deploying them.
    Check {
        /// The files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Evaluate a decision of a DMN file and print its result as JSON.
    Decide {
        /// The DMN file.
        file: PathBuf,
        /// The id (or name) of the decision.
        #[arg(long)]
        decision: String,
        /// Input variables as a JSON object.
        #[arg(long)]
        vars: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user (prints a generated password when none is given).
    Add {
        /// The user name.
        name: String,
        /// The password (at least 8 characters).
        #[arg(long)]
        password: Option<String>,
        /// Groups, comma-separated (lane names and candidate groups refer to them).
        #[arg(long, default_value = "")]
        groups: String,
        /// Make the user an admin.
        #[arg(long, conflicts_with = "worker")]
        admin: bool,
        /// Make the user a worker: a service account for external task
        /// workers and systems that send messages and signals.
        #[arg(long)]
        worker: bool,
        /// Database URL (sqlite://... or postgres://...).
        // Its value may hold a password: `--help` must not print it.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Set a user's password, read from the terminal (typed twice, not shown)
    /// or from the first line of standard input, never from the command line.
    /// The user's sessions end; their API tokens stay.
    Password {
        /// The user name.
        name: String,
        /// Database URL (sqlite://... or postgres://...).
        // Its value may hold a password: `--help` must not print it.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create an API token for a user and print it (it is shown only this once).
    Create {
        /// The user the token acts as.
        user: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Database URL (sqlite://... or postgres://...).
        // Its value may hold a password: `--help` must not print it.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

#[derive(clap::Args, Default)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BPMN_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Database URL (sqlite://... or postgres://...).
    // Its value may hold a password: `--help` must not print it.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Directory of diagrams deployed at start-up.
    #[arg(long, env = "BPMN_DIAGRAMS", default_value = "bpmn")]
    diagrams: PathBuf,
    /// Do not run the job executor (timers, connectors, continuations) in this process.
    #[arg(long, env = "BPMN_NO_JOBS")]
    no_jobs: bool,
    /// Seconds a job's lease lasts: after a process dies, its jobs run elsewhere after this.
    #[arg(long, env = "BPMN_JOB_LEASE", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    job_lease: u64,
    /// Jobs this process runs at the same time.
    #[arg(long, env = "BPMN_JOB_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    job_concurrency: u64,
    /// Mark the session cookie Secure (set this when the site is served over https).
    #[arg(long, env = "BPMN_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Seconds one command's engine work may take: scripts and expressions
    /// still running then stop (an incident).
    #[arg(long, env = "BPMN_COMMAND_SECONDS", default_value_t = 2.0, value_parser = seconds)]
    command_seconds: f64,
    /// Megabytes one command may write (state and history): more is refused
    /// (or, for a job, an incident) and nothing of it is stored.
    #[arg(long, env = "BPMN_COMMAND_MEGABYTES", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
    command_megabytes: u64,
    /// Reverse proxies (addresses or blocks, comma-separated) whose
    /// `Forwarded` / `X-Forwarded-For` headers name the client.
    #[arg(
        long = "trusted-proxy",
        env = "BPMN_TRUSTED_PROXIES",
        default_value = ""
    )]
    trusted_proxies: String,
    /// Where Camunda 7's REST API is served, for Camunda's external task
    /// clients and scripts.
    #[arg(long, env = "BPMN_ENGINE_REST_PATH", default_value = web::engine_rest::DEFAULT_PATH)]
    engine_rest_path: String,
    #[command(flatten)]
    connector: ConnectorArgs,
    #[command(flatten)]
    mail: MailArgs,
}

/// Notification mails (`bpmn serve`).
#[derive(clap::Args, Default)]
struct MailArgs {
    /// Where people reach this server, e.g. https://bpmn.example.org: the
    /// links in notification mails point there.
    #[arg(long, env = "BPMN_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// The SMTP server notification mails go through: smtp://host:port,
    /// smtps://user:password@host:port, or smtp://host:587?tls=required
    /// (STARTTLS). Without it no mail is sent.
    // Its value may hold a password: `--help` must not print it.
    #[arg(
        long,
        env = "BPMN_SMTP_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    smtp_url: Option<String>,
    /// The sender of notification mails: name@example.org or
    /// "Workflow <name@example.org>".
    #[arg(long, env = "BPMN_MAIL_FROM", value_name = "ADDRESS")]
    mail_from: Option<String>,
}

impl MailArgs {
    /// The mailer, when an SMTP server is given (it then needs a sender and
    /// the public URL).
    fn mailer(&self) -> anyhow::Result<Option<Mailer>> {
        let Some(smtp_url) = self.smtp_url.as_ref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let Some(from) = self.mail_from.as_ref().filter(|f| !f.trim().is_empty()) else {
            anyhow::bail!("--smtp-url needs --mail-from (BPMN_MAIL_FROM): the sender of the mails");
        };
        let Some(public_url) = self.public_url.as_ref().filter(|u| !u.trim().is_empty()) else {
            anyhow::bail!(
                "--smtp-url needs --public-url (BPMN_PUBLIC_URL): the mails link to tasks on this server"
            );
        };
        let settings = MailSettings {
            smtp_url: smtp_url.trim().to_string(),
            from: from.clone(),
            public_url: public_url.clone(),
        };
        Mailer::new(&settings)
            .map(Some)
            .map_err(|e| anyhow::anyhow!(e))
    }
}

/// What the http-connector may reach (`bpmn serve`).
#[derive(clap::Args, Default)]
struct ConnectorArgs {
    /// Hosts (names or addresses, comma-separated) connector calls may reach
    /// besides those the diagram writes in its url, including loopback and
    /// private addresses; `*` allows every host.
    #[arg(
        long = "connector-allow",
        env = "BPMN_CONNECTOR_ALLOW",
        value_name = "HOST,...",
        value_delimiter = ','
    )]
    allow: Vec<String>,
    /// The longest timeout (seconds) a connector call may ask for; longer ones are cut to it.
    #[arg(long = "connector-timeout-max", env = "BPMN_CONNECTOR_TIMEOUT_MAX", value_name = "SECONDS",
          default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86400))]
    timeout_max: u64,
}

impl ConnectorArgs {
    fn policy(&self) -> anyhow::Result<ConnectorPolicy> {
        Ok(ConnectorPolicy::new()
            .allowing(&self.allow)
            .map_err(|e| anyhow::anyhow!("--connector-allow: {e}"))?
            .with_timeout_max(std::time::Duration::from_secs(self.timeout_max)))
    }
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Also measure on this PostgreSQL database (its tables are created if missing;
    /// W2 and W3 empty the schema first, so give it a database of its own).
    #[arg(long)]
    postgres: Option<String>,
    /// Workloads to run, comma-separated (w4, abuse, only when named).
    #[arg(long, default_value = "w1,w2,w3", value_delimiter = ',')]
    workloads: Vec<String>,
    /// Seconds per timed run.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Concurrent HTTP clients for W2.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Instances parked at a user task for W3.
    #[arg(long, default_value_t = 1_000_000)]
    scale: usize,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The BPMN file.
    file: PathBuf,
    /// The process to start (default: the file's main process).
    #[arg(long)]
    process: Option<String>,
    /// Start the process by this message (at its message start event of
    /// that name) instead of at its none start event.
    #[arg(long, value_name = "NAME", conflicts_with = "signal")]
    message: Option<String>,
    /// Start the process by broadcasting this signal (its signal start event
    /// of that name; other processes listening to it start too).
    #[arg(long, value_name = "NAME")]
    signal: Option<String>,
    /// Start variables as a JSON object.
    #[arg(long)]
    vars: Option<String>,
    /// Script of commands (default: read from stdin).
    #[arg(long)]
    script: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Start time of the virtual clock (ISO 8601; default: now).
    #[arg(long)]
    now: Option<String>,
    /// Also deploy this DMN (or BPMN) file first: the decisions of business
    /// rule tasks, the processes of call activities. May be repeated.
    #[arg(long = "with", value_name = "FILE")]
    with: Vec<PathBuf>,
    /// Hosts (comma-separated) connector calls may reach; by default every
    /// host, since whoever runs this chooses the variables anyway. Give a list
    /// to run with the server's rules.
    #[arg(
        long = "connector-allow",
        value_name = "HOST,...",
        value_delimiter = ',',
        default_value = "*"
    )]
    connector_allow: Vec<String>,
    /// The longest timeout (seconds) a connector call may ask for.
    #[arg(long = "connector-timeout-max", value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86400))]
    connector_timeout_max: u64,
}

/// Large blocks go back to the system when freed. glibc raises its mmap
/// threshold each time such a block is freed, after which blocks of that size
/// come from the heap and stay there: each password check (argon2, 19 MiB)
/// would then keep its memory for good — a burst of logins took the server
/// to a gigabyte. A fixed threshold keeps it at a few dozen megabytes.
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; it is called once,
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

fn main() -> ExitCode {
    return_large_blocks_to_the_system();
    let cli = Cli::parse();
    // The command-line tools print their own output; the server logs what it does.
    let default_filter = match cli.command {
        None | Some(Cmd::Serve(_)) => "info,sea_orm_migration=warn,sqlx=warn",
        Some(_) => "warn",
    };
    init_logging(cli.log_format, default_filter);
    let log_format = cli.log_format;
    // Messages are meant to name databases without their passwords; this
    // catches a message from below that quotes the URL whole.
    let database_url = match &cli.command {
        Some(Cmd::Serve(a)) => Some(a.database_url.clone()),
        Some(Cmd::User(UserCmd::Add { database_url, .. }))
        | Some(Cmd::User(UserCmd::Password { database_url, .. }))
        | Some(Cmd::Token(TokenCmd::Create { database_url, .. })) => Some(database_url.clone()),
        Some(Cmd::Bench(a)) => a.postgres.clone(),
        _ => None,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    bpmn_engine::runtime::connector::install_tls_provider();
    let result = rt.block_on(async {
        match cli.command {
            None => serve(ServeArgs::parse_from_env()).await.map(|_| 0),
            Some(Cmd::Serve(args)) => serve(args).await.map(|_| 0),
            Some(Cmd::Run(args)) => run(args).await,
            Some(Cmd::Check { files }) => check(files),
            Some(Cmd::Decide {
                file,
                decision,
                vars,
            }) => decide(&file, &decision, vars.as_deref()),
            Some(Cmd::Bench(args)) => bench(args).await,
            Some(Cmd::User(UserCmd::Add {
                name,
                password,
                groups,
                admin,
                worker,
                database_url,
            })) => {
                let role = if admin {
                    Role::Admin
                } else if worker {
                    Role::Worker
                } else {
                    Role::User
                };
                cli::accounts::add_user(&database_url, &name, password, &groups, role)
                    .await
                    .map(|out| {
                        println!("{out}");
                        0
                    })
                    .map_err(|e| anyhow::anyhow!(e))
            }
            Some(Cmd::User(UserCmd::Password { name, database_url })) => {
                cli::accounts::set_password(&database_url, &name)
                    .await
                    .map(|out| {
                        println!("{out}");
                        0
                    })
                    .map_err(|e| anyhow::anyhow!(e))
            }
            Some(Cmd::Token(TokenCmd::Create {
                user,
                name,
                database_url,
            })) => cli::accounts::create_token(&database_url, &user, &name)
                .await
                .map(|secret| {
                    println!("{secret}");
                    0
                })
                .map_err(|e| anyhow::anyhow!(e)),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            let mut text = format!("{e:#}");
            if let Some(url) = database_url.filter(|u| !u.is_empty()) {
                text = text.replace(&url, &redact_url(&url));
            }
            match log_format {
                LogFormat::Text => eprintln!("error: {text}"),
                LogFormat::Json => tracing::error!(error = %text, "stopped by an error"),
            }
            ExitCode::from(2)
        }
    }
}

/// A positive number of seconds, at most an hour.
fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err(format!(
            "\"{text}\" is not a number of seconds from 0 to 3600"
        )),
    }
}

/// Logs to stderr: colours only when a person watches (a terminal, and no
/// `NO_COLOR`), so that files and log collectors get plain text; or JSON,
/// one object per line.
fn init_logging(format: LogFormat, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_filter.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => {
            let colour = std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            builder.with_ansi(colour).init();
        }
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}

impl ServeArgs {
    /// The serve flags taken from the environment only (plain `bpmn`).
    fn parse_from_env() -> ServeArgs {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            args: ServeArgs,
        }
        Only::parse_from(["bpmn"]).args
    }
}

/// `bpmn serve`'s settings, all checked before anything is written.
struct ServeConfig {
    listener: std::net::TcpListener,
    admin_password: Option<String>,
    session_key: Option<String>,
    connector: ConnectorPolicy,
    trusted_proxies: web::proxy::TrustedProxies,
    limits: Limits,
    mailer: Option<Mailer>,
}

impl ServeConfig {
    /// Checks every setting (and takes the listening address, so that a
    /// port in use is found now too): a mistake stops the server before it
    /// has migrated or deployed anything.
    fn check(args: &ServeArgs) -> anyhow::Result<ServeConfig> {
        let scheme = args.database_url.split(':').next().unwrap_or_default();
        if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
            anyhow::bail!(
                "the database URL {} is neither sqlite://... nor postgres://...",
                redact_url(&args.database_url)
            );
        }
        let admin_password = std::env::var("BPMN_ADMIN_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty());
        if let Some(p) = &admin_password {
            valid_password(p).map_err(|e| anyhow::anyhow!("BPMN_ADMIN_PASSWORD: {e}"))?;
        }
        let session_key = std::env::var("BPMN_SESSION_KEY")
            .ok()
            .filter(|k| !k.is_empty());
        if let Some(k) = &session_key {
            valid_session_key(k).map_err(|e| anyhow::anyhow!(e))?;
        }
        let connector = args.connector.policy()?;
        let trusted_proxies = web::proxy::TrustedProxies::parse(&args.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("--trusted-proxy: {e}"))?;
        web::engine_rest::valid_path(&args.engine_rest_path)
            .map_err(|e| anyhow::anyhow!("--engine-rest-path: {e}"))?;
        let limits = Limits {
            command_time: std::time::Duration::from_secs_f64(args.command_seconds),
            command_bytes: (args.command_megabytes as usize) * 1024 * 1024,
        };
        if let Some(url) = &args.mail.public_url {
            bpmn_engine::runtime::mail::valid_public_url(url).map_err(|e| anyhow::anyhow!(e))?;
        }
        let mailer = args.mail.mailer()?;
        let listener = std::net::TcpListener::bind(&args.listen)
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        Ok(ServeConfig {
            listener,
            admin_password,
            session_key,
            connector,
            trusted_proxies,
            limits,
            mailer,
        })
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = ServeConfig::check(&args)?;
    let mut runtime = Runtime::connect(&args.database_url, Arc::new(SystemClock))
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                redact_url(&args.database_url)
            )
        })?
        .with_limits(config.limits)
        .with_connector_policy(config.connector);
    match config.mailer {
        Some(mailer) => {
            tracing::info!(smtp = %mailer.server(), "notification mails on");
            runtime = runtime.with_mailer(mailer);
        }
        None => tracing::info!("notification mails off (no --smtp-url)"),
    }
    let runtime = Arc::new(runtime);
    cli::deploy_directory(&runtime, &args.diagrams).await;
    if let Some(generated) = runtime
        .accounts()
        .ensure_admin(config.admin_password.as_deref())
        .await?
    {
        println!(
            "Created the account \"admin\" with the password {generated} (shown only this once)."
        );
    }
    let session_key = runtime
        .accounts()
        .session_key(config.session_key.as_deref())
        .await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let executor = if args.no_jobs {
        None
    } else {
        let mut cfg = jobs::ExecutorConfig::new(jobs::owner_name());
        cfg.lease = std::time::Duration::from_secs(args.job_lease);
        cfg.concurrency = args.job_concurrency as usize;
        tracing::info!(owner = %cfg.owner, lease_s = args.job_lease, "job executor started");
        Some(tokio::spawn(jobs::run(runtime.clone(), cfg, stopped)))
    };
    let listener = config.listener;
    let address = listener.local_addr()?;
    tracing::info!(listen = %address, backend = runtime.system().backend_name(), "serving");
    println!("Serving on http://{address}");
    let web_config = WebConfig {
        session_key,
        secure_cookies: args.secure_cookies,
        trusted_proxies: config.trusted_proxies,
        engine_rest_path: args.engine_rest_path.clone(),
    };
    let result = web::server(runtime, web_config, listener)?.await;
    let _ = stop.send(true);
    if let Some(handle) = executor {
        let _ = handle.await;
    }
    result.with_context(|| format!("the server on {address} stopped"))
}

async fn bench(args: BenchArgs) -> anyhow::Result<i32> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let opts = cli::bench::BenchOptions {
        postgres: args.postgres,
        workloads: args.workloads,
        seconds: args.seconds,
        clients: args.clients,
        scale: args.scale,
        dir: dir.path().to_path_buf(),
    };
    let mut out = std::io::stdout();
    cli::bench::bench(&opts, &mut out)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok(0)
}

async fn run(args: RunArgs) -> anyhow::Result<i32> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let script = match &args.script {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read the script from stdin")?;
            s
        }
    };
    let variables = match &args.vars {
        None => serde_json::Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(_) => anyhow::bail!("--vars must be a JSON object"),
            Err(e) => anyhow::bail!("--vars is not valid JSON: {e}"),
        },
    };
    let start = match &args.now {
        None => None,
        Some(t) => Some(
            bpmn_engine::model::time::parse_datetime(t)
                .map_err(|e| anyhow::anyhow!("--now: {e}"))?,
        ),
    };
    let mut also = Vec::new();
    for f in &args.with {
        let b = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        also.push((f.display().to_string(), b));
    }
    let connector = ConnectorPolicy::new()
        .allowing(&args.connector_allow)
        .map_err(|e| anyhow::anyhow!("--connector-allow: {e}"))?
        .with_timeout_max(std::time::Duration::from_secs(args.connector_timeout_max));
    let start_by = match (args.message, args.signal) {
        (Some(m), _) => StartBy::Message(m),
        (None, Some(s)) => StartBy::Signal(s),
        (None, None) => StartBy::Default,
    };
    let options = RunOptions {
        process: args.process,
        start_by,
        variables,
        format: args.format,
        start,
        also,
        connector,
    };
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr();
    let exit = cli::run::run(&bytes, &script, &options, &mut out, &mut err).await;
    Ok(exit.code())
}

fn decide(file: &std::path::Path, decision: &str, vars: Option<&str>) -> anyhow::Result<i32> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(cli::decide(
        &file.display().to_string(),
        &bytes,
        decision,
        vars,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    ))
}

fn check(files: Vec<PathBuf>) -> anyhow::Result<i32> {
    let mut loaded = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).with_context(|| format!("cannot read {}", f.display()))?;
        loaded.push((f.display().to_string(), bytes));
    }
    let ok = cli::check(&loaded, &mut std::io::stdout());
    Ok(if ok { 0 } else { 2 })
}
