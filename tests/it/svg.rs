//! The diagram drawn as SVG: well-formed, one group per shape with its element id,
//! the BPMN markers, overlays, links and escaped names; and every MIWG file that
//! can be read renders without a panic.
//!
//! Set `BPMN_SVG_OUT=/some/dir` to also write the rendered MIWG reference files
//! there, for a look with `rsvg-convert`.

use std::path::{Path, PathBuf};

use bpmn_engine::model::svg::{self, Figures, Mark, MarkState, Overlay};
use bpmn_engine::model::{self, Definitions};
use quick_xml::events::Event;

fn demo() -> Definitions {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpmn/demo.bpmn");
    model::parse(&std::fs::read(path).unwrap()).unwrap()
}

/// Writes the SVG under `$BPMN_SVG_OUT`, when set, for a look.
fn dump(name: &str, svg: &str) {
    if let Some(dir) = std::env::var_os("BPMN_SVG_OUT").map(PathBuf::from) {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), svg).unwrap();
    }
}

/// Parses the SVG back and fails unless it is well-formed XML with namespaces
/// (no attribute twice, `xmlns` included) and ends with `</svg>`.
pub(crate) fn assert_well_formed(svg: &str) {
    let mut reader = quick_xml::NsReader::from_str(svg);
    reader.config_mut().check_end_names = true;
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                for a in e.attributes().with_checks(true) {
                    a.unwrap_or_else(|e| panic!("bad attribute: {e}\n{svg}"));
                }
            }
            Ok(Event::Empty(e)) => {
                for a in e.attributes().with_checks(true) {
                    a.unwrap_or_else(|e| panic!("bad attribute: {e}\n{svg}"));
                }
            }
            Ok(Event::End(_)) => {
                depth -= 1;
                assert!(depth >= 0, "unbalanced end tag");
            }
            Ok(Event::Eof) => break,
            Ok(Event::GeneralRef(r)) => {
                let name = r.xml10_content();
                assert!(
                    r.resolve_char_ref().unwrap().is_some()
                        || quick_xml::escape::resolve_predefined_entity(&name).is_some(),
                    "unknown entity &{name};"
                );
            }
            Ok(Event::DocType(_)) => panic!("no DOCTYPE expected"),
            Ok(_) => {}
            Err(e) => panic!(
                "not well-formed at {}: {e}\n{svg}",
                reader.buffer_position()
            ),
        }
    }
    assert_eq!(depth, 0, "elements left open");
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
    let head = &svg[..svg.find('>').unwrap()];
    assert_eq!(
        head.matches("xmlns=").count(),
        1,
        "one xmlns on <svg>: {head}"
    );
}

#[test]
#[should_panic(expected = "bad attribute")]
fn the_xml_check_refuses_a_duplicate_xmlns() {
    assert_well_formed(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns=\"http://www.w3.org/2000/svg\"></svg>",
    );
}

#[test]
fn the_svg_of_every_example_parses_as_xml() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpmn");
    let mut files = Vec::new();
    bpmn_files(&dir, &mut files);
    files.sort();
    let mut drawn = 0;
    for path in &files {
        let defs = model::parse_for_drawing(&std::fs::read(path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        for i in 0..defs.diagrams.len() {
            if let Some(svg) = svg::render_diagram(&defs, i, &Overlay::default()) {
                assert_well_formed(&svg);
                drawn += 1;
            }
        }
    }
    assert!(
        drawn >= files.len(),
        "{drawn} diagrams of {} files",
        files.len()
    );
}

#[test]
fn icons_of_throw_events_are_light_on_dark() {
    let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" id="d">
  <message id="m" name="sent"/>
  <process id="p" isExecutable="false">
    <endEvent id="End_sent"><messageEventDefinition messageRef="m"/></endEvent>
  </process>
  <bpmndi:BPMNDiagram id="dia"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
    <bpmndi:BPMNShape id="s" bpmnElement="End_sent"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</definitions>"#;
    let defs = model::parse_for_drawing(xml.as_bytes()).unwrap();
    let svg = svg::render(&defs, &Overlay::default()).unwrap();
    assert_well_formed(&svg);
    // The envelope of a throwing message event: a dark body, light lines, and
    // its flap not filled (it would hide the lines).
    assert!(
        body_of(&svg, "End_sent").contains(
            "fill=\"currentColor\"/><path d=\"M-9.5-6.5 0 1 9.5-6.5\" fill=\"none\" stroke=\"#fff\"/>"
        ),
        "{svg}"
    );
}

/// The opening tag of the group of an element.
fn group_of<'s>(svg: &'s str, id: &str) -> &'s str {
    let at = svg
        .find(&format!("data-element=\"{id}\""))
        .unwrap_or_else(|| panic!("no group for {id}"));
    let start = svg[..at].rfind('<').unwrap();
    let end = at + svg[at..].find('>').unwrap();
    &svg[start..=end]
}

/// The markup of an element's group, up to the next group.
fn body_of<'s>(svg: &'s str, id: &str) -> &'s str {
    let at = svg.find(&format!("data-element=\"{id}\"")).unwrap();
    let rest = &svg[at..];
    let end = rest[1..]
        .find("data-element=")
        .map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

#[test]
fn the_demo_diagram_renders_as_well_formed_svg() {
    let defs = demo();
    let svg = svg::render(&defs, &Overlay::default()).unwrap();
    dump("demo.svg", &svg);
    assert_well_formed(&svg);
    assert!(svg.contains("viewBox=\""));
    assert!(svg.contains("role=\"img\""));
    assert!(svg.contains("aria-label=\"BPMN diagram"));
    assert!(!svg.contains(" width=\"100%\""));
    assert!(svg.contains("<style>"));
    let diagram = &defs.diagrams[0];
    for shape in &diagram.shapes {
        let needle = format!("data-element=\"{}\"", shape.element);
        assert_eq!(svg.matches(&needle).count(), 1, "{}", shape.element);
    }
    for edge in &diagram.edges {
        assert!(svg.contains(&format!("data-element=\"{}\"", edge.element)));
    }
    assert_eq!(
        svg.matches("data-element=").count(),
        diagram.shapes.len() + diagram.edges.len()
    );
    assert!(group_of(&svg, "t0").contains("class=\"shape task user-task\""));
    assert!(group_of(&svg, "Lane_Marko").contains("lane"));
    assert!(group_of(&svg, "Participant_demo").contains("pool"));
}

#[test]
fn lanes_markers_and_default_flows_are_drawn() {
    let svg = svg::render(&demo(), &Overlay::default()).unwrap();
    assert!(svg.contains(">Marko</text>"), "lane names");
    assert!(svg.contains(">Pero</text>"));
    assert!(svg.contains("rotate(-90"), "lane names are written upwards");
    // The join gateway has the parallel marker (a plus), the choice the X.
    let join = body_of(&svg, "ParallelGateway_0vffee4");
    assert!(join.contains("M-12-2.5H-2.5V-12"), "{join}");
    let choice = body_of(&svg, "ExclusiveGateway_choice");
    assert!(choice.contains("M-7.07-10.61"), "{choice}");
    // The default flow has its slash, the other one does not.
    let default = body_of(&svg, "Flow_choice_tdown2");
    assert_eq!(default.matches("<path").count(), 2, "{default}");
    let conditional = body_of(&svg, "Flow_choice_tup2");
    assert_eq!(conditional.matches("<path").count(), 1, "{conditional}");
    assert!(svg.contains("marker-end=\"url(#bpmn-seq)\""));
    assert!(svg.contains("<marker id=\"bpmn-seq\""));
    assert!(svg.contains(">Which way?</text>"), "gateway label");
    assert!(svg.contains(">otherwise</text>"), "flow label");
}

#[test]
fn overlay_classes_badges_links_and_titles_appear() {
    let mut overlay = Overlay::default();
    overlay.marks.insert(
        "tup".into(),
        Mark {
            state: Some(MarkState::Active),
            count: 1,
            href: Some("?element=tup&x=1#history".into()),
            title: Some("Up <waiting>".into()),
        },
    );
    overlay.marks.insert(
        "t0".into(),
        Mark {
            state: Some(MarkState::Completed),
            count: 3,
            ..Mark::default()
        },
    );
    overlay.marks.insert(
        "t3".into(),
        Mark {
            state: Some(MarkState::Incident),
            ..Mark::default()
        },
    );
    overlay.marks.insert(
        "Flow_start_t0".into(),
        Mark {
            state: Some(MarkState::Completed),
            ..Mark::default()
        },
    );
    let svg = svg::render(&demo(), &overlay).unwrap();
    dump("demo-overlay.svg", &svg);
    assert_well_formed(&svg);
    assert!(group_of(&svg, "tup").contains("class=\"shape task user-task active\""));
    assert!(group_of(&svg, "t0").contains("completed"));
    assert!(group_of(&svg, "t3").contains("service-task incident"));
    assert!(group_of(&svg, "Flow_start_t0").contains("flow sequence-flow completed"));
    assert!(svg.contains("url(#bpmn-seq-completed)"));
    // The count badge only where it completed more than once.
    let t0 = body_of(&svg, "t0");
    assert!(
        t0.contains("class=\"badge\"") && t0.contains(">3</text>"),
        "{t0}"
    );
    assert!(!body_of(&svg, "tup").contains("badge"));
    // The link wraps the marked shape.
    // named for screen readers by its title, and with a focus ring drawn
    // last, above the shape's border.
    let link = "<a href=\"?element=tup&amp;x=1#history\" aria-label=\"Up &lt;waiting&gt;\"><g class=\"shape task user-task active\" data-element=\"tup\"><title>Up &lt;waiting&gt;</title>";
    assert!(svg.contains(link), "{svg}");
    assert!(body_of(&svg, "tup").contains(
        "<rect class=\"ring\" x=\"555\" y=\"135\" width=\"110\" height=\"90\" rx=\"8\"/></g></a>"
    ));
    // A drawing with links is a group (an image would hide them from screen readers).
    assert!(svg.contains("role=\"group\""));
    assert!(svg.contains("width=\"1400\" height=\"440\""), "drawn 1:1");
    assert!(svg.contains(".bpmn .active"), "overlay styles");
}

const ESCAPED: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
    xmlns:bioc="http://bpmn.io/schema/bpmn/biocolor/1.0" id="d">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s" name="a &lt;b&gt; &amp; &quot;c&quot;"/>
    <bpmn:task id="t" name="&lt;i&gt;x&lt;/i&gt;"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dia">
    <bpmndi:BPMNPlane id="plane" bpmnElement="p">
      <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="t_di" bpmnElement="t" bioc:stroke="red&quot; onload=&quot;x" bioc:fill="#ffcdd2"><dc:Bounds x="200" y="80" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="e_di" bpmnElement="e"><dc:Bounds x="350" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="200" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="300" y="118"/><di:waypoint x="350" y="118"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>"##;

#[test]
fn statistics_are_badges_and_a_fill_colour() {
    let mut overlay = Overlay::default();
    overlay.figures.insert(
        "tup".into(),
        Figures {
            active: 3,
            completed: 12_345,
            cancelled: 0,
            incidents: 1,
            fill: Some("#fca5a5".into()),
            title: "Up: 3 active <now>".into(),
        },
    );
    let svg = svg::render(&demo(), &overlay).unwrap();
    dump("demo-statistics.svg", &svg);
    assert_well_formed(&svg);
    let up = body_of(&svg, "tup");
    assert!(up.contains("style=\"fill:#fca5a5\""), "{up}");
    assert!(
        up.contains("<g class=\"stats\"><title>Up: 3 active &lt;now&gt;</title>"),
        "{up}"
    );
    assert!(up.contains(">3</text>") && up.contains(">1</text>"), "{up}");
    assert!(up.contains(">12.3k</text>"), "{up}");
    // No badge for a zero.
    assert!(!up.contains(">0</text>"), "{up}");
    assert_eq!(up.matches("<rect x=").count(), 3, "{up}");
    // Other elements keep their look.
    assert!(!body_of(&svg, "t0").contains("stats"));
}

#[test]
fn names_and_colours_from_the_file_are_escaped() {
    let defs = model::parse(ESCAPED.as_bytes()).unwrap();
    let svg = svg::render(&defs, &Overlay::default()).unwrap();
    assert_well_formed(&svg);
    assert!(svg.contains("a &lt;b&gt; &amp; &quot;c&quot;"), "{svg}");
    assert!(svg.contains(">&lt;i&gt;x&lt;/i&gt;</text>"));
    assert!(!svg.contains("<i>"));
    assert!(
        !svg.contains("onload"),
        "a colour that is no colour is dropped"
    );
    assert!(
        svg.contains("style=\"fill:#ffcdd2\""),
        "the file's fill applies"
    );
    // Under an overlay state the file's colours give way.
    let mut overlay = Overlay::default();
    overlay.marks.insert(
        "t".into(),
        Mark {
            state: Some(MarkState::Active),
            ..Mark::default()
        },
    );
    let marked = svg::render(&defs, &overlay).unwrap();
    assert!(!marked.contains("fill:#ffcdd2"));
}

#[test]
fn a_file_without_layout_renders_nothing() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"#;
    let defs = model::parse(xml.as_bytes()).unwrap();
    assert!(defs.diagrams.is_empty());
    assert_eq!(svg::render(&defs, &Overlay::default()), None);
    assert_eq!(svg::render_diagram(&defs, 3, &Overlay::default()), None);
}

#[test]
fn files_the_engine_refuses_can_still_be_drawn() {
    let xml = ESCAPED.replace(
        r#"<bpmn:endEvent id="e"/>"#,
        r#"<bpmn:endEvent id="e"/><bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:timerEventDefinition/></bpmn:boundaryEvent>"#,
    );
    assert!(model::parse(xml.as_bytes()).is_err());
    let defs = model::parse_for_drawing(xml.as_bytes()).unwrap();
    assert!(svg::render(&defs, &Overlay::default()).is_some());
    assert!(model::parse_for_drawing(b"<not-bpmn/>").is_err());
    assert!(model::parse_for_drawing(b"<bpmn:definitions").is_err());
}

const ARTIFACTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d">
  <bpmn:category id="c"><bpmn:categoryValue id="cv" value="Checks"/></bpmn:category>
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:task id="t" name="Check"><bpmn:multiInstanceLoopCharacteristics/></bpmn:task>
    <bpmn:boundaryEvent id="b" attachedToRef="t" cancelActivity="false"><bpmn:timerEventDefinition/></bpmn:boundaryEvent>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"><bpmn:conditionExpression>${ok}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:textAnnotation id="a"><bpmn:text>Ask Ana</bpmn:text></bpmn:textAnnotation>
    <bpmn:association id="as" sourceRef="t" targetRef="a"/>
    <bpmn:group id="g" categoryValueRef="cv"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dia">
    <bpmndi:BPMNPlane id="plane" bpmnElement="p">
      <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="t_di" bpmnElement="t"><dc:Bounds x="200" y="80" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="b_di" bpmnElement="b"><dc:Bounds x="232" y="142" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="e_di" bpmnElement="e"><dc:Bounds x="350" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="a_di" bpmnElement="a"><dc:Bounds x="300" y="10" width="100" height="30"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="g_di" bpmnElement="g"><dc:Bounds x="180" y="60" width="140" height="140"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="200" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="300" y="118"/><di:waypoint x="350" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="as_di" bpmnElement="as"><di:waypoint x="280" y="80"/><di:waypoint x="300" y="25"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>"#;

#[test]
fn artifacts_loops_boundaries_and_conditions_are_drawn() {
    let defs = model::parse_for_drawing(ARTIFACTS.as_bytes()).unwrap();
    let svg = svg::render(&defs, &Overlay::default()).unwrap();
    dump("artifacts.svg", &svg);
    assert_well_formed(&svg);
    assert!(
        body_of(&svg, "a").contains(">Ask Ana</text>"),
        "annotation text"
    );
    assert!(svg.contains(">Checks</text>"), "group label");
    assert!(
        body_of(&svg, "t").contains("M3 1V13M7 1V13M11 1V13"),
        "parallel multi-instance"
    );
    let boundary = body_of(&svg, "b");
    assert!(
        boundary.contains("stroke-dasharray"),
        "non-interrupting: {boundary}"
    );
    assert!(
        body_of(&svg, "f2").contains("fill=\"#fff\""),
        "conditional diamond"
    );
    assert!(!body_of(&svg, "f1").contains("fill=\"#fff\""));
    assert!(
        body_of(&svg, "as").contains("stroke-dasharray=\"1 4\""),
        "dotted association"
    );
}

fn miwg() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/bpmn-miwg-test-suite");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} is absent; skipping the MIWG drawing test",
            dir.display()
        );
        None
    }
}

fn bpmn_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            bpmn_files(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("bpmn") || x.eq_ignore_ascii_case("xml"))
        {
            out.push(p);
        }
    }
}

#[test]
fn every_miwg_file_that_reads_renders_well_formed() {
    let Some(root) = miwg() else { return };
    let mut files = Vec::new();
    bpmn_files(&root, &mut files);
    files.sort();
    let (mut drawn, mut unreadable, mut without_layout) = (0, 0, 0);
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let Ok(defs) = model::parse_for_drawing(&bytes) else {
            unreadable += 1;
            continue;
        };
        for i in 0..defs.diagrams.len().max(1) {
            let Some(svg) = svg::render_diagram(&defs, i, &Overlay::default()) else {
                without_layout += 1;
                continue;
            };
            assert_well_formed(&svg);
            drawn += 1;
            let rel = path.strip_prefix(&root).unwrap().to_string_lossy();
            dump(&format!("{}-{i}.svg", rel.replace(['/', ' '], "_")), &svg);
        }
    }
    eprintln!(
        "miwg: {} files, {drawn} diagrams drawn, {without_layout} without layout, {unreadable} unreadable",
        files.len()
    );
    assert!(drawn > 0);
}

#[test]
fn the_elements_of_the_examples_are_drawn_with_their_markers() {
    let read = |name: &str| {
        let path = format!("{}/bpmn/{name}", env!("CARGO_MANIFEST_DIR"));
        let defs = model::parse_for_drawing(&std::fs::read(path).unwrap()).unwrap();
        let svg = svg::render(&defs, &Overlay::default()).unwrap();
        assert_well_formed(&svg);
        svg
    };
    let call = read("call-activity.bpmn");
    assert!(
        body_of(&call, "CallActivity_pay").contains("stroke-width=\"4.5\""),
        "a call activity has a thick border"
    );
    assert!(
        body_of(&call, "CallActivity_pay").contains("M7 3.5V10.5M3.5 7H10.5"),
        "a collapsed call activity has the + marker"
    );
    let rule = read("business-rule.bpmn");
    assert!(
        body_of(&rule, "Task_decide").contains("M7 8H24V11.5H7Z"),
        "the business rule table icon"
    );
    let subs = read("event-subprocess.bpmn");
    assert!(
        body_of(&subs, "SubProcess_reminder")
            .contains("stroke-dasharray=\"0.5 4\" stroke-linecap=\"round\""),
        "an event subprocess is dotted"
    );
    assert!(
        body_of(&subs, "StartEvent_reminder").contains("stroke-dasharray"),
        "a non-interrupting start event is dashed"
    );
    let complex = read("complex-gateway.bpmn");
    assert!(
        body_of(&complex, "Gateway_two_reviews").contains("M0-12V12M-12 0H12"),
        "a complex gateway has its asterisk"
    );
    let ad_hoc = read("ad-hoc-subprocess.bpmn");
    assert!(
        body_of(&ad_hoc, "SubProcess_gather").contains("M1 8.5C3 3.5 6 5 7 7S11 10.5 13 5.5"),
        "an ad-hoc subprocess has its tilde"
    );
    let esp = read("compensation-event-subprocess.bpmn");
    assert!(
        body_of(&esp, "SubProcess_undo_booking")
            .contains("stroke-dasharray=\"0.5 4\" stroke-linecap=\"round\""),
        "a compensation event subprocess is dotted"
    );
    read("instantiating-event-gateway.bpmn");
    let comp = read("compensation.bpmn");
    assert!(
        body_of(&comp, "Task_refund_card").contains("M1 7 7 2.5V11.5ZM7 7 13 2.5V11.5Z"),
        "a compensation handler has the compensation marker"
    );
}
