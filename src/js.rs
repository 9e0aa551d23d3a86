//! JavaScript for script tasks, listeners, conditions and parameters
//! (`scriptFormat="javascript"`), run in QuickJS (the `rquickjs` crate) as
//! Camunda 7 runs JavaScript, with a sandbox around it.
//!
//! What a script sees is what Camunda's JavaScript sees: every visible
//! process variable as a global of its name, `execution` and, in task
//! listeners, `task`. Their members are resolved by the EL evaluator's code
//! ([`crate::el::context_member`]), so `execution.getVariable('x')`,
//! `execution.processBusinessKey` or `task.setAssignee('mary')` mean in a
//! script exactly what they mean in `${...}`. The value of the last
//! expression statement is the script's result (`camunda:resultVariable`).
//! Assigning to a global (`total = 3`) does not set a process variable,
//! as in Camunda: `execution.setVariable('total', 3)` does.
//!
//! The sandbox: every run gets a fresh QuickJS runtime and context (nothing
//! survives from one run to the next) with only the language's own objects —
//! no file, network, timers, modules or `performance`. The clock is the
//! command's: `Date.now()` and `new Date()` give the time the command runs
//! at, dates read and print in UTC, and `Math.random()` is a generator seeded
//! from that time, so a run is a function of the instance, the command and
//! its time. A run stops with an error after [`STEP_BUDGET`] interrupt checks
//! (QuickJS makes one every 10,000 calls and backward jumps), when the
//! runtime's stop flag is raised ([`crate::budget`]), beyond [`MEMORY_LIMIT`]
//! bytes of heap, or when calls nest beyond [`STACK_LIMIT`] bytes of stack.
//!
//! Scripts are syntax-checked when a diagram is deployed ([`check`]): a
//! syntax error names its line and column in the script.
//!
//! The members of `execution` and `task` a script calls are answered from a
//! copy of the instance taken before the run; the changes it asks for
//! (`setVariable`, `setAssignee`) are handed to the instance, in order, when
//! the script has finished without error.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use rquickjs::context::intrinsic;
use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Exception, Function, Runtime};
use serde_json::{Map, Value};

use crate::bindings::Bindings;
use crate::el::{ContextObject, context_member};

/// Interrupt checks a run may take: QuickJS checks about every 10,000
/// function calls and backward jumps, so this is about 2,000,000 loop turns.
pub const STEP_BUDGET: u64 = 200;

/// The most heap one run may use, in bytes.
pub const MEMORY_LIMIT: usize = 32 << 20;

/// The most stack one run may use, in bytes.
pub const STACK_LIMIT: usize = 256 << 10;

/// The language's own objects; not `Date` and `Math.random` as QuickJS gives
/// them (replaced below), not `performance`, promises, typed arrays or weak
/// references.
type Intrinsics = (
    intrinsic::Eval,
    intrinsic::Date,
    intrinsic::RegExpCompiler,
    intrinsic::RegExp,
    intrinsic::Json,
    intrinsic::MapSet,
    intrinsic::Proxy,
);

/// What [`describe`] says of a thrown `null`: a script's `throw null`, or
/// QuickJS out of memory.
const THREW_NULL: &str = "uncaught exception null";

/// The script's file name in QuickJS's messages.
const FILE: &str = "script";

/// A syntax error, with its place in the script (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The values of Camunda's JavaScript-sensitive names: a clock fixed at the
/// command's time, dates in UTC, and a seeded `Math.random`.
const SANDBOX: &str = r#"(function (now) {
  'use strict';
  const D = Date, P = D.prototype, g = globalThis;
  for (const n of ['FullYear', 'Month', 'Date', 'Day', 'Hours', 'Minutes', 'Seconds', 'Milliseconds']) {
    P['get' + n] = P['getUTC' + n];
    if (n !== 'Day') P['set' + n] = P['setUTC' + n];
  }
  P.setYear = undefined;
  P.getTimezoneOffset = function () { return 0; };
  const text = function () { return isNaN(this.getTime()) ? 'Invalid Date' : P.toUTCString.call(this); };
  for (const n of ['toString', 'toDateString', 'toTimeString', 'toLocaleString', 'toLocaleDateString', 'toLocaleTimeString']) P[n] = text;
  const local = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?)?$/;
  const parse = function (s) { s = String(s); return D.parse(local.test(s) && s.length > 10 ? s + 'Z' : s); };
  const Dt = function Date(...a) {
    if (!new.target) return text.call(new D(now));
    if (a.length === 0) return new D(now);
    if (a.length === 1) return new D(typeof a[0] === 'string' ? parse(a[0]) : a[0]);
    return new D(D.UTC(...a));
  };
  Dt.prototype = P;
  Object.defineProperty(P, 'constructor', { value: Dt, writable: true, configurable: true });
  Dt.now = function () { return now; };
  Dt.UTC = D.UTC;
  Dt.parse = parse;
  Object.defineProperty(g, 'Date', { value: Dt, writable: true, configurable: true });
  // Nashorn's print(): there is no console to print to.
  Object.defineProperty(g, 'print', { value: function () { }, writable: true, configurable: true });
  let s = (Math.abs(now) % 4294967291) >>> 0 || 1;
  Math.random = function () {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
})"#;

/// `execution`, `task` and the variables as globals, over the host function.
const CONTEXT: &str = r#"(function (host) {
  'use strict';
  const parse = JSON.parse, stringify = JSON.stringify, g = globalThis;
  const json = v => { const s = stringify(v === undefined ? null : v); return s === undefined ? 'null' : s; };
  const accessor = /^(get|set|has|is)[A-Z]/;
  const quiet = ['toString', 'valueOf', 'toJSON', 'then', 'constructor', 'inspect'];
  function object(name, extra) {
    return new Proxy({}, {
      get(target, key) {
        if (typeof key !== 'string') return undefined;
        if (Object.prototype.hasOwnProperty.call(extra, key)) return extra[key];
        if (quiet.includes(key)) return key === 'toString' ? () => name : undefined;
        if (accessor.test(key)) return (...args) => parse(host('call', name, key, json(args)));
        return parse(host('get', name, key, '[]'));
      },
      set(target, key) { throw new TypeError(name + '.' + String(key) + ' cannot be assigned; call its setter'); },
      has(target, key) { return typeof key === 'string'; },
    });
  }
  const vars = parse(host('variables', '', '', '[]'));
  for (const k of Object.keys(vars)) {
    try { Object.defineProperty(g, k, { value: vars[k], writable: true, configurable: true, enumerable: true }); } catch (e) { }
  }
  const execution = object('execution', {});
  Object.defineProperty(g, 'execution', { value: execution, writable: true, configurable: true });
  if (parse(host('hasTask', '', '', '[]'))) {
    const task = object('task', { execution: execution, getExecution: () => execution });
    Object.defineProperty(g, 'task', { value: task, writable: true, configurable: true });
  }
})"#;

/// A change a script asked for, handed to the instance after the run.
enum Change {
    Variable {
        name: String,
        value: Value,
        local: bool,
    },
    Task {
        property: String,
        value: Value,
    },
}

/// The properties of `execution` and `task` that the copy holds.
const EXECUTION_PROPERTIES: [&str; 12] = [
    "id",
    "processInstanceId",
    "businessKey",
    "processBusinessKey",
    "processDefinitionId",
    "processDefinitionKey",
    "activityId",
    "currentActivityId",
    "activityName",
    "currentActivityName",
    "eventName",
    "tenantId",
];
const TASK_PROPERTIES: [&str; 12] = [
    "id",
    "name",
    "assignee",
    "owner",
    "priority",
    "dueDate",
    "followUpDate",
    "description",
    "taskDefinitionKey",
    "eventName",
    "createTime",
    "tenantId",
];

/// A copy of what a script can see of the instance, answering the script's
/// calls (through the EL's resolution of `execution` and `task`) and keeping
/// the changes it asks for.
struct Copy {
    variables: Map<String, Value>,
    locals: Map<String, Value>,
    execution: Map<String, Value>,
    task: Option<Map<String, Value>>,
    now: jiff::Timestamp,
    changes: Vec<Change>,
}

impl Copy {
    fn of(b: &dyn Bindings) -> Copy {
        let variables = b.variables();
        let locals = variables
            .keys()
            .filter_map(|k| b.variable_local(k).map(|v| (k.clone(), v)))
            .collect();
        let pick = |names: &[&str], get: &dyn Fn(&str) -> Option<Value>| -> Map<String, Value> {
            names
                .iter()
                .filter_map(|n| get(n).map(|v| (n.to_string(), v)))
                .collect()
        };
        Copy {
            execution: pick(&EXECUTION_PROPERTIES, &|n| b.execution(n)),
            task: b.has_task().then(|| pick(&TASK_PROPERTIES, &|n| b.task(n))),
            variables,
            locals,
            now: b.now(),
            changes: Vec::new(),
        }
    }
}

impl Bindings for Copy {
    fn variable(&self, name: &str) -> Option<Value> {
        self.variables.get(name).cloned()
    }

    fn variables(&self) -> Map<String, Value> {
        self.variables.clone()
    }

    fn variable_local(&self, name: &str) -> Option<Value> {
        self.locals.get(name).cloned()
    }

    fn set_variable(&mut self, name: &str, value: Value, local: bool) -> Result<(), String> {
        if name.trim().is_empty() {
            return Err("a variable needs a name".into());
        }
        if local || self.locals.contains_key(name) {
            self.locals.insert(name.to_string(), value.clone());
        }
        self.variables.insert(name.to_string(), value.clone());
        self.changes.push(Change::Variable {
            name: name.to_string(),
            value,
            local,
        });
        Ok(())
    }

    fn execution(&self, property: &str) -> Option<Value> {
        self.execution.get(property).cloned()
    }

    fn has_task(&self) -> bool {
        self.task.is_some()
    }

    fn task(&self, property: &str) -> Option<Value> {
        self.task.as_ref()?.get(property).cloned()
    }

    fn set_task(&mut self, property: &str, value: Value) -> Result<(), String> {
        let Some(task) = self.task.as_mut() else {
            return Err(format!("there is no task here to set {property} on"));
        };
        task.insert(property.to_string(), value.clone());
        self.changes.push(Change::Task {
            property: property.to_string(),
            value,
        });
        Ok(())
    }

    fn now(&self) -> jiff::Timestamp {
        self.now
    }
}

/// Why a run was interrupted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Interrupt {
    Budget,
    Stopped,
}

fn sandboxed_runtime() -> Result<Runtime, String> {
    let rt = Runtime::new().map_err(|e| format!("cannot start JavaScript: {e}"))?;
    rt.set_memory_limit(MEMORY_LIMIT);
    rt.set_max_stack_size(STACK_LIMIT);
    Ok(rt)
}

/// A runtime whose runs stop at the step budget or the stop flag, saying
/// which in `interrupted`.
fn runtime(interrupted: Rc<Cell<Option<Interrupt>>>) -> Result<Runtime, String> {
    let rt = sandboxed_runtime()?;
    let mut checks = 0u64;
    rt.set_interrupt_handler(Some(Box::new(move || {
        checks += 1;
        let why = if crate::budget::stopped() {
            Some(Interrupt::Stopped)
        } else if checks > STEP_BUDGET {
            Some(Interrupt::Budget)
        } else {
            None
        };
        interrupted.set(why);
        why.is_some()
    })));
    Ok(rt)
}

/// The `script:LINE:COLUMN` QuickJS puts in a stack trace, if any.
fn place(stack: &str) -> Option<(usize, usize)> {
    stack.lines().find_map(|l| {
        let at = l.find(&format!("{FILE}:"))?;
        let mut parts = l[at + FILE.len() + 1..].split(':');
        let line = parts.next()?.trim().parse().ok()?;
        let column = parts.next()?.trim().trim_end_matches(')').parse().ok()?;
        Some((line, column))
    })
}

fn out_of_memory() -> String {
    format!(
        "stopped: it used more memory than a script may ({} MiB)",
        MEMORY_LIMIT >> 20
    )
}

/// A caught JavaScript error as a message, with the script's line and column
/// where QuickJS gives them.
fn describe(e: CaughtError<'_>, interrupted: Option<Interrupt>) -> String {
    match interrupted {
        Some(Interrupt::Budget) => {
            return "stopped: it ran longer than its step budget (an endless loop?)".into();
        }
        Some(Interrupt::Stopped) => return crate::budget::STOPPED.into(),
        None => {}
    }
    match e {
        CaughtError::Exception(ex) => {
            let message = ex.message().unwrap_or_default();
            let name: Option<String> = ex.get("name").ok();
            let name = name.unwrap_or_else(|| "Error".into());
            if name == "InternalError" && message == "out of memory" {
                return out_of_memory();
            }
            let text = if message.is_empty() {
                name
            } else {
                format!("{name}: {message}")
            };
            match ex.stack().as_deref().and_then(place) {
                Some((l, c)) => format!("{text} (script line {l}, column {c})"),
                None => text,
            }
        }
        // QuickJS throws null when memory runs out; `run` tells the two apart.
        CaughtError::Value(v) if v.is_null() => THREW_NULL.into(),
        CaughtError::Value(v) => {
            let shown = v
                .ctx()
                .json_stringify(v.clone())
                .ok()
                .flatten()
                .and_then(|s| s.to_string().ok())
                .unwrap_or_else(|| format!("a {}", v.type_name()));
            format!("uncaught exception {shown}")
        }
        CaughtError::Error(e) => e.to_string(),
    }
}

fn eval_options() -> rquickjs::context::EvalOptions {
    let mut o = rquickjs::context::EvalOptions::default();
    o.global = true;
    o.strict = false;
    o.filename = Some(FILE.to_string());
    o
}

/// What [`check`] puts in front of a script: the whole text is parsed
/// before its first statement runs, and that statement stops it.
const STOP_FIRST: &str = "throw 0;";

/// Checks a script's syntax without running any of it.
pub fn check(source: &str) -> Result<(), SyntaxError> {
    let fail = |message: String| SyntaxError {
        line: 1,
        column: 1,
        message,
    };
    // Nothing runs, so no step budget is needed.
    let rt = sandboxed_runtime().map_err(fail)?;
    let ctx = Context::custom::<Intrinsics>(&rt).map_err(|e| fail(e.to_string()))?;
    ctx.with(|ctx| {
        let text = format!("{STOP_FIRST}{source}");
        match ctx
            .eval_with_options::<rquickjs::Value, _>(text, eval_options())
            .catch(&ctx)
        {
            Ok(_) => Ok(()),
            Err(CaughtError::Value(v)) if v.as_int() == Some(0) => Ok(()),
            Err(CaughtError::Exception(ex)) => {
                let message = ex.message().unwrap_or_else(|| "syntax error".into());
                let (line, column) =
                    ex.stack()
                        .as_deref()
                        .and_then(place)
                        .map_or((1, 1), |(l, c)| {
                            if l == 1 {
                                (1, c.saturating_sub(STOP_FIRST.len()).max(1))
                            } else {
                                (l, c)
                            }
                        });
                Err(SyntaxError {
                    line,
                    column,
                    message,
                })
            }
            Err(other) => Err(fail(describe(other, None))),
        }
    })
}

/// Runs a script against an instance: returns the value of its last
/// expression statement (JSON; `undefined` is null) and, if it succeeded,
/// hands the changes it asked for to `b`.
pub fn run(source: &str, b: &mut dyn Bindings) -> Result<Value, String> {
    let copy = Rc::new(RefCell::new(Copy::of(b)));
    let now = copy.borrow().now.as_millisecond();
    let interrupted = Rc::new(Cell::new(None));
    let rt = runtime(interrupted.clone())?;
    let ctx =
        Context::custom::<Intrinsics>(&rt).map_err(|e| format!("cannot start JavaScript: {e}"))?;
    let result = ctx.with(|ctx| -> Result<Value, String> {
        let setup = |_: &Ctx<'_>, e: CaughtError<'_>| match interrupted.get() {
            Some(why) => describe(e, Some(why)),
            None => format!("cannot prepare the script: {}", describe(e, None)),
        };
        let sandbox: Function = ctx.eval(SANDBOX).catch(&ctx).map_err(|e| setup(&ctx, e))?;
        sandbox
            .call::<_, ()>((now as f64,))
            .catch(&ctx)
            .map_err(|e| setup(&ctx, e))?;
        let host =
            host_function(&ctx, copy.clone()).map_err(|e| setup(&ctx, CaughtError::Error(e)))?;
        let context: Function = ctx.eval(CONTEXT).catch(&ctx).map_err(|e| setup(&ctx, e))?;
        context
            .call::<_, ()>((host,))
            .catch(&ctx)
            .map_err(|e| setup(&ctx, e))?;
        let value: rquickjs::Value = ctx
            .eval_with_options(source, eval_options())
            .catch(&ctx)
            .map_err(|e| describe(e, interrupted.get()))?;
        if value.is_undefined() || value.is_function() || value.is_symbol() {
            return Ok(Value::Null);
        }
        let text = ctx.json_stringify(value).catch(&ctx).map_err(|e| {
            format!(
                "the result cannot be stored: {}",
                describe(e, interrupted.get())
            )
        })?;
        match text {
            None => Ok(Value::Null),
            Some(t) => {
                let t = t.to_string().map_err(|e| e.to_string())?;
                serde_json::from_str(&t).map_err(|e| format!("the result cannot be stored: {e}"))
            }
        }
    });
    let result = match result {
        Err(e) if e == THREW_NULL && rt.memory_usage().malloc_size as usize > MEMORY_LIMIT / 2 => {
            return Err(out_of_memory());
        }
        other => other?,
    };
    let changes = std::mem::take(&mut copy.borrow_mut().changes);
    for change in changes {
        match change {
            Change::Variable { name, value, local } => b.set_variable(&name, value, local)?,
            Change::Task { property, value } => b.set_task(&property, value)?,
        }
    }
    Ok(result)
}

/// The one function the script's context objects call: `variables`,
/// `hasTask`, and `call`/`get` of a member of `execution` or `task`, with
/// arguments and results as JSON text.
fn host_function<'js>(ctx: &Ctx<'js>, copy: Rc<RefCell<Copy>>) -> rquickjs::Result<Function<'js>> {
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, op: String, object: String, name: String, args: String| {
            let answer = (|| -> Result<Value, String> {
                let mut copy = copy.try_borrow_mut().map_err(|e| e.to_string())?;
                let object = match object.as_str() {
                    "task" => ContextObject::Task,
                    _ => ContextObject::Execution,
                };
                match op.as_str() {
                    "variables" => Ok(Value::Object(copy.variables.clone())),
                    "hasTask" => Ok(Value::Bool(copy.task.is_some())),
                    "call" => {
                        let args: Vec<Value> =
                            serde_json::from_str(&args).map_err(|e| e.to_string())?;
                        context_member(&mut *copy, object, &name, Some(&args))
                    }
                    _ => context_member(&mut *copy, object, &name, None),
                }
            })();
            match answer {
                Ok(v) => Ok(v.to_string()),
                Err(message) => Err(Exception::throw_message(&ctx, &message)),
            }
        },
    )
}
