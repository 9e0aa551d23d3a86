//! Fuzzing as property tests: the pure readers and evaluators get generated
//! and mutated input and must never panic. Where a target has a budget (FEEL,
//! expressions, scripts) every call must also return; errors are fine.
//!
//! Targets: the BPMN reader (`model::parse`, `parse_for_drawing`, and drawing
//! what it reads) and the DMN reader (then evaluating what it reads) on
//! mutated files: ours under `bpmn/`, plus `../shared/corpora` when that
//! folder exists; expressions, templates and scripts (`model::expr`); FEEL
//! expressions and unary tests; ISO 8601 durations, date-times, repeating
//! intervals and cron (`model::time`); form values (`model::form`).
//!
//! `cargo test fuzz` runs a few hundred cases per target with fixed seeds, so
//! that CI is repeatable. The long run is ignored by default:
//!
//! ```text
//! cargo test --release --test it fuzz_long_run -- --ignored --nocapture
//! ```
//!
//! `BPMN_FUZZ_CASES` sets its total number of cases (default 1,000,000, split
//! between the targets), `BPMN_FUZZ_TARGETS` a comma-separated choice of
//! targets (`bpmn,dmn,expr,feel,time,form`), and `BPMN_FUZZ_SEED` a seed
//! (random otherwise; the one used is printed).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bpmn_engine::dmn::parse_dmn;
use bpmn_engine::feel::{Expression, UnaryTests};
use bpmn_engine::model::expr::{Expr, Script, Template};
use bpmn_engine::model::form::{self, Constraints, FieldType, FormField};
use bpmn_engine::model::{self, ParseError, svg, time};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngSeed, TestCaseResult, TestError, TestRunner};
use serde_json::{Map, Value, json};

// ------------------------------------------------------------------ running

/// One fuzzing target: its name and how to run it for a number of cases.
struct Target {
    name: &'static str,
    /// Its share of the long run's cases.
    weight: u32,
    run: fn(&mut TestRunner) -> Result<(), String>,
}

const TARGETS: &[Target] = &[
    Target {
        name: "bpmn",
        weight: 25,
        run: run_bpmn,
    },
    Target {
        name: "dmn",
        weight: 15,
        run: run_dmn,
    },
    Target {
        name: "expr",
        weight: 10,
        run: run_expr,
    },
    Target {
        name: "feel",
        weight: 25,
        run: run_feel,
    },
    Target {
        name: "time",
        weight: 15,
        run: run_time,
    },
    Target {
        name: "form",
        weight: 10,
        run: run_form,
    },
];

fn config(cases: u32, seed: RngSeed) -> Config {
    Config {
        cases,
        rng_seed: seed,
        // Failures become explicit regression tests instead of files.
        failure_persistence: None,
        max_shrink_iters: 20_000,
        ..Config::default()
    }
}

/// Runs `target` with `cases` cases; panics with the minimal failing input.
fn fuzz(name: &str, cases: u32, seed: RngSeed) -> Duration {
    let target = TARGETS
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"));
    let mut runner = TestRunner::new(config(cases, seed));
    let started = Instant::now();
    if let Err(e) = (target.run)(&mut runner) {
        panic!("fuzz target {name} (seed {seed}): {e}");
    }
    started.elapsed()
}

/// The slowest case of a run, reported so that a missing budget shows.
struct Slowest(std::sync::Mutex<(Duration, String)>);

impl Slowest {
    fn new() -> Slowest {
        Slowest(std::sync::Mutex::new((Duration::ZERO, String::new())))
    }

    fn time<T: fmt::Debug>(&self, case: &T, f: impl FnOnce() -> TestCaseResult) -> TestCaseResult {
        let started = Instant::now();
        let result = f();
        let took = started.elapsed();
        if let Ok(mut slowest) = self.0.lock()
            && took > slowest.0
        {
            *slowest = (took, format!("{case:?}"));
        }
        result
    }

    fn report(&self, name: &str) {
        if let Ok(slowest) = self.0.lock() {
            // A slow case is shown whole, to be replayed.
            let mut text = slowest.1.clone();
            let keep = if slowest.0 > Duration::from_secs(1) {
                20_000
            } else {
                300
            };
            if text.len() > keep {
                let cut = (0..=keep)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                text.truncate(cut);
                text.push('…');
            }
            println!("  {name}: slowest case {:?}: {text}", slowest.0);
        }
    }
}

fn outcome<T: fmt::Debug>(result: Result<(), TestError<T>>) -> Result<(), String> {
    result.map_err(|e| e.to_string())
}

/// A fixed seed per target, so that CI runs the same cases every time.
const CI_SEED: u64 = 0x5eed_b9a1;

#[test]
fn fuzz_bpmn_reader() {
    fuzz("bpmn", 128, RngSeed::Fixed(CI_SEED));
}

#[test]
fn fuzz_dmn_reader() {
    fuzz("dmn", 256, RngSeed::Fixed(CI_SEED));
}

#[test]
fn fuzz_expressions_and_scripts() {
    fuzz("expr", 256, RngSeed::Fixed(CI_SEED));
}

#[test]
fn fuzz_feel() {
    fuzz("feel", 256, RngSeed::Fixed(CI_SEED));
}

#[test]
fn fuzz_time() {
    fuzz("time", 256, RngSeed::Fixed(CI_SEED));
}

#[test]
fn fuzz_form_values() {
    fuzz("form", 256, RngSeed::Fixed(CI_SEED));
}

/// The long run: see the module documentation.
#[test]
#[ignore = "long: run with --release and --ignored"]
fn fuzz_long_run() {
    let total: u64 = std::env::var("BPMN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let chosen: Option<Vec<String>> = std::env::var("BPMN_FUZZ_TARGETS")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let targets: Vec<&Target> = TARGETS
        .iter()
        .filter(|t| {
            chosen
                .as_ref()
                .is_none_or(|c| c.iter().any(|n| n == t.name))
        })
        .collect();
    let weights: u64 = targets.iter().map(|t| u64::from(t.weight)).sum();
    let seed = std::env::var("BPMN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand_seed);
    println!("fuzzing {total} cases with seed {seed}");
    let mut done = 0u64;
    for t in targets {
        let cases = (total * u64::from(t.weight) / weights.max(1)).max(1);
        let cases = u32::try_from(cases).unwrap_or(u32::MAX);
        let took = fuzz(t.name, cases, RngSeed::Fixed(seed));
        done += u64::from(cases);
        println!("{:>5}: {cases} cases in {took:.1?}, no panic", t.name);
    }
    println!("{done} cases in all");
}

fn rand_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

// ------------------------------------------------------------------ seed files

struct SeedFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// Files larger than this are left to the corpus tests: mutating them makes
/// each case slow without reaching more of the reader.
const MAX_SEED_BYTES: u64 = 512 * 1024;

fn corpora() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    dir.is_dir().then_some(dir)
}

fn collect(dir: &Path, wanted: &dyn Fn(&str) -> bool, out: &mut Vec<SeedFile>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, wanted, out);
            continue;
        }
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_lowercase();
        let small = p.metadata().is_ok_and(|m| m.len() <= MAX_SEED_BYTES);
        if wanted(&name)
            && small
            && let Ok(bytes) = std::fs::read(&p)
        {
            out.push(SeedFile { path: p, bytes });
        }
    }
}

fn seed_files(wanted: &dyn Fn(&str) -> bool, what: &str) -> Vec<SeedFile> {
    let mut out = Vec::new();
    collect(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("bpmn"),
        wanted,
        &mut out,
    );
    match corpora() {
        Some(dir) => collect(&dir, wanted, &mut out),
        None => println!("note: ../shared/corpora is absent; mutating only our own {what} files"),
    }
    assert!(!out.is_empty(), "no {what} files to mutate");
    out
}

fn bpmn_seeds() -> &'static [SeedFile] {
    static SEEDS: OnceLock<Vec<SeedFile>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        seed_files(
            &|n| n.ends_with(".bpmn") || n.ends_with(".bpmn2") || n.ends_with(".xml"),
            "BPMN",
        )
    })
}

fn dmn_seeds() -> &'static [SeedFile] {
    static SEEDS: OnceLock<Vec<SeedFile>> = OnceLock::new();
    SEEDS.get_or_init(|| seed_files(&|n| n.ends_with(".dmn"), "DMN"))
}

// ------------------------------------------------------------------ mutations

/// One change to a file. Positions are fractions of the current length
/// ([`Index`]), so a mutation applies whatever the earlier ones did.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    Truncate(Index),
    Delete(Index, usize),
    Duplicate(Index, usize, Index),
    Insert(Index, String),
    /// A new attribute in the n-th start tag.
    Attribute(Index, String, String),
    /// An attribute of `len` times the character in the n-th start tag.
    HugeAttribute(Index, usize, char),
    /// The n-th attribute value or text replaced.
    Replace(Index, String),
    /// The n-th attribute value replaced by the m-th (ids become references).
    CopyValue(Index, Index),
    /// A span of another file of the same kind inserted.
    Splice(Index, Index, usize, Index),
}

/// A seed file and what was done to it.
#[derive(Clone)]
struct Mutated {
    dmn: bool,
    file: Index,
    mutations: Vec<Mutation>,
}

impl Mutated {
    fn seeds(&self) -> &'static [SeedFile] {
        if self.dmn { dmn_seeds() } else { bpmn_seeds() }
    }

    fn seed(&self) -> &'static SeedFile {
        let seeds = self.seeds();
        &seeds[self.file.index(seeds.len())]
    }

    fn bytes(&self) -> Vec<u8> {
        let mut bytes = self.seed().bytes.clone();
        for m in &self.mutations {
            apply(&mut bytes, m, self.seeds());
        }
        bytes
    }
}

impl fmt::Debug for Mutated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} with {:?}",
            self.seed().path.display(),
            self.mutations
        )
    }
}

fn at(i: &Index, len: usize) -> usize {
    if len == 0 { 0 } else { i.index(len + 1) }
}

/// Where start tag names end (`<task|` in `<task id="a">`).
fn tag_ends(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'<' && bytes[i + 1].is_ascii_alphabetic() {
            let mut j = i + 1;
            while j < bytes.len() && !matches!(bytes[j], b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>')
            {
                j += 1;
            }
            out.push(j);
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The spans of attribute values (`="..."`, quotes excluded) and of texts
/// between tags.
fn value_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && matches!(bytes.get(i + 1), Some(b'"' | b'\'')) {
            let q = bytes[i + 1];
            let start = i + 2;
            let end = bytes[start.min(bytes.len())..]
                .iter()
                .position(|b| *b == q)
                .map_or(bytes.len(), |p| start + p);
            out.push((start, end));
            i = end;
        } else if bytes[i] == b'>' {
            let start = i + 1;
            let end = bytes[start..]
                .iter()
                .position(|b| *b == b'<')
                .map_or(bytes.len(), |p| start + p);
            if end > start && bytes[start..end].iter().any(|b| !b.is_ascii_whitespace()) {
                out.push((start, end));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation, seeds: &[SeedFile]) {
    let len = bytes.len();
    match m {
        Mutation::FlipBit(i, bit) => {
            if len > 0 {
                let p = i.index(len);
                bytes[p] ^= 1 << (bit % 8);
            }
        }
        Mutation::SetByte(i, b) => {
            if len > 0 {
                let p = i.index(len);
                bytes[p] = *b;
            }
        }
        Mutation::Truncate(i) => bytes.truncate(at(i, len)),
        Mutation::Delete(i, n) => {
            let from = at(i, len);
            let to = from.saturating_add(*n).min(len);
            bytes.drain(from..to);
        }
        Mutation::Duplicate(i, n, to) => {
            let from = at(i, len);
            let end = from.saturating_add(*n).min(len);
            let span = bytes[from..end].to_vec();
            let to = at(to, len);
            bytes.splice(to..to, span);
        }
        Mutation::Insert(i, s) => {
            let p = at(i, len);
            bytes.splice(p..p, s.bytes());
        }
        Mutation::Attribute(i, name, value) => {
            let ends = tag_ends(bytes);
            if !ends.is_empty() {
                let p = ends[i.index(ends.len())];
                let attr = format!(" {name}=\"{value}\"");
                bytes.splice(p..p, attr.bytes());
            }
        }
        Mutation::HugeAttribute(i, n, c) => {
            let ends = tag_ends(bytes);
            if !ends.is_empty() {
                let p = ends[i.index(ends.len())];
                let attr = format!(" huge=\"{}\"", c.to_string().repeat(*n));
                bytes.splice(p..p, attr.bytes());
            }
        }
        Mutation::Replace(i, s) => {
            let spans = value_spans(bytes);
            if !spans.is_empty() {
                let (a, b) = spans[i.index(spans.len())];
                bytes.splice(a..b, s.bytes());
            }
        }
        Mutation::CopyValue(to, from) => {
            let spans = value_spans(bytes);
            if !spans.is_empty() {
                let (a, b) = spans[from.index(spans.len())];
                let value = bytes[a..b].to_vec();
                let (c, d) = spans[to.index(spans.len())];
                bytes.splice(c..d, value);
            }
        }
        Mutation::Splice(file, i, n, to) => {
            let other = &seeds[file.index(seeds.len())].bytes;
            let from = at(i, other.len());
            let end = from.saturating_add(*n).min(other.len());
            let p = at(to, len);
            bytes.splice(p..p, other[from..end].iter().copied());
        }
    }
}

/// Tags, fragments and markup that readers must cope with.
const SNIPPETS: &[&str] = &[
    "<",
    ">",
    "/>",
    "</",
    "\"",
    "'",
    "&",
    "&amp;",
    "&lt;",
    "&e;",
    "&#0;",
    "&#x0;",
    "&#xD800;",
    "&#x110000;",
    "&#99999999999;",
    "&#65;",
    "<![CDATA[",
    "]]>",
    "<![CDATA[${x}]]>",
    "<!--",
    "-->",
    "<!-- c -->",
    "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
    "<?pi x?>",
    "<!DOCTYPE d [<!ENTITY e \"&e;&e;&e;&e;\">]>",
    "<!DOCTYPE d SYSTEM \"file:///etc/passwd\">",
    "\u{feff}",
    "\0",
    "\u{fffd}",
    "\u{202e}",
    " xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"",
    " xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"",
    " xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\"",
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\"",
    " xmlns=\"https://www.omg.org/spec/DMN/20191111/MODEL/\"",
    " xmlns:bpmn=\"\"",
    "<bpmn:process id=\"P\" isExecutable=\"true\">",
    "</bpmn:process>",
    "<bpmn:startEvent id=\"S\"/>",
    "<bpmn:endEvent id=\"E\"/>",
    "<bpmn:task id=\"T\"/>",
    "<bpmn:userTask id=\"U\" camunda:assignee=\"${x}\"/>",
    "<bpmn:serviceTask id=\"ST\" camunda:type=\"external\" camunda:topic=\"t\"/>",
    "<bpmn:scriptTask id=\"SC\" scriptFormat=\"rhai\"><bpmn:script>loop {}</bpmn:script></bpmn:scriptTask>",
    "<bpmn:businessRuleTask id=\"B\" camunda:decisionRef=\"d\"/>",
    "<bpmn:callActivity id=\"C\" calledElement=\"P\"/>",
    "<bpmn:subProcess id=\"SP\" triggeredByEvent=\"true\">",
    "</bpmn:subProcess>",
    "<bpmn:exclusiveGateway id=\"G\" default=\"F\"/>",
    "<bpmn:parallelGateway id=\"PG\"/>",
    "<bpmn:inclusiveGateway id=\"IG\"/>",
    "<bpmn:eventBasedGateway id=\"EG\"/>",
    "<bpmn:sequenceFlow id=\"F\" sourceRef=\"S\" targetRef=\"E\"/>",
    "<bpmn:sequenceFlow id=\"F2\" sourceRef=\"S\" targetRef=\"S\"/>",
    "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">${x &gt; 1}</bpmn:conditionExpression>",
    "<bpmn:conditionExpression>=x</bpmn:conditionExpression>",
    "<bpmn:boundaryEvent id=\"BE\" attachedToRef=\"T\" cancelActivity=\"false\">",
    "</bpmn:boundaryEvent>",
    "<bpmn:timerEventDefinition><bpmn:timeCycle>R/PT0S</bpmn:timeCycle></bpmn:timerEventDefinition>",
    "<bpmn:timerEventDefinition><bpmn:timeDuration>P99999999Y</bpmn:timeDuration></bpmn:timerEventDefinition>",
    "<bpmn:timerEventDefinition><bpmn:timeDate>-9999-01-01</bpmn:timeDate></bpmn:timerEventDefinition>",
    "<bpmn:timerEventDefinition><bpmn:timeCycle>0 0 31 2 *</bpmn:timeCycle></bpmn:timerEventDefinition>",
    "<bpmn:messageEventDefinition messageRef=\"M\"/>",
    "<bpmn:signalEventDefinition signalRef=\"M\"/>",
    "<bpmn:errorEventDefinition errorRef=\"S\"/>",
    "<bpmn:escalationEventDefinition/>",
    "<bpmn:compensateEventDefinition activityRef=\"T\"/>",
    "<bpmn:linkEventDefinition name=\"L\"/>",
    "<bpmn:terminateEventDefinition/>",
    "<bpmn:conditionalEventDefinition><bpmn:condition>${x}</bpmn:condition></bpmn:conditionalEventDefinition>",
    "<bpmn:message id=\"M\" name=\"${x}\"/>",
    "<bpmn:multiInstanceLoopCharacteristics isSequential=\"true\"><bpmn:loopCardinality>4000000000</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>",
    "<bpmn:multiInstanceLoopCharacteristics camunda:collection=\"${x}\" camunda:elementVariable=\"\"><bpmn:completionCondition>${</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>",
    "<bpmn:standardLoopCharacteristics loopMaximum=\"-1\"/>",
    "<bpmn:laneSet><bpmn:lane id=\"L\"><bpmn:flowNodeRef>S</bpmn:flowNodeRef><bpmn:childLaneSet/></bpmn:lane></bpmn:laneSet>",
    "<bpmn:extensionElements>",
    "</bpmn:extensionElements>",
    "<camunda:formData><camunda:formField id=\"f\" type=\"enum\" defaultValue=\"zz\"><camunda:value id=\"a\" name=\"A\"/><camunda:validation><camunda:constraint name=\"min\" config=\"x\"/></camunda:validation></camunda:formField></camunda:formData>",
    "<camunda:formField id=\"g\" type=\"long\" defaultValue=\"99999999999999999999\"/>",
    "<camunda:inputOutput><camunda:inputParameter name=\"a\">${</camunda:inputParameter><camunda:outputParameter name=\"\"><camunda:list><camunda:value>1</camunda:value></camunda:list></camunda:outputParameter></camunda:inputOutput>",
    "<camunda:executionListener event=\"start\" expression=\"${x}\"/>",
    "<camunda:taskListener event=\"timeout\" id=\"t\"><bpmn:timerEventDefinition/></camunda:taskListener>",
    "<camunda:failedJobRetryTimeCycle>R0/PT1S</camunda:failedJobRetryTimeCycle>",
    "<camunda:properties><camunda:property name=\"a\" value=\"b\"/></camunda:properties>",
    "<camunda:in source=\"a\" target=\"b\"/><camunda:out variables=\"all\"/>",
    "<zeebe:taskDefinition type=\"=x\" retries=\"=1/0\"/>",
    "<zeebe:ioMapping><zeebe:input source=\"=a\" target=\"b\"/><zeebe:output source=\"=\" target=\"\"/></zeebe:ioMapping>",
    "<zeebe:calledDecision decisionId=\"d\" resultVariable=\"r\"/>",
    "<zeebe:loopCharacteristics inputCollection=\"=[1..\" inputElement=\"i\"/>",
    "<zeebe:script expression=\"=xs[item &gt; 1]\" resultVariable=\"r\"/>",
    "<bpmndi:BPMNDiagram id=\"D\"><bpmndi:BPMNPlane id=\"PL\" bpmnElement=\"P\">",
    "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>",
    "<bpmndi:BPMNShape id=\"SH\" bpmnElement=\"S\" isExpanded=\"true\"><dc:Bounds x=\"1e308\" y=\"-1e308\" width=\"NaN\" height=\"-5\"/></bpmndi:BPMNShape>",
    "<bpmndi:BPMNShape bpmnElement=\"T\"><dc:Bounds x=\"inf\" y=\"0\" width=\"1e400\" height=\"0\"/><bpmndi:BPMNLabel><dc:Bounds/></bpmndi:BPMNLabel></bpmndi:BPMNShape>",
    "<bpmndi:BPMNEdge id=\"ED\" bpmnElement=\"F\"><di:waypoint x=\"0\" y=\"0\"/><di:waypoint x=\"-0\" y=\"1e-320\"/></bpmndi:BPMNEdge>",
    "<bpmndi:BPMNEdge bpmnElement=\"F\"/>",
    "<di:waypoint x=\"1\"/>",
    "<definitions",
    "</definitions>",
    "<decision id=\"d\" name=\"d\">",
    "</decision>",
    "<decisionTable hitPolicy=\"COLLECT\" aggregation=\"SUM\">",
    "<decisionTable hitPolicy=\"PRIORITY\">",
    "</decisionTable>",
    "<input id=\"i\" camunda:inputVariable=\"\"><inputExpression><text>xs[item &gt; 0]</text></inputExpression></input>",
    "<output id=\"o\" name=\"o\"><outputValues><text>\"a\",\"b\",</text></outputValues></output>",
    "<rule id=\"r\"><inputEntry><text>[1..2]</text></inputEntry><outputEntry><text>1</text></outputEntry></rule>",
    "<inputEntry><text>not(</text></inputEntry>",
    "<outputEntry><text>{a: a}</text></outputEntry>",
    "<informationRequirement><requiredDecision href=\"#d\"/></informationRequirement>",
    "<requiredDecision href=\"#\"/>",
    "<literalExpression><text>count(xs[count(xs[item &gt; 0]) &gt; 0])</text></literalExpression>",
    "<variable name=\"v\"/>",
    "<businessKnowledgeModel id=\"k\"/>",
    "<context/><invocation/><relation/><list/><functionDefinition/>",
];

/// Attribute names the readers look at.
const ATTRIBUTES: &[&str] = &[
    "id",
    "name",
    "sourceRef",
    "targetRef",
    "attachedToRef",
    "default",
    "calledElement",
    "cancelActivity",
    "isInterrupting",
    "isExecutable",
    "isSequential",
    "triggeredByEvent",
    "processRef",
    "messageRef",
    "signalRef",
    "errorRef",
    "escalationRef",
    "activityRef",
    "bpmnElement",
    "x",
    "y",
    "width",
    "height",
    "href",
    "hitPolicy",
    "aggregation",
    "typeRef",
    "xsi:type",
    "language",
    "scriptFormat",
    "xmlns",
    "xmlns:bpmn",
    "xmlns:camunda",
    "camunda:expression",
    "camunda:class",
    "camunda:delegateExpression",
    "camunda:assignee",
    "camunda:candidateUsers",
    "camunda:candidateGroups",
    "camunda:formKey",
    "camunda:asyncBefore",
    "camunda:asyncAfter",
    "camunda:type",
    "camunda:topic",
    "camunda:resultVariable",
    "camunda:decisionRef",
    "camunda:decisionRefBinding",
    "camunda:mapDecisionResult",
    "camunda:inputVariable",
    "camunda:collection",
    "camunda:elementVariable",
    "camunda:dueDate",
    "camunda:priority",
    "camunda:versionTag",
    "camunda:calledElementBinding",
    "zeebe:modelerTemplate",
];

/// Attribute values and texts that mean something somewhere.
const VALUES: &[&str] = &[
    "",
    " ",
    "S",
    "E",
    "T",
    "P",
    "F",
    "d",
    "#d",
    "true",
    "false",
    "TRUE",
    "yes",
    "0",
    "-1",
    "4294967296",
    "99999999999999999999",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "-0",
    "1e-320",
    "${x}",
    "${",
    "${}",
    "#{x}",
    "${x} and ${y}",
    "${a.b.c[0]}",
    "${empty x}",
    "${x ? 1 : 2}",
    "=x",
    "=",
    "=xs[item > 1]",
    "=if x then 1 else",
    "PT1S",
    "PT0S",
    "P1D",
    "-P1D",
    "P99999999Y",
    "R/PT1S",
    "R3/PT10M",
    "R0/PT1S",
    "R99999999999/PT1S",
    "R/2025-03-01T09:00:00Z/P1D",
    "2025-03-01T09:00:00Z",
    "-9999-01-01",
    "0 0 * * *",
    "0 0 31 2 *",
    "* * * * * * *",
    "UNIQUE",
    "FIRST",
    "PRIORITY",
    "ANY",
    "COLLECT",
    "RULE ORDER",
    "OUTPUT ORDER",
    "SUM",
    "COUNT",
    "string",
    "number",
    "boolean",
    "date",
    "long",
    "enum",
    "external",
    "rhai",
    "javascript",
    "groovy",
    "bpmn:tFormalExpression",
    "all",
    "deployment",
    "version",
    "versionTag",
    "singleEntry",
    "collectEntries",
    "resultList",
    "\u{202e}x",
    "é",
    "💥",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(VALUES).prop_map(str::to_string),
        1 => "[ -~]{0,24}",
        1 => any::<String>().prop_map(|s| s.chars().take(24).collect()),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let span = prop_oneof![4 => 1usize..64, 2 => 64usize..1024, 1 => 1024usize..8192];
    let huge =
        prop_oneof![4 => 1024usize..16_384, 2 => 16_384usize..262_144, 1 => Just(1_100_000usize)];
    let huge_char = prop::sample::select(vec!['a', ' ', '&', '<', '$', '{', 'é', '\u{1f4a5}']);
    prop_oneof![
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        2 => (any::<Index>(), prop::sample::select(vec![0u8, b'<', b'>', b'"', b'\'', b'&', b'=', b'/', b' ', b'\n', 0x80, 0xc3, 0xff]))
            .prop_map(|(i, b)| Mutation::SetByte(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), span.clone()).prop_map(|(i, n)| Mutation::Delete(i, n)),
        2 => (any::<Index>(), span.clone(), any::<Index>()).prop_map(|(i, n, t)| Mutation::Duplicate(i, n, t)),
        4 => (any::<Index>(), prop::sample::select(SNIPPETS)).prop_map(|(i, s)| Mutation::Insert(i, s.to_string())),
        4 => (any::<Index>(), prop::sample::select(ATTRIBUTES), text())
            .prop_map(|(i, n, v)| Mutation::Attribute(i, n.to_string(), v)),
        1 => (any::<Index>(), huge, huge_char).prop_map(|(i, n, c)| Mutation::HugeAttribute(i, n, c)),
        5 => (any::<Index>(), text()).prop_map(|(i, s)| Mutation::Replace(i, s)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::CopyValue(a, b)),
        2 => (any::<Index>(), any::<Index>(), span, any::<Index>())
            .prop_map(|(f, i, n, t)| Mutation::Splice(f, i, n, t)),
    ]
}

fn mutated(dmn: bool) -> impl Strategy<Value = Mutated> {
    (any::<Index>(), prop::collection::vec(mutation(), 0..8)).prop_map(move |(file, mutations)| {
        Mutated {
            dmn,
            file,
            mutations,
        }
    })
}

/// A refusal must locate its problems within the file (line 0 is the whole file).
fn check_located(e: &ParseError, bytes: &[u8]) -> TestCaseResult {
    prop_assert!(e.errors().next().is_some(), "refused without an error: {e}");
    let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    for d in &e.diagnostics {
        prop_assert!(
            u64::from(d.line) <= lines,
            "located past the end ({lines} lines): {d}"
        );
        prop_assert!(d.line == 0 || d.column >= 1, "line without a column: {d}");
        let _ = d.to_string();
    }
    Ok(())
}

// ------------------------------------------------------------------ BPMN

fn run_bpmn(runner: &mut TestRunner) -> Result<(), String> {
    // Read before timing the first case.
    bpmn_seeds();
    let slowest = Slowest::new();
    let result = runner.run(&mutated(false), |case| {
        slowest.time(&case, || {
            let bytes = case.bytes();
            match model::parse(&bytes) {
                Ok(defs) => {
                    let _ = svg::render(&defs, &svg::Overlay::default());
                }
                Err(e) => check_located(&e, &bytes)?,
            }
            match model::parse_for_drawing(&bytes) {
                Ok(defs) => {
                    for i in 0..defs.diagrams.len() {
                        let _ = svg::render_diagram(&defs, i, &svg::Overlay::default());
                    }
                }
                Err(e) => check_located(&e, &bytes)?,
            }
            Ok(())
        })
    });
    slowest.report("bpmn");
    outcome(result)
}

// ------------------------------------------------------------------ DMN

/// A decision table built from generated FEEL texts.
#[derive(Clone, Debug)]
struct GeneratedTable {
    hit_policy: &'static str,
    inputs: Vec<String>,
    rules: Vec<(Vec<String>, String)>,
    vars: Value,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\0', "")
}

impl GeneratedTable {
    fn xml(&self) -> String {
        let mut x = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" name="n" namespace="http://example.com">
<decision id="d" name="D"><decisionTable id="t" {}>
"#,
            self.hit_policy
        );
        for (i, input) in self.inputs.iter().enumerate() {
            x += &format!(
                "<input id=\"i{i}\"><inputExpression><text>{}</text></inputExpression></input>\n",
                xml_escape(input)
            );
        }
        x += "<output id=\"o\" name=\"o\"/>\n";
        for (r, (tests, output)) in self.rules.iter().enumerate() {
            x += &format!("<rule id=\"r{r}\">");
            for t in tests.iter().take(self.inputs.len()) {
                x += &format!("<inputEntry><text>{}</text></inputEntry>", xml_escape(t));
            }
            x += &format!(
                "<outputEntry><text>{}</text></outputEntry></rule>\n",
                xml_escape(output)
            );
        }
        x + "</decisionTable></decision></definitions>"
    }
}

fn generated_table() -> impl Strategy<Value = GeneratedTable> {
    (
        prop::sample::select(vec![
            "",
            "hitPolicy=\"FIRST\"",
            "hitPolicy=\"ANY\"",
            "hitPolicy=\"COLLECT\"",
            "hitPolicy=\"COLLECT\" aggregation=\"SUM\"",
            "hitPolicy=\"COLLECT\" aggregation=\"MAX\"",
            "hitPolicy=\"RULE ORDER\"",
        ]),
        prop::collection::vec(feel_text(), 1..3),
        prop::collection::vec(
            (prop::collection::vec(feel_text(), 2..3), feel_text()),
            0..4,
        ),
        json_vars(),
    )
        .prop_map(|(hit_policy, inputs, rules, vars)| GeneratedTable {
            hit_policy,
            inputs,
            rules,
            vars,
        })
}

#[derive(Clone, Debug)]
enum DmnCase {
    File(Mutated, Value),
    Table(GeneratedTable),
}

fn run_dmn(runner: &mut TestRunner) -> Result<(), String> {
    dmn_seeds();
    let slowest = Slowest::new();
    let strategy = prop_oneof![
        2 => (mutated(true), json_vars()).prop_map(|(m, v)| DmnCase::File(m, v)),
        1 => generated_table().prop_map(DmnCase::Table),
    ];
    let result = runner.run(&strategy, |case| {
        slowest.time(&case, || {
            let (bytes, vars) = match &case {
                DmnCase::File(m, vars) => (m.bytes(), vars),
                DmnCase::Table(t) => (t.xml().into_bytes(), &t.vars),
            };
            let vars = as_map(vars);
            match parse_dmn(&bytes) {
                Ok(defs) => {
                    for d in &defs.decisions {
                        if let Ok(r) = defs.evaluate(&d.id, &vars) {
                            let _ = (r.single_entry(), r.collect_entries(), r.result_list());
                        }
                    }
                    let _ = serde_json::to_string(&defs);
                }
                Err(e) => check_located(&e, &bytes)?,
            }
            Ok(())
        })
    });
    slowest.report("dmn");
    outcome(result)
}

// ------------------------------------------------------------------ values

#[rustfmt::skip]
const NAMES: &[&str] = &[
    "x", "y", "a", "b", "n", "s", "xs", "d", "item", "order", "amount", "approved", "name",
];

fn as_map(v: &Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m.clone(),
        other => {
            let mut m = Map::new();
            m.insert("x".into(), other.clone());
            m
        }
    }
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "a",
            "2024-01-31",
            "2024-02-30",
            "10:30:00",
            "2024-01-01T10:00:00Z",
            "2024-01-01T10:00:00+14:00",
            "P1D",
            "PT1H",
            "P1Y2M",
            "-P999999999D",
            "true",
            "1",
            "1.5",
            "x",
            "é💥",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        any::<String>().prop_map(|s| Value::String(s.chars().take(16).collect())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(NAMES), inner), 0..8).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

fn json_vars() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(NAMES), json_value()), 0..6)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

/// Texts built from `tokens`, sometimes with one of `tokens` or `nest`
/// repeated many times (deep nesting, long chains), sometimes arbitrary
/// characters.
fn token_text(
    tokens: &'static [&'static str],
    nest: &'static [&'static str],
) -> impl Strategy<Value = String> {
    let token = prop_oneof![
        6 => prop::sample::select(tokens).prop_map(str::to_string),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => "[a-z]{1,6}",
    ];
    let sep = prop::sample::select(vec![" ", " ", "", "\n"]);
    let joined = prop::collection::vec((token, sep), 0..32)
        .prop_map(|parts| parts.into_iter().map(|(t, s)| t + s).collect::<String>());
    prop_oneof![
        8 => joined.clone(),
        2 => (
            joined.clone(),
            prop_oneof![
                prop::sample::select(tokens),
                prop::sample::select(nest)
            ],
            prop_oneof![1usize..100, 100usize..20_000],
            joined
        )
            .prop_map(|(a, t, n, b)| format!("{a}{}{b}", t.repeat(n))),
        2 => any::<String>().prop_map(|s| s.chars().take(64).collect()),
    ]
}

// ------------------------------------------------------------------ expressions

#[rustfmt::skip]
const EXPR_TOKENS: &[&str] = &[
    "${", "#{", "}", "{", "(", ")", "[", "]", ".", ",", "?", ":", ";", "!", "-", "+", "*", "/",
    "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "=", "=>", "..", "..=", "|", "'", "\"",
    "'a'", "\"b\"", "'\\''", "\"\\\"\"", "`", "0", "1", "1.5", "1e308", "-1", "0x10",
    "9223372036854775807", "x", "y", "a", "b", "s", "xs", "order", "amount", "approved",
    "name", "and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "div", "mod", "null",
    "empty", "instanceof", "true", "false", "let", "const", "fn", "if", "else", "while",
    "loop", "for", "in", "break", "continue", "return", "throw", "try", "catch", "switch",
    "import", "export", "eval", "print", "debug", "this", "Fn", "call", "curry", "type_of",
    "is_empty_value", "len", "pad", "push", "append", "+=", "*=", "x.len()", "s.pad(100000, 's')",
    "[1, 2, 3]", "#{a: 1}", "0..100000", "order.total", "order.items[0]", "xs[-1]",
];

#[rustfmt::skip]
const SCRIPT_TOKENS: &[&str] = &[
    "let x = 1;", "x += 1;", "s += s;", "xs.push(xs);", "loop { x += 1; }", "while x < 1000000 { x += 1; }",
    "for i in 0..100000 { }", "fn f(n) { f(n + 1) }", "f(0);", "return x;", "throw \"no\";",
    "let s = \"abc\";", "let xs = [];", "xs.pad(1000000, 0);", "s.pad(10000000, 'a');",
    "[1, 2, 3]", "#{a: #{b: 1}}", "_private = 2;", "x", ";", "{", "}", "(", ")", "if x > 1 {",
    "} else {", "eval(\"1\")", "import \"m\";", "print(x);", "debug(x);", "x.len()",
];

#[rustfmt::skip]
const EXPR_NEST: &[&str] = &[
    "empty ", "not ", "!", "-", "(", "[", "${", "#{", "{", "x.", "x[0]", "'", "\\", "${x}",
    "a ? ", "and ", "1 + ",
];

#[rustfmt::skip]
const SCRIPT_NEST: &[&str] = &[
    "{", "(", "[", "if x {", "loop {", "fn f() {", "#{a:", "let a = ", "x.", "\"", "//", "/*",
    "-", "!", "|x| ",
];

#[derive(Clone, Debug)]
struct ExprCase {
    text: String,
    script: String,
    vars: Value,
}

fn run_expr(runner: &mut TestRunner) -> Result<(), String> {
    let slowest = Slowest::new();
    let strategy = (
        token_text(EXPR_TOKENS, EXPR_NEST),
        prop_oneof![3 => token_text(SCRIPT_TOKENS, SCRIPT_NEST), 1 => token_text(EXPR_TOKENS, EXPR_NEST)],
        json_vars(),
    )
        .prop_map(|(text, script, vars)| ExprCase { text, script, vars });
    let result = runner.run(&strategy, |case| {
        slowest.time(&case, || {
            let mut vars = bpmn_engine::bindings::PlainBindings {
                variables: as_map(&case.vars),
                now: None,
            };
            if let Ok(e) = Expr::compile(&case.text) {
                let _ = e.source();
                let _ = e.eval(&mut vars);
                let _ = e.eval_bool(&mut vars);
            }
            if let Ok(t) = Template::parse(&case.text) {
                let _ = t.eval(&mut vars);
                let _ = (t.source(), t.is_literal());
            }
            if let Ok(s) = Script::compile(&case.script) {
                let _ = s.run(&mut vars);
            }
            Ok(())
        })
    });
    slowest.report("expr");
    outcome(result)
}

// ------------------------------------------------------------------ FEEL

#[rustfmt::skip]
const FEEL_TOKENS: &[&str] = &[
    "x", "y", "a", "b", "n", "s", "xs", "d", "item", "?", "cellInput", "Monthly Income", "a.b",
    "xs[1]", "xs[-1]", "xs[item > 1]", "if", "then", "else", "and", "or", "not", "not(", "in",
    "between", "instance", "of", "for", "some", "every", "satisfies", "return", "function",
    "null", "true", "false", "date(", "time(", "date and time(", "duration(", "string(",
    "number(", "contains(", "starts with(", "ends with(", "upper case(", "lower case(",
    "string length(", "substring(", "string join(", "count(", "sum(", "min(", "max(", "mean(",
    "all(", "any(", "list contains(", "abs(", "floor(", "ceiling(", "decimal(", "modulo(",
    "is defined(", "get value(", "0", "1", "-1", "1.5", ".5", "1e5", "9223372036854775807",
    "99999999999999999999", "\"\"", "\"a\"", "\"\\u00e9\"", "\"\\\"\"", "\"2024-01-31\"",
    "\"10:30:00\"", "\"2024-01-01T10:00:00+01:00\"", "\"P1D\"", "\"PT1H\"", "\"P1Y2M\"",
    "\"-P999999999D\"", "date(\"2024-02-29\")", "time(\"23:59:59\")",
    "date and time(\"2024-01-01T10:00:00Z\")", "duration(\"P999999999Y\")",
    "duration(\"-PT1S\")", "+", "-", "*", "/", "**", "=", "!=", "<", "<=", ">", ">=", "(", ")",
    "[", "]", "{", "}", ",", ":", ".", "..", "[1..10]", "(1..10)", "]1..10[", "{a: 1}",
    "{\"b\": a}", "// c\n", "/* c */", "/*", "\"",
];

#[rustfmt::skip]
const FEEL_NEST: &[&str] = &[
    "(", "[", "{a:", "-", "not(", "if x then ", "date(", "[1..", "x in [", "x in (", "a.", "1+",
    "xs[", "count(", "\"", "/*", "?", "- -", "not(not(", "{\"a\": {b:",
];

#[derive(Clone, Debug)]
struct FeelCase {
    text: String,
    input: Value,
    vars: Value,
}

fn feel_text() -> impl Strategy<Value = String> {
    token_text(FEEL_TOKENS, FEEL_NEST)
}

fn run_feel(runner: &mut TestRunner) -> Result<(), String> {
    let slowest = Slowest::new();
    let strategy = (feel_text(), json_value(), json_vars())
        .prop_map(|(text, input, vars)| FeelCase { text, input, vars });
    let result = runner.run(&strategy, |case| {
        slowest.time(&case, || {
            let vars = as_map(&case.vars);
            let chars = case.text.chars().count();
            match Expression::parse(&case.text) {
                Ok(e) => {
                    let _ = e.eval(&vars).map_err(|e| e.to_string());
                }
                Err(e) => {
                    prop_assert!(e.parse, "a parse error not marked as one: {e}");
                    prop_assert!(e.column.is_none_or(|c| c >= 1 && c <= chars + 1), "{e}");
                    let _ = e.to_string();
                }
            }
            match UnaryTests::parse(&case.text) {
                Ok(t) => {
                    let _ = t.matches(&case.input, &vars).map_err(|e| e.to_string());
                }
                Err(e) => {
                    prop_assert!(e.column.is_none_or(|c| c >= 1 && c <= chars + 1), "{e}");
                }
            }
            Ok(())
        })
    });
    slowest.report("feel");
    outcome(result)
}

// ------------------------------------------------------------------ time

#[rustfmt::skip]
const TIME_TOKENS: &[&str] = &[
    "P", "p", "T", "R", "R/", "R0/", "R3/", "R4294967296/", "/", "-", "+", ":", ".", ",", "Z",
    "z", "Y", "M", "W", "D", "H", "S", "1", "0", "59", "60", "99", "9999999999", "1.5",
    "2025", "2025-03-01", "-9999", "T09:00:00", "+01:00", "-14:00", "[UTC]", "*", "*/5",
    "1-5", "MON-FRI", "SUN", "L", "W", "#", "?", "JAN", "DEC", "0 0 * * *", "0 0 31 2 *",
    "0 0 29 2 MON", "* * * * * *", "0 0 0 1 1 * 2099", " ",
];

#[rustfmt::skip]
const TIME_NEST: &[&str] = &["R", "P", "T", "/", "-", "* ", "1", ",", "1Y", "T1H", "0 "];

#[derive(Clone, Debug)]
struct TimeCase {
    text: String,
    now: i64,
    fired: u32,
}

fn run_time(runner: &mut TestRunner) -> Result<(), String> {
    let slowest = Slowest::new();
    let min = jiff::Timestamp::MIN.as_second();
    let max = jiff::Timestamp::MAX.as_second();
    let strategy = (
        token_text(TIME_TOKENS, TIME_NEST),
        prop_oneof![4 => 0i64..4_102_444_800, 1 => min..=max],
        prop_oneof![3 => 0u32..4, 1 => any::<u32>()],
    )
        .prop_map(|(text, now, fired)| TimeCase { text, now, fired });
    let result = runner.run(&strategy, |case| {
        slowest.time(&case, || {
            let now = jiff::Timestamp::from_second(case.now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            if let Ok(span) = time::parse_duration(&case.text) {
                let _ = time::add(now, span);
            }
            let _ = time::parse_datetime(&case.text);
            let _ = time::due(&case.text, now);
            if let Ok(cycle) = time::parse_cycle(&case.text) {
                let mut last = now;
                for fired in [case.fired, case.fired.saturating_add(1), 0] {
                    match cycle.next(fired, last) {
                        Some(next) => last = next,
                        None => break,
                    }
                }
            }
            let _ = time::parse_retry_cycle(&case.text);
            Ok(())
        })
    });
    slowest.report("time");
    outcome(result)
}

// ------------------------------------------------------------------ forms

#[derive(Clone, Debug)]
struct FormCase {
    fields: Vec<FormField>,
    input: Value,
    posted: Vec<(String, String)>,
}

const FIELD_IDS: &[&str] = &["a", "b", "name", "amount", "approved", "when", "kind", ""];

fn field_type() -> impl Strategy<Value = FieldType> {
    prop_oneof![
        Just(FieldType::String),
        Just(FieldType::Long),
        Just(FieldType::Boolean),
        Just(FieldType::Date),
        prop::collection::vec((text(), text()), 0..4).prop_map(|values| FieldType::Enum { values }),
    ]
}

fn form_field() -> impl Strategy<Value = FormField> {
    let small = prop_oneof![
        Just(None),
        (0usize..64).prop_map(Some),
        any::<usize>().prop_map(Some)
    ];
    let bound = prop_oneof![
        Just(None),
        (-100i64..100).prop_map(Some),
        any::<i64>().prop_map(Some)
    ];
    (
        prop::sample::select(FIELD_IDS),
        prop::option::of(text()),
        field_type(),
        prop::option::of(json_leaf()),
        (
            any::<bool>(),
            any::<bool>(),
            small.clone(),
            small,
            bound.clone(),
            bound,
        ),
        prop::collection::vec((text(), text()), 0..2),
    )
        .prop_map(
            |(
                id,
                label,
                ty,
                default,
                (required, readonly, minlength, maxlength, min, max),
                properties,
            )| {
                FormField {
                    id: id.to_string(),
                    label,
                    ty,
                    default,
                    constraints: Constraints {
                        required,
                        readonly,
                        minlength,
                        maxlength,
                        min,
                        max,
                    },
                    properties,
                }
            },
        )
}

fn run_form(runner: &mut TestRunner) -> Result<(), String> {
    let slowest = Slowest::new();
    let posted_key = prop_oneof![
        3 => prop::sample::select(FIELD_IDS).prop_map(|id| format!("f.{id}")),
        1 => text(),
    ];
    let strategy = (
        prop::collection::vec(form_field(), 0..5),
        prop::collection::vec(
            (
                prop_oneof![3 => prop::sample::select(FIELD_IDS).prop_map(str::to_string), 1 => text()],
                json_value(),
            ),
            0..6,
        )
        .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        prop::collection::vec((posted_key, text()), 0..6),
    )
        .prop_map(|(fields, input, posted)| FormCase {
            fields,
            input,
            posted,
        });
    let result = runner.run(&strategy, |case| {
        slowest.time(&case, || {
            let input = as_map(&case.input);
            for field in &case.fields {
                for v in input.values() {
                    // Coercing what coercion gave changes nothing.
                    if let Ok(Some(once)) = form::coerce(&field.ty, v) {
                        let twice = form::coerce(&field.ty, &once);
                        prop_assert_eq!(twice, Ok(Some(once)), "{:?}", field.ty);
                    }
                }
            }
            if let Ok(out) = form::validate(&case.fields, &input)
                && !case.fields.is_empty()
            {
                for key in out.keys() {
                    prop_assert!(case.fields.iter().any(|f| f.id == *key), "{key}");
                }
            }
            let posted = form::posted_values(&case.fields, &case.posted);
            let _ = form::validate(&case.fields, &posted);
            for (_, v) in &case.posted {
                let _ = form::parse_date(v);
            }
            Ok(())
        })
    });
    slowest.report("form");
    outcome(result)
}

// ------------------------------------------------------------------ found by fuzzing

/// `empty empty ... x` was translated by one recursive call per `empty`:
/// ten thousand of them overflowed the stack.
#[test]
fn fuzz_found_deeply_nested_empty() {
    let mut vars = bpmn_engine::bindings::PlainBindings {
        variables: as_map(&json!({"x": []})),
        now: None,
    };
    let nested = |n: usize| format!("${{{}x}}", "empty ".repeat(n));
    // Moderate nesting works...
    let e = Expr::compile(&nested(3)).unwrap();
    assert_eq!(e.eval(&mut vars).unwrap(), json!(false));
    let e = Expr::compile(&nested(20)).unwrap();
    assert_eq!(e.eval(&mut vars).unwrap(), json!(false));
    // ...and deeper nesting is refused, with a reason, not a crash.
    for n in [100, 10_000, 100_000] {
        let err = Expr::compile(&nested(n)).unwrap_err();
        assert!(
            err.contains("nested too deeply (more than 64 levels"),
            "{err}"
        );
        assert!(Template::parse(&format!("a {} b", nested(n))).is_err());
        assert!(Expr::compile(&("not ".repeat(n) + "empty x")).is_err());
    }
}

/// Too many namespace declarations in scope were refused at 1:1, far from
/// where they were.
#[test]
fn fuzz_found_namespace_errors_are_located() {
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">\n\
         <bpmn:process id=\"P\">{}{}</bpmn:process></bpmn:definitions>",
        "<x:a xmlns:x=\"u\">".repeat(200),
        "</x:a>".repeat(200)
    );
    let err = model::parse(xml.as_bytes()).unwrap_err();
    let d = err.errors().next().unwrap();
    assert!(d.message.contains("namespace"), "{d}");
    assert_eq!(d.line, 3, "{d}");
    assert!(d.column > 1000, "{d}");
}

/// A cron field of nothing but commas matched no time, and each look for the
/// next firing walked through a year of seconds: 8.5 s per timer.
#[test]
fn fuzz_found_cron_fields_that_match_nothing() {
    for text in [
        ",\n* * * * * *",
        ", * * * *",
        "0 , * * *",
        "0 0 ,, * *",
        "0 0 * , *",
        "0 0 * * ,",
        "0 0 0 * * * ,",
    ] {
        let err = time::parse_cycle(text).unwrap_err();
        assert!(err.contains("field allows no value"), "{text}: {err}");
    }
    // Ordinary and Quartz-style expressions, modifiers included, still read.
    let from = jiff::Timestamp::from_second(1_735_689_600).unwrap(); // 2025-01-01
    for text in [
        "0 9 * * MON-FRI",
        "0 0 9 * * *",
        "*/10 * * * * *",
        "0 0 12 ? * MON",
        "0 */5 * * * ?",
        "0 0 L * *",
        "0 0 * * 5L",
        "0 0 * * 1#2",
        "0 0 15W * *",
        "0 0 29 2 *",
        "0 0 0 1 1 * 2099",
        "1,2,,3 * * * *",
        "0 0/5 * * * ?",
    ] {
        let cycle = time::parse_cycle(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(cycle.next(0, from).is_some(), "{text}");
    }
}

/// Six and seven fields are Quartz's, as Camunda 7 reads them: `0/5` starts
/// at 0 and steps by 5, and days of the week run from 1 (Sunday) to 7
/// (Saturday). Five fields stay Unix cron's, where 1 is Monday.
#[test]
fn quartz_cron_as_camunda_reads_it() {
    let at = |text: &str| {
        let from = jiff::Timestamp::from_second(1_735_689_600).unwrap(); // Wed 2025-01-01 00:00Z
        let cycle = time::parse_cycle(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let first = cycle.next(0, from).unwrap();
        let second = cycle.next(1, first).unwrap();
        (first.to_string(), second.to_string())
    };
    assert_eq!(
        at("0 0/5 * * * ?"),
        ("2025-01-01T00:05:00Z".into(), "2025-01-01T00:10:00Z".into())
    );
    assert_eq!(
        at("0 10/20 * * * ?"),
        ("2025-01-01T00:10:00Z".into(), "2025-01-01T00:30:00Z".into())
    );
    // Quartz 1 is Sunday: 2025-01-05. Unix 1 is Monday: 2025-01-06.
    assert_eq!(at("0 0 9 ? * 1").0, "2025-01-05T09:00:00Z");
    assert_eq!(at("0 9 * * 1").0, "2025-01-06T09:00:00Z");
    assert_eq!(at("0 0 9 ? * MON").0, "2025-01-06T09:00:00Z");
    // Quartz has no day 0; Unix cron keeps its own rule (no `0/5` steps).
    assert!(time::parse_cycle("0 0 9 ? * 0").is_err());
    assert!(time::parse_cycle("0/5 * * * *").is_err());
}
